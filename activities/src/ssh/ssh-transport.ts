import { constants } from 'node:os';
import type { ClientChannel } from 'ssh2';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { renderCommand } from '@drydock/core/manifest';
import { type JobRunOptions, paramText, stopWhen } from '../transport/job-words.ts';
import { DIR_MARKER, ENV_NAME, FAILED_MARKER, KILL_GRACE_SECONDS, READY_MARKER, REMOTE_COMMAND, invocationRecords, type RemoteInvocation } from './remote-wrapper.ts';
import { lineSplitter, type SecretMask, secretMasker, stderrTail } from './script-output.ts';
import { hostPort, openSession, type SshSession, type SshTarget } from './ssh-connection.ts';
import { SshError } from './ssh-error.ts';
import { POSIX_INTERPRETERS } from '../transport/interpreters.ts';
import { paramEnvName, type ScriptExit, type ScriptLine } from '@drydock/core/job-data';

export type { SshSession, SshTarget } from './ssh-connection.ts';
export type { RemoteInvocation } from './remote-wrapper.ts';
export { SshError, type SshErrorReason } from './ssh-error.ts';

/** The agent's ScriptLine and ScriptExit, from core, so callers treat every runner alike. */
export type { ScriptExit, ScriptLine } from '@drydock/core/job-data';

export interface RunOverSshOptions extends JobRunOptions {
  target: SshTarget;
  /** Remote directory the private work directory is created in; default /tmp. */
  workDirBase?: string;
  /** Keep the script's work directory for capture; `workDir` then names it, and the caller removes it. */
  keepWorkDir?: boolean;
}

/** How one program runs in a session: where (for messages), for how long, and where its lines go. */
export interface InvocationContext {
  where: string;
  timeoutSeconds: number;
  /** Applied to every line before it leaves, so no secret value reaches a log. */
  mask: SecretMask;
  onLine: (line: ScriptLine) => void;
  signal: AbortSignal;
  /** What the messages call the program: "the script" unless given. */
  what?: string;
}

/** A program's end, and its work directory on the host when it was asked to keep it. */
export type InvocationExit = ScriptExit & { workDir: string | null };

export interface SshRunResult {
  exit: ScriptExit;
  /** The target's host key as presented ("type base64"), to pin on first use. */
  hostKey: string;
  /** The bastion's host key, when the target has one. */
  jumpHostKey: string | null;
}

export const INTERPRETER_COMMAND = POSIX_INTERPRETERS;

/** How long after asking the host to stop the script (and its grace period) the connection is given up. */
const STOP_WAIT_MS = 10_000;
/** After the script exits, output still flowing keeps the channel; silence this long closes it. */
const DRAIN_IDLE_MS = 5_000;
/** How much of the wrapper's input is written at a time. */
const FEED_SLICE = 64 * 1024;



/**
 * What the remote wrapper runs: the same argv and environment the agent builds for a local run, with the
 * script file's path left for the wrapper to fill in.
 */
export function remoteInvocation(job: AgentScriptJob, workDirBase: string, extraEnv: Record<string, string>): RemoteInvocation {
  const env: Record<string, string> = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, ...extraEnv };
  for (const [name, value] of Object.entries(job.params)) env[paramEnvName(name)] = paramText(value);
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new SshError('other', `environment variable ${name} cannot be passed: names are DRYDOCK_ followed by A-Z, 0-9 and _`);
    if (value.includes('\0')) throw new SshError('other', `environment variable ${name} cannot be passed: its value contains a NUL byte`);
  }
  if (workDirBase.includes('\0') || !workDirBase.startsWith('/')) throw new SshError('other', 'the remote work directory must be an absolute path');

  if (job.commandTemplate !== null) {
    const argv = renderCommand(job.commandTemplate, job.params);
    if (argv.length === 0 || argv[0] === '') throw new SshError('other', 'the command template renders to no command');
    if (argv.some((word) => word.includes('\0'))) throw new SshError('other', 'the command template renders a word that contains a NUL byte');
    return { workDirBase, env, script: null, argv };
  }
  if (job.interpreter === null || !Object.hasOwn(INTERPRETER_COMMAND, job.interpreter)) {
    throw new SshError('other', `interpreter ${String(job.interpreter)} is not one the SSH runner runs (${Object.keys(INTERPRETER_COMMAND).join(', ')})`);
  }
  const content = job.content ?? '';
  if (content.includes('\0')) throw new SshError('other', `${job.scriptPath ?? 'the script'} contains a NUL byte and cannot be sent as text`);
  const interpreter = INTERPRETER_COMMAND[job.interpreter];
  const argv: (string | null)[] = [interpreter.command, ...interpreter.args, null];
  for (const [name, value] of Object.entries(job.params)) {
    if (job.secretNames.includes(name)) continue;
    const word = `--${name}=${paramText(value)}`;
    if (word.includes('\0')) throw new SshError('other', `parameter ${name} contains a NUL byte`);
    argv.push(word);
  }
  return { workDirBase, env, script: { extension: interpreter.extension, content }, argv };
}

