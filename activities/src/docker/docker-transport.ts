import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type Docker from 'dockerode';
import { StringDecoder } from 'node:string_decoder';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { renderCommand } from '@drydock/core/manifest';
import { type JobRunOptions, paramText, stopWhen } from '../transport/job-words.ts';
import { lineSplitter, type SecretMask, secretMasker, stderrTail } from '@drydock/core/job-data';
import type { ScriptExit } from '@drydock/core/job-data';
import { type Artifact, type CaptureLimits, containerDistribution, copyArtifacts, DEFAULT_CAPTURE_LIMITS, RUN_DIR } from './container-artifacts.ts';
import { containerOwner, type Owner } from './container-user.ts';
import { DockerEngine, engineMessage, isRefusal } from './docker-engine.ts';
import { DockerError } from './docker-error.ts';
import { POSIX_INTERPRETERS } from '../transport/interpreters.ts';
import { type TarInput, tarArchive } from './tar-archive.ts';
import { paramEnvName } from '@drydock/core/job-data';

export type { ScriptExit, ScriptLine } from '@drydock/core/job-data';
export type { Artifact, CaptureLimits } from './container-artifacts.ts';
export { DockerError, type DockerErrorReason } from './docker-error.ts';
export { DEFAULT_SOCKET_PATH } from './docker-engine.ts';

export interface DockerRunOptions extends JobRunOptions {
  /** The manifest's runner_image; it must already be on the engine, which is never asked to pull. */
  image: string;
  /** Give the container the engine's default network; without it the container has only loopback. */
  network?: boolean;
  limits?: { memoryMb?: number; cpus?: number; pids?: number };
  /** Mount the image read-only; the work directory and /tmp stay writable. */
  readOnlyRootFs?: boolean;
  /** Default /var/run/docker.sock. */
  socketPath?: string;
  /** Caps on the files copied out for `job.capture.artifacts`; default 50 MB a file, 200 MB a run. */
  captureLimits?: CaptureLimits;
}

export interface DockerRunResult {
  exit: ScriptExit;
  /** The files `job.capture.artifacts` matched in the work directory, by name; none when the run was cancelled. */
  artifacts: Artifact[];
  /** What ran, for the environment snapshot: set when `job.capture.environment_snapshot` asks and the run was not cancelled. */
  container?: ContainerFacts;
}

/** The container a run had, as the engine describes it. */
export interface ContainerFacts {
  image: string;
  imageId: string;
  /** The image's USER; empty for root. */
  user: string;
  distribution: Record<string, string> | null;
  engine: { version: string | null; apiVersion: string | null; os: string | null; arch: string | null; kernel: string | null };
}

async function engineVersion(engine: DockerEngine): Promise<ContainerFacts['engine']> {
  const none = { version: null, apiVersion: null, os: null, arch: null, kernel: null };
  const v = (await engine.calls.version().catch(() => null)) as { Version?: string; ApiVersion?: string; Os?: string; Arch?: string; KernelVersion?: string } | null;
  if (!v) return none;
  return { version: v.Version ?? null, apiVersion: v.ApiVersion ?? null, os: v.Os ?? null, arch: v.Arch ?? null, kernel: v.KernelVersion ?? null };
}

const INTERPRETER_COMMAND = POSIX_INTERPRETERS;

/** The volume that holds the work directory, so it stays writable when the image is mounted read-only. */
const VOLUME_DIR = '/drydock';
/** As the agent: the time a script gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 3_000;
/** After the container exits, output the engine still holds gets this long to arrive. */
const DRAIN_MS = 5_000;
const MB = 1024 * 1024;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `name[:tag][@digest]` or an image id, with nothing that could step to another API path. */
const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,511}$/;



/** The engine's answer to `wait`. */
interface WaitStatus {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

interface Invocation {
  cmd: string[];
  env: string[];
  script: { name: string; content: string } | null;
  /** How the run's log names what runs. */
  what: string;
}

/**
 * The same argv and environment the agent builds for a local run: parameters as environment for all, as
 * `--name=value` words for the non-secret ones (or the words a command template renders to), never a shell string.
 */
function containerInvocation(job: AgentScriptJob, extraEnv: Record<string, string>): Invocation {
  const vars: Record<string, string> = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, ...extraEnv };
  for (const [name, value] of Object.entries(job.params)) vars[paramEnvName(name)] = paramText(value);
  for (const [name, value] of Object.entries(vars)) {
    if (!ENV_NAME.test(name)) throw new DockerError('other', `environment variable ${name} cannot be passed: names are letters, digits and _, not starting with a digit`);
    if (value.includes('\0')) throw new DockerError('other', `environment variable ${name} cannot be passed: its value contains a NUL byte`);
  }
  const env = Object.entries(vars).map(([name, value]) => `${name}=${value}`);

