import Docker from 'dockerode';
import { DockerError } from './docker-error.ts';

export const DEFAULT_SOCKET_PATH = '/var/run/docker.sock';
/** docker.io 20.10's API version; later engines still serve it. */
const API_VERSION = 'v1.41';
/** How long a short call (create, start, inspect, kill, remove) may leave the socket silent. */
const CALL_TIMEOUT_MS = 60_000;

const UNREACHABLE: Record<string, string> = {
  ENOENT: 'there is no socket there',
  ECONNREFUSED: 'nothing listens on the socket',
  EACCES: "permission denied (the worker's user needs access to the socket, usually through the docker group)",
  ENOTSOCK: 'that path is not a socket',
  ECONNRESET: 'the engine closed the connection',
  EPIPE: 'the engine closed the connection',
};

/** An engine's refusal as dockerode reports it: the HTTP status, and the body it parsed. */
interface EngineRefusal extends Error {
  statusCode: number;
  json?: unknown;
}

export function isRefusal(err: unknown, status?: number): err is EngineRefusal {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' && (status === undefined || code === status);
}

/** What the engine said in a refusal (its `{"message": ...}`), or the error's own words. */
export function engineMessage(err: unknown): string {
  if (isRefusal(err)) {
    const body = err.json;
    if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
    if (typeof body === 'string' && body.trim() !== '') return body.trim();
  }
  return (err as Error).message || 'no reason given';
}

/**
 * The Docker engine on a unix socket, through dockerode: `calls` for requests that answer at once (a minute of
 * silence fails them), `streams` for those that last as long as the container (wait, followed logs, builds).
 */
export class DockerEngine {
  readonly socketPath: string;
  readonly calls: Docker;
  readonly streams: Docker;
  constructor(socketPath: string = DEFAULT_SOCKET_PATH) {
    this.socketPath = socketPath;
    this.calls = new Docker({ socketPath, version: API_VERSION, timeout: CALL_TIMEOUT_MS });
    this.streams = new Docker({ socketPath, version: API_VERSION });
  }

  /** An error in reaching the engine, as a user can act on it. */
  unreachable(err: Error & { code?: string }): DockerError {
    if (err instanceof DockerError) return err;
    const why = (err.code !== undefined && UNREACHABLE[err.code]) || err.message;
    return new DockerError('engine_unavailable', `the Docker engine is not reachable at ${this.socketPath}: ${why}; start dockerd on this worker or point it at the engine's socket`);
  }

  /** Runs a call: not reaching the engine becomes `engine_unavailable`; the engine's refusals stay as they are, for the caller to read. */
  async reach<T>(call: (engine: DockerEngine) => Promise<T>): Promise<T> {
    try {
      return await call(this);
    } catch (err) {
      if (isRefusal(err)) throw err;
      throw this.unreachable(err as Error);
    }
  }

  /** A call that must succeed; `what` names it in the error ("copying the script into the container"). */
  async expect<T>(call: (engine: DockerEngine) => Promise<T>, what: string): Promise<T> {
    try {
      return await this.reach(call);
    } catch (err) {
      if (isRefusal(err)) throw new DockerError('other', `${what} failed: ${engineMessage(err)}`);
      throw err;
    }
  }

  /** The tar archive of one path in a container, as it streams; null when the path is not there. */
  async archive(containerId: string, path: string): Promise<AsyncIterable<Uint8Array> | null> {
    try {
      return (await this.reach((e) => e.calls.getContainer(containerId).getArchive({ path }))) as AsyncIterable<Uint8Array> & NodeJS.ReadableStream;
    } catch (err) {
      if (isRefusal(err, 404)) return null;
      if (isRefusal(err)) throw new Error(engineMessage(err), { cause: err });
      throw err;
    }
  }
}