function signalName(name: string | undefined): NodeJS.Signals | null {
  return name !== undefined && Object.hasOwn(constants.signals, name) ? (name as NodeJS.Signals) : null;
}

function execChannel(session: SshSession, where: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    session.client.exec(REMOTE_COMMAND, (err, channel) =>
      err ? reject(new SshError('other', `${where} refused to run a command over SSH: ${err.message}`)) : resolve(channel),
    ),
  );
}

/**
 * Runs an agent job on a host over SSH, the way the agent runs it locally: parameters as data (environment
 * and argv, never a shell string), the script in its own process group that cancel and timeout kill whole,
 * output streamed line by line with secrets masked. Aborting before the script starts rejects with the
 * signal's reason; after it starts, the result says `cancelled`.
 */
export async function runOverSsh(options: RunOverSshOptions): Promise<SshRunResult> {
  const session = await openSession(options.target, options.signal);
  try {
    const exit = await runJobInSession(session, options);
    return { exit, hostKey: session.hostKey, jumpHostKey: session.jumpHostKey };
  } finally {
    session.close();
  }
}

/** runOverSsh in a session the caller holds, so capture can follow on the same connection. */
export function runJobInSession(session: SshSession, options: RunOverSshOptions): Promise<InvocationExit> {
  const { target, job } = options;
  const invocation = { ...remoteInvocation(job, options.workDirBase ?? '/tmp', options.extraEnv ?? {}), keepWorkDir: options.keepWorkDir ?? false };
  return runInvocation(session, invocation, {
    where: hostPort(target),
    timeoutSeconds: job.timeoutSeconds,
    mask: secretMasker(job),
    onLine: options.onLine,
    signal: options.signal,
  });
}

/**
 * Writes the wrapper's input in slices, waiting for the channel to drain and yielding between slices: a script of
 * many megabytes must not hold the worker's event loop (and every other run's heartbeats) while it is encoded.
 */