  if (job.operation !== null) {
    throw new DockerError('other', `host operation ${job.operation.type} does not run in a container; run it with the agent or over SSH`);
  }
  if (job.commandTemplate !== null) {
    const cmd = renderCommand(job.commandTemplate, job.params);
    if (cmd.length === 0 || cmd[0] === '') throw new DockerError('other', 'the command template renders to no command');
    if (cmd.some((word) => word.includes('\0'))) throw new DockerError('other', 'the command template renders a word that contains a NUL byte');
    return { cmd, env, script: null, what: cmd[0]! };
  }
  if (job.interpreter === null || !Object.hasOwn(INTERPRETER_COMMAND, job.interpreter)) {
    throw new DockerError('other', `interpreter ${String(job.interpreter)} is not one the Docker runner runs (${Object.keys(INTERPRETER_COMMAND).join(', ')})`);
  }
  const interpreter = INTERPRETER_COMMAND[job.interpreter];
  const name = `script${interpreter.extension}`;
  const cmd = [interpreter.command, ...interpreter.args, `${RUN_DIR}/${name}`];
  for (const [param, value] of Object.entries(job.params)) {
    if (job.secretNames.includes(param)) continue;
    const word = `--${param}=${paramText(value)}`;
    if (word.includes('\0')) throw new DockerError('other', `parameter ${param} contains a NUL byte`);
    cmd.push(word);
  }
  return { cmd, env, script: { name, content: job.content ?? '' }, what: interpreter.command };
}

function checkImageReference(image: string): void {
  if (!IMAGE_REFERENCE.test(image) || image.split('/').some((part) => part === '.' || part === '..')) {
    throw new DockerError('other', `runner_image ${JSON.stringify(image)} is not an image reference: write name[:tag] or name@sha256:digest`);
  }
}

interface ImageInfo {
  id: string;
  /** The image's USER, which the container runs as. */
  user: string;
}

async function inspectImage(engine: DockerEngine, image: string): Promise<ImageInfo> {
  try {
    const info = await engine.reach((e) => e.calls.getImage(image).inspect());
    return { id: info.Id, user: info.Config?.User ?? '' };
  } catch (err) {
    if (isRefusal(err, 404)) {
      throw new DockerError(
        'image_missing',
        `image ${image} is not on this worker's Docker engine, and Drydock never pulls images: build or load it there first (docker build, docker load, or docker pull by an operator)`,
      );
    }
    if (isRefusal(err)) throw new DockerError('other', `looking up image ${image} failed: ${engineMessage(err)}`);
    throw err;
  }
}

function containerName(runId: string): string {
  return `drydock-${runId.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 48)}-${randomBytes(4).toString('hex')}`;
}

async function createContainer(engine: DockerEngine, options: DockerRunOptions, image: ImageInfo, invocation: Invocation): Promise<string> {
  const { job, limits = {} } = options;
  const labels = { 'drydock.run': job.runId, 'drydock.script': job.scriptId };
  const body = {
    Image: image.id,
    // Not the image's ENTRYPOINT: a wrapper such as `sh -c` would turn the argv back into a shell string.
    Entrypoint: [],
    Cmd: invocation.cmd,
    Env: invocation.env,
    WorkingDir: RUN_DIR,
    Labels: { ...labels, 'drydock.image': options.image },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: false,
    Tty: false,
    HostConfig: {
      AutoRemove: false,
      NetworkMode: options.network ? 'default' : 'none',
      Memory: limits.memoryMb === undefined ? 0 : Math.floor(limits.memoryMb * MB),
      // The same figure as Memory: no swap on top of the limit.
      MemorySwap: limits.memoryMb === undefined ? 0 : Math.floor(limits.memoryMb * MB),
      NanoCpus: limits.cpus === undefined ? 0 : Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids ?? 0,
      ReadonlyRootfs: options.readOnlyRootFs ?? false,
      Tmpfs: options.readOnlyRootFs ? { '/tmp': 'rw,nosuid,nodev' } : {},
      Mounts: [{ Type: 'volume', Target: VOLUME_DIR, VolumeOptions: { Labels: labels } }],
      SecurityOpt: ['no-new-privileges'],
      // json-file, whatever the engine's default driver: the logs endpoint can always read it back.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '16m', 'max-file': '2' } },
    },
  };
  try {
    // The name as the query and the definition as the body: dockerode would put the whole definition, secrets
    // in its environment included, into the URL too.
    const created = await engine.reach((e) => e.calls.createContainer({ _query: { name: containerName(job.runId) }, _body: body } as Docker.ContainerCreateOptions));
    return created.id;
  } catch (err) {
    if (isRefusal(err, 404)) {
      throw new DockerError('image_missing', `image ${options.image} was removed from this worker's Docker engine just before the run; build or load it again`);
    }
    if (isRefusal(err)) throw new DockerError('other', `creating a container from ${options.image} failed: ${engineMessage(err)}`);
    throw err;
  }
}

