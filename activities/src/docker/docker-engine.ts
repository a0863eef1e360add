import { type IncomingMessage, request } from 'node:http';
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

export interface EngineCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Below the API version, with its query: `/containers/create?name=x`. */
  path: string;
  json?: unknown;
  tar?: Buffer;
  /** Socket silence that fails the call; null for long polls and followed streams. Default CALL_TIMEOUT_MS. */
  timeoutMs?: number | null;
}

export interface EngineReply {
  status: number;
  body: Buffer;
}

/** The error message the engine put in a failed reply's `{"message": ...}`, or the body as text. */
export function engineMessage(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: the text itself says it
  }
  return text || 'no reason given';
}

/** A few Docker Engine API calls over its unix socket, with plain `node:http`. */
export class DockerEngine {
  readonly socketPath: string;
  constructor(socketPath: string = DEFAULT_SOCKET_PATH) {
    this.socketPath = socketPath;
  }

  /** An error in reaching the engine, as a user can act on it. */
  unreachable(err: Error & { code?: string }): DockerError {
    if (err instanceof DockerError) return err;
    const why = (err.code !== undefined && UNREACHABLE[err.code]) || err.message;
    return new DockerError('engine_unavailable', `the Docker engine is not reachable at ${this.socketPath}: ${why}; start dockerd on this worker or point it at the engine's socket`);
  }

  /** Sends a call and resolves once the reply's headers arrive, leaving its body to be read (or destroyed). */
  open(call: EngineCall): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const body = call.tar ?? (call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json)));
      const headers: Record<string, string | number> = {};
      if (body !== undefined) {
        headers['Content-Type'] = call.tar ? 'application/x-tar' : 'application/json';
        headers['Content-Length'] = body.byteLength;
      }
      const req = request({ socketPath: this.socketPath, method: call.method, path: `/${API_VERSION}${call.path}`, headers }, resolve);
      const timeoutMs = call.timeoutMs === undefined ? CALL_TIMEOUT_MS : call.timeoutMs;
      if (timeoutMs !== null) {
        req.setTimeout(timeoutMs, () =>
          req.destroy(new DockerError('engine_unavailable', `the Docker engine at ${this.socketPath} did not answer ${call.method} ${call.path.split('?')[0]} within ${timeoutMs / 1000} s`)),
        );
      }
      req.on('error', (err) => reject(this.unreachable(err)));
      req.end(body);
    });
  }

  /** Sends a call and reads its whole reply. */
  async call(call: EngineCall): Promise<EngineReply> {
    const res = await this.open(call);
    return { status: res.statusCode ?? 0, body: await this.read(res) };
  }

  /** Reads a reply's body; a connection lost on the way is the engine's. */
  async read(res: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of res) chunks.push(chunk as Buffer);
    } catch (err) {
      throw this.unreachable(err as Error);
    }
    return Buffer.concat(chunks);
  }

  /** A call whose reply must be 2xx; `what` names it in the error ("starting the container"). */
  async expect(call: EngineCall, what: string): Promise<Buffer> {
    const reply = await this.call(call);
    if (reply.status < 200 || reply.status > 299) throw new DockerError('other', `${what} failed: ${engineMessage(reply.body)}`);
    return reply.body;
  }

  async json<T>(call: EngineCall, what: string): Promise<T> {
    const body = await this.expect(call, what);
    return JSON.parse(body.toString('utf8')) as T;
  }
}

/** Frame kinds of the engine's multiplexed stream (non-TTY logs and attach). */
export type StreamKind = 'stdin' | 'stdout' | 'stderr' | 'system';
const STREAM_KINDS: StreamKind[] = ['stdin', 'stdout', 'stderr', 'system'];

/**
 * Splits the engine's multiplexed stream into frames: an 8-byte header (kind, three zero bytes, big-endian
 * length) before each payload. Headers and payloads may straddle chunks.
 */
export function demultiplexer(onFrame: (kind: StreamKind, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      onFrame(STREAM_KINDS[pending[0]!] ?? 'system', pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  };
}