async function feed(channel: ClientChannel, records: Iterable<string>): Promise<void> {
  let slice = '';
  for (const record of records) {
    slice += record;
    if (slice.length < FEED_SLICE) continue;
    if (!channel.writable) return;
    const more = channel.write(slice);
    slice = '';
    if (!more) await new Promise<void>((resolve) => channel.once('drain', resolve).once('close', resolve));
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (channel.writable) channel.write(slice);
}

/** Runs one program through the fixed remote wrapper: whatever it is, its inputs travel as data on stdin. */
export async function runInvocation(session: SshSession, invocation: RemoteInvocation, context: InvocationContext): Promise<InvocationExit> {
  return runInSession(session, context, invocationRecords(invocation));
}

async function runInSession(session: SshSession, context: InvocationContext, stdin: Iterable<string>): Promise<InvocationExit> {
  const { where, mask, onLine, signal } = context;
  const what = context.what ?? 'the script';
  const system = (line: string) => onLine({ stream: 'system', line: mask(line), ts: new Date() });
  const channel = await execChannel(session, where);
  const started = Date.now();

  return new Promise<InvocationExit>((resolve, reject) => {
    const ready = { stdout: false, stderr: false };
    const preamble: string[] = [];
    const tail = stderrTail();
    let failure: string | null = null;
    let workDir: string | null = null;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let exited = false;
    let stopping = false;
    let settled = false;
    let stopTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const split = (stream: 'stdout' | 'stderr') =>
      lineSplitter(mask, (line) => {
        if (!ready[stream]) {
          // Whatever precedes the wrapper's marker is the login shell's (motd, rc files), not the script's.
          if (line.endsWith(READY_MARKER)) {
            ready[stream] = true;
            const before = line.slice(0, -READY_MARKER.length);
            if (before) system(`${where} login shell: ${before}`);
          } else if (stream === 'stderr' && line.startsWith(FAILED_MARKER)) failure = line.slice(FAILED_MARKER.length);
          else if (stream === 'stdout' && line.startsWith(DIR_MARKER)) workDir = line.slice(DIR_MARKER.length);
          else {
            preamble.push(line);
            system(`${where} login shell: ${line}`);
          }
          return;
        }
        if (stream === 'stderr') {
          tail.add(line);
        }
        onLine({ stream, line, ts: new Date() });
      });
    const out = split('stdout');
    const err = split('stderr');
    const armDrain = () => {
      if (!exited) return;
      clearTimeout(drainTimer);
      drainTimer = setTimeout(() => {
        system(`${what} exited, but a process it started outside its process group still holds its output on ${where}; closing the channel`);
        channel.close();
      }, DRAIN_IDLE_MS);
    };
    channel.setEncoding('utf8');
    channel.stderr.setEncoding('utf8');
    channel.on('data', (chunk: string) => {
      out.push(chunk);
      armDrain();
    });
    channel.stderr.on('data', (chunk: string) => {
      err.push(chunk);
      armDrain();
    });
    // Errors on the channel end in its close, which settles the run.
    channel.on('error', () => {});
    void feed(channel, stdin);

    // Closing stdin is the stop request: the wrapper's lifeline sees EOF and kills the process group.
    const stop = () => {
      if (stopping) return;
      stopping = true;
      channel.end();
      stopTimer = setTimeout(() => {
        system(`${where} did not confirm that ${what} stopped; giving up the connection (the host ends ${what} when it notices)`);
        finish();
      }, KILL_GRACE_SECONDS * 1000 + STOP_WAIT_MS);
    };
    const triggers = stopWhen(signal, context.timeoutSeconds, stop);

    session.onLost(() => finish());

    channel.on('exit', (code: number | null, sig?: string) => {
      exited = true;
      exitCode = code;
      exitSignal = code === null ? signalName(sig) : null;
      triggers.disarm();
      armDrain();
    });
    channel.on('close', () => finish());

    function finish() {
      if (settled) return;
      settled = true;
      triggers.dispose();
      clearTimeout(stopTimer);
      clearTimeout(drainTimer);
      out.end();
      err.end();
      channel.close();

      const lostError = session.lostError();
      const began = ready.stdout || ready.stderr;
      if (!began && triggers.cancelled) return reject(signal.reason);
      if (!began && !stopping) {
        if (failure !== null) return reject(new SshError('other', mask(`could not start ${what} on ${where}: ${failure}`)));
        const reason = lostError ? lostError.message : preamble.at(-1) ?? (exitCode !== null ? `exit code ${exitCode}` : 'no reason given');
        return reject(new SshError(lostError ? 'unreachable' : 'other', mask(`could not start ${what} on ${where}: ${reason}`)));
      }
      if (lostError && !exited && !stopping) {
        return reject(
          new SshError('unreachable', `lost the connection to ${where} while ${what} ran (${lostError.message}); the host ends ${what} when it notices the connection is gone`),
        );
      }
      resolve({
        exitCode,
        signal: exitSignal,
        timedOut: triggers.timedOut,
        cancelled: triggers.cancelled,
        durationMs: Date.now() - started,
        stderrTail: tail.text(),
        workDir,
      });
    }
  });
}