/** The work directory, owned by whoever the container runs as, with the script in it. */
function workDirArchive(invocation: Invocation, owner: Owner): Promise<Buffer> {
  const entries: TarInput[] = [{ name: 'run', type: 'directory', mode: 0o700, ...owner }];
  if (invocation.script) {
    entries.push({ name: `run/${invocation.script.name}`, type: 'file', mode: 0o700, ...owner, content: Buffer.from(invocation.script.content, 'utf8') });
  }
  return tarArchive(entries);
}

function signalName(signo: number): NodeJS.Signals | null {
  const entry = Object.entries(constants.signals).find(([, n]) => n === signo);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

async function removeContainer(engine: DockerEngine, id: string, system: (line: string) => void): Promise<void> {
  try {
    await engine.reach((e) => e.calls.getContainer(id).remove({ force: true, v: true }));
  } catch (err) {
    if (isRefusal(err, 404)) return;
    system(`could not remove container ${id.slice(0, 12)}: ${engineMessage(err)}; remove it with docker rm -f -v ${id.slice(0, 12)}`);
  }
}

/**
 * Runs an agent job in a fresh container of `image`, the way the agent runs it on a host: parameters as data
 * (environment and argv, never a shell string), the script copied into /drydock/run and run by its interpreter,
 * output streamed line by line with secrets masked. No network unless asked, the given limits, and the container
 * removed afterwards whatever happens. Cancel and timeout stop it (SIGTERM, then SIGKILL). Aborting before the
 * script starts rejects with the signal's reason; after it starts, the result says `cancelled`.
 */
export async function runInDocker(options: DockerRunOptions): Promise<DockerRunResult> {
  const { job, signal } = options;
  checkImageReference(options.image);
  const invocation = containerInvocation(job, options.extraEnv ?? {});
  const engine = new DockerEngine(options.socketPath);
  const mask = secretMasker(job);
  const system = (line: string) => options.onLine({ stream: 'system', line: mask(line), ts: new Date() });

  const image = await inspectImage(engine, options.image);
  signal.throwIfAborted();
  const id = await createContainer(engine, options, image, invocation);
  try {
    const owner = await containerOwner(engine, id, image.user);
    const workDir = await workDirArchive(invocation, owner);
    await engine.expect((e) => e.calls.getContainer(id).putArchive(workDir, { path: VOLUME_DIR }), 'copying the script into the container');
    signal.throwIfAborted();
    const exit = await runContainer(engine, id, options, invocation, mask, system);
    const globs = job.capture?.artifacts ?? [];
    const artifacts =
      exit.cancelled || globs.length === 0
        ? []
        : await copyArtifacts({ engine, containerId: id, globs, limits: options.captureLimits ?? DEFAULT_CAPTURE_LIMITS, log: system, signal });
    if (exit.cancelled || !job.capture?.environment_snapshot) return { exit, artifacts };
    const [distribution, engineFacts] = await Promise.all([containerDistribution(engine, id), engineVersion(engine)]);
    return { exit, artifacts, container: { image: options.image, imageId: image.id, user: image.user, distribution, engine: engineFacts } };
  } finally {
    await removeContainer(engine, id, system);
  }
}

async function runContainer(
  engine: DockerEngine,
  id: string,
  options: DockerRunOptions,
  invocation: Invocation,
  mask: SecretMask,
  system: (line: string) => void,
): Promise<ScriptExit> {
  const { job, onLine, signal } = options;
  try {
    await engine.reach((e) => e.calls.getContainer(id).start());
  } catch (err) {
    if (isRefusal(err)) throw new DockerError('other', mask(`could not start ${invocation.what} in image ${options.image}: ${engineMessage(err)}`));
    throw err;
  }
  const startedAt = Date.now();
  // Asked after the start, for the state the container is in: once start has answered, it is running or has
  // already exited, and either way this answers with its exit. (`next-exit` asked now could miss an exit that came first.)
  const exited = engine.reach((e) => e.streams.getContainer(id).wait({ condition: 'not-running' }) as Promise<WaitStatus>);
  exited.catch(() => {});

  let stopping = false;
  let killTimer: NodeJS.Timeout | undefined;
  const kill = async (sig: 'SIGTERM' | 'SIGKILL') => {
    try {
      await engine.reach((e) => e.calls.getContainer(id).kill({ signal: sig }));
    } catch (err) {
      // 404 and 409: it is no longer running, which is what was asked.
      if (isRefusal(err, 404) || isRefusal(err, 409)) return;
      system(`could not send ${sig} to the container: ${engineMessage(err)}`);
    }
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void kill('SIGTERM');
    killTimer = setTimeout(() => void kill('SIGKILL'), KILL_GRACE_MS);
  };
  const triggers = stopWhen(signal, job.timeoutSeconds, stop);

  const tail = stderrTail();
  const splitter = (stream: 'stdout' | 'stderr') =>
    lineSplitter(mask, (line) => {
      if (stream === 'stderr') {
        tail.add(line);
      }
      onLine({ stream, line, ts: new Date() });
    });
  const out = { split: splitter('stdout'), decoder: new StringDecoder('utf8') };
  const err = { split: splitter('stderr'), decoder: new StringDecoder('utf8') };
  let drainStopped = false;
  let stopDrain = () => {};
  const sink = (s: typeof out) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        s.split.push(s.decoder.write(chunk));
        done();
      },
    });
  const drained = (async () => {
    try {
      let logs: IncomingMessage;
      try {
        logs = (await engine.reach((e) => e.streams.getContainer(id).logs({ follow: true, stdout: true, stderr: true }))) as unknown as IncomingMessage;
      } catch (e) {
        if (!isRefusal(e)) throw e;
        system(`the container's output cannot be read: ${engineMessage(e)}`);
        return;
      }
      if (drainStopped) {
        logs.destroy();
        return;
      }
      stopDrain = () => logs.destroy();
      engine.streams.modem.demuxStream(logs, sink(out), sink(err));
      await finished(logs);
    } catch (e) {
      if (!drainStopped) system(`the container's output stopped: ${(e as Error).message}`);
    } finally {
      for (const s of [out, err]) {
        s.split.push(s.decoder.end());
        s.split.end();
      }
    }
  })();

  let status: WaitStatus;
  try {
    status = await exited;
  } catch (e) {
    drainStopped = true;
    stopDrain();
    throw e instanceof DockerError ? e : new DockerError('other', `waiting for the container failed: ${engineMessage(e)}`);
  } finally {
    triggers.dispose();
    clearTimeout(killTimer);
  }
  const durationMs = Date.now() - startedAt;
  if (status.Error?.Message) system(`the Docker engine reports: ${status.Error.Message}`);

  let drainTimer: NodeJS.Timeout | undefined;
  const late = await Promise.race([drained.then(() => false), new Promise<boolean>((resolve) => (drainTimer = setTimeout(() => resolve(true), DRAIN_MS)))]);
  clearTimeout(drainTimer);
  if (late) {
    drainStopped = true;
    stopDrain();
    await drained;
    system(`the container exited, but its output did not end within ${DRAIN_MS / 1000} s; the rest of it is lost`);
  }

  const state = await engine.calls
    .getContainer(id)
    .inspect()
    .catch(() => null);
  const oomKilled = state?.State.OOMKilled === true;
  if (oomKilled) {
    const limit = options.limits?.memoryMb;
    system(`the container ran out of memory${limit === undefined ? '' : ` (its limit is ${limit} MB)`} and the kernel killed the script`);
  }

  // The engine reports a process killed by a signal as 128 + its number; say which, when Drydock or the kernel sent it.
  let exitCode: number | null = status.StatusCode;
  let exitSignal: NodeJS.Signals | null = null;
  if ((stopping || oomKilled) && exitCode > 128) {
    exitSignal = signalName(exitCode - 128);
    if (exitSignal) exitCode = null;
  }
  return { exitCode, signal: exitSignal, timedOut: triggers.timedOut, cancelled: triggers.cancelled, durationMs, stderrTail: tail.text() };
}
