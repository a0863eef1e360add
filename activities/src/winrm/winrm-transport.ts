import { StringDecoder } from 'node:string_decoder';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { renderCommand } from '@drydock/core/manifest';
import { type JobRunOptions, paramText, stopWhen } from '../transport/job-words.ts';
import type { ScriptExit, ScriptLine } from '@drydock/core/job-data';
import { lineSplitter, type SecretMask, secretMasker, stderrTail } from '@drydock/core/job-data';
import { encodeJobDocument, ENV_NAME, FAILED_MARKER, READY_MARKER, type WinrmInvocation, WRAPPER_ARGUMENTS, WRAPPER_COMMAND } from './powershell-wrapper.ts';
import { hostPort, WinrmError } from './winrm-error.ts';
import { WsmanClient, WsmanFaultError } from './wsman-client.ts';
import {
  commandIdOf,
  commandRequest,
  createdShellId,
  createShellRequest,
  deleteShellRequest,
  OPERATION_TIMED_OUT_CODE,
  receivedOutput,
  receiveRequest,
  sendRequest,
  SIGNAL_TERMINATE,
  signalRequest,
} from './wsman-messages.ts';
import { paramEnvName } from '@drydock/core/job-data';

export type { ScriptExit, ScriptLine } from '@drydock/core/job-data';
export type { WinrmInvocation } from './powershell-wrapper.ts';
export { WinrmError, type WinrmErrorReason } from './winrm-error.ts';

export interface WinrmTarget {
  host: string;
  /** 5986, WinRM's HTTPS listener, by default. */
  port: number;
  /** Must be true: Basic would send the password in clear, and NTLM message encryption over HTTP is not implemented. */
  https: boolean;
  username: string;
  password: string;
  auth: 'basic' | 'ntlm';
  /** Pinned server certificate SHA-256 fingerprint, or null on first use (self-signed Windows certs are the norm). */
  certFingerprint: string | null;
  connectTimeoutMs?: number;
}

export interface RunOverWinrmOptions extends JobRunOptions {
  target: WinrmTarget;
}

export interface WinrmRunResult {
  exit: ScriptExit;
  /** The server certificate's SHA-256 fingerprint ("AB:CD:..."), to pin on first use. */
  certFingerprint: string;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
/** OperationTimeout of Create, Command, Send, Signal and Delete; the HTTP request gets a margin on top. */
const OPERATION_SECONDS = 60;
/** How long one Receive waits for output before the server answers "no output yet" and it is sent again. */
const RECEIVE_SECONDS = 20;
const HTTP_MARGIN_MS = 30_000;
/** The server deletes the shell (and ends the script) this long after the client stops asking for output. */
const SHELL_IDLE_SECONDS = 120;
/** Deleting the shell is best effort: a host that is gone is not waited for long. */
const DELETE_TIMEOUT_MS = 15_000;
/** How long after the terminate signal the run waits for the command to be reported done. */
const STOP_WAIT_MS = 10_000;
/** Raw stdin bytes per Send: base64 of it plus the envelope stays under the default 150 KiB MaxEnvelopeSize. */
const SEND_CHUNK_BYTES = 96 * 1024;



function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the wrapper runs: the same environment and arguments the agent builds for a local run. */
export function winrmInvocation(job: AgentScriptJob, extraEnv: Record<string, string>): WinrmInvocation {
  const env: Record<string, string> = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, ...extraEnv };
  for (const [name, value] of Object.entries(job.params)) env[paramEnvName(name)] = paramText(value);
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new WinrmError('other', `environment variable ${name} cannot be passed: names are DRYDOCK_ followed by A-Z, 0-9 and _`);
    if (value.includes('\0')) throw new WinrmError('other', `environment variable ${name} cannot be passed: its value contains a NUL byte`);
  }

  if (job.commandTemplate !== null) {
    const argv = renderCommand(job.commandTemplate, job.params);
    if (argv.length === 0 || argv[0] === '') throw new WinrmError('other', 'the command template renders to no command');
    if (argv.some((word) => word.includes('\0'))) throw new WinrmError('other', 'the command template renders a word that contains a NUL byte');
    return { env, script: null, argv };
  }
  if (job.interpreter !== 'powershell') {
    throw new WinrmError('other', `interpreter ${String(job.interpreter)} is not one the WinRM runner runs (powershell)`);
  }
  const content = job.content ?? '';
  if (content.includes('\0')) throw new WinrmError('other', `${job.scriptPath ?? 'the script'} contains a NUL byte and cannot be sent as text`);
  const argv: string[] = [];
  for (const [name, value] of Object.entries(job.params)) {
    if (job.secretNames.includes(name)) continue;
    const word = `--${name}=${paramText(value)}`;
    if (word.includes('\0')) throw new WinrmError('other', `parameter ${name} contains a NUL byte`);
    argv.push(word);
  }
  return { env, script: content, argv };
}

/** Progress records PowerShell serialises to stderr before the wrapper runs ("Preparing modules for first use"). */
function isProgressRecord(line: string): boolean {
  return line === '#< CLIXML' || (line.startsWith('<Objs ') && line.includes('S="progress"') && !line.includes('S="Error"'));
}

/** What an operation's failure means to the user: a WinrmError whose message names the host and the operation. */
function operationFailure(err: unknown, where: string, what: string): unknown {
  if (!(err instanceof WsmanFaultError)) return err;
  const { fault } = err;
  if (fault.wsmanCode === '5' || fault.subcode?.endsWith('AccessDenied')) {
    return new WinrmError('auth', `${where} refused to ${what}: access denied (the account must be an administrator or in Remote Management Users)`);
  }
  return new WinrmError('other', `${where} refused to ${what}: ${fault.reason}`);
}

/**
 * Runs an agent job on a Windows host over WinRM (WS-Management Shell over HTTPS), the way the SSH runner does:
 * parameters as data (a JSON document on stdin, read by a fixed PowerShell wrapper; the command line is the
 * same for every job), output streamed line by line with secrets masked, and cancel and timeout ending the
 * command with the WS-Man terminate signal and deleting its shell. Aborting before the script starts rejects
 * with the signal's reason; after it starts, the result says `cancelled`.
 */
export async function runOverWinrm(options: RunOverWinrmOptions): Promise<WinrmRunResult> {
  const { target, job } = options;
  refusePlainHttp(target);
  const invocation = winrmInvocation(job, options.extraEnv ?? {});
  return runWinrmInvocation(target, invocation, { timeoutSeconds: job.timeoutSeconds, mask: secretMasker(job), onLine: options.onLine, signal: options.signal });
}

function refusePlainHttp(target: WinrmTarget): void {
  if (target.https) return;
  throw new WinrmError(
    'other',
    `WinRM over plain HTTP is not supported for ${hostPort(target)}: it would send the job's secrets (and with Basic, the password) unencrypted; use the HTTPS listener (port 5986)`,
  );
}

/** How one program runs over WinRM: for how long, with what masked, where its lines go, and what messages call it. */
export interface WinrmInvocationContext {
  timeoutSeconds: number;
  mask: SecretMask;
  onLine: (line: ScriptLine) => void;
  signal: AbortSignal;
  /** "the script" unless given. */
  what?: string;
}

/**
 * Runs one invocation of the fixed PowerShell wrapper: a job's script or command, or one of Drydock's own fixed
 * programs (host operations, the environment snapshot) with its inputs as DRYDOCK_* variables in the job document.
 */
export async function runWinrmInvocation(target: WinrmTarget, invocation: WinrmInvocation, context: WinrmInvocationContext): Promise<WinrmRunResult> {
  const { signal } = context;
  const where = hostPort(target);
  refusePlainHttp(target);
  for (const [name, value] of Object.entries(invocation.env)) {
    if (!ENV_NAME.test(name)) throw new WinrmError('other', `environment variable ${name} cannot be passed: names are DRYDOCK_ followed by A-Z, 0-9 and _`);
    if (value.includes('\0')) throw new WinrmError('other', `environment variable ${name} cannot be passed: its value contains a NUL byte`);
  }
  const stdin = encodeJobDocument(invocation);
  if (signal.aborted) throw signal.reason;

  const client = new WsmanClient({
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    auth: target.auth,
    certFingerprint: target.certFingerprint,
    connectTimeoutMs: target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  });
  const { mask } = context;
  const system = (line: string) => context.onLine({ stream: 'system', line: mask(line), ts: new Date() });
  const control = { timeoutMs: OPERATION_SECONDS * 1000 + HTTP_MARGIN_MS };
  let shellId: string | null = null;
  try {
    let commandId: string;
    try {
      shellId = createdShellId(await client.call('control', createShellRequest(client.url, OPERATION_SECONDS, SHELL_IDLE_SECONDS), { ...control, signal }));
      if (shellId === null) throw new WinrmError('protocol', `${where} created a shell but did not say its ShellId`);
      const started = await client.call('control', commandRequest(client.url, OPERATION_SECONDS, shellId, WRAPPER_COMMAND, WRAPPER_ARGUMENTS), { ...control, signal });
      commandId = commandIdOf(started) ?? '';
      if (commandId === '') throw new WinrmError('protocol', `${where} started a command but did not say its CommandId`);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw operationFailure(err, where, shellId === null ? 'open a remote shell' : 'start PowerShell');
    }
    const exit = await runCommand(client, { ...context, shellId, commandId, stdin, system, where, what: context.what ?? 'the script' });
    return { exit, certFingerprint: client.certFingerprint ?? '' };
  } finally {
    if (shellId !== null) {
      await client.call('control', deleteShellRequest(client.url, OPERATION_SECONDS, shellId), { timeoutMs: DELETE_TIMEOUT_MS }).catch((err: unknown) => {
        system(`could not delete the remote shell on ${where} (${errorMessage(err)}); WinRM removes it after ${SHELL_IDLE_SECONDS} s idle`);
      });
    }
    client.close();
  }
}

interface CommandContext extends WinrmInvocationContext {
  shellId: string;
  commandId: string;
  stdin: Buffer;
  system: (line: string) => void;
  where: string;
  what: string;
}

async function runCommand(client: WsmanClient, context: CommandContext): Promise<ScriptExit> {
  const { onLine, signal, shellId, commandId, mask, system, where, what } = context;
  const started = Date.now();
  const ready = { stdout: false, stderr: false };
  const preamble: string[] = [];
  const tail = stderrTail();
  let failure: string | null = null;
  let stopping = false;
  let gaveUp = false;
  let stopTimer: NodeJS.Timeout | undefined;
  const giveUp = new AbortController();

  const split = (stream: 'stdout' | 'stderr') =>
    lineSplitter(mask, (line) => {
      if (!ready[stream]) {
        // Whatever precedes the wrapper's marker is PowerShell's own, not the script's.
        if (line.endsWith(READY_MARKER)) {
          ready[stream] = true;
          const before = line.slice(0, -READY_MARKER.length).replace(/^\uFEFF/, '');
          if (before) system(`${where} powershell: ${before}`);
        } else if (stream === 'stderr' && line.startsWith(FAILED_MARKER)) failure = line.slice(FAILED_MARKER.length);
        else if (!isProgressRecord(line)) {
          preamble.push(line);
          system(`${where} powershell: ${line}`);
        }
        return;
      }
      if (stream === 'stderr') {
        tail.add(line);
      }
      onLine({ stream, line, ts: new Date() });
    });
  const streams = {
    stdout: { lines: split('stdout'), decoder: new StringDecoder('utf8') },
    stderr: { lines: split('stderr'), decoder: new StringDecoder('utf8') },
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    client
      .call('control', signalRequest(client.url, OPERATION_SECONDS, shellId, commandId, SIGNAL_TERMINATE), { timeoutMs: OPERATION_SECONDS * 1000 + HTTP_MARGIN_MS })
      .catch((err: unknown) => system(`could not ask ${where} to terminate the script: ${errorMessage(err)}`));
    stopTimer = setTimeout(() => {
      gaveUp = true;
      system(`${where} did not confirm that ${what} stopped; deleting its shell`);
      giveUp.abort();
    }, STOP_WAIT_MS);
  };
  const triggers = stopWhen(signal, context.timeoutSeconds, stop);

  let exitCode: number | null = null;
  try {
    for (let at = 0; !stopping; at += SEND_CHUNK_BYTES) {
      const end = at + SEND_CHUNK_BYTES >= context.stdin.length;
      const request = sendRequest(client.url, OPERATION_SECONDS, shellId, commandId, context.stdin.subarray(at, at + SEND_CHUNK_BYTES), end);
      try {
        await client.call('control', request, { timeoutMs: OPERATION_SECONDS * 1000 + HTTP_MARGIN_MS });
      } catch (err) {
        if (stopping) break;
        throw operationFailure(err, where, 'take the job on stdin');
      }
      if (end) break;
    }

    for (;;) {
      let answer;
      try {
        answer = await client.call('receive', receiveRequest(client.url, RECEIVE_SECONDS, shellId, commandId), {
          timeoutMs: RECEIVE_SECONDS * 1000 + HTTP_MARGIN_MS,
          signal: giveUp.signal,
        });
      } catch (err) {
        if (err instanceof WsmanFaultError && err.fault.wsmanCode === OPERATION_TIMED_OUT_CODE) continue;
        if (gaveUp) break;
        if (err instanceof WinrmError && (err.reason === 'unreachable' || err.reason === 'timeout')) {
          throw new WinrmError(
            'unreachable',
            `lost the connection to ${where} while ${what} ran (${err.message}); WinRM ends ${what} when its shell has been idle for ${SHELL_IDLE_SECONDS} s`,
          );
        }
        throw operationFailure(err, where, 'return the script output');
      }
      let output;
      try {
        output = receivedOutput(answer, commandId);
      } catch (err) {
        throw new WinrmError('protocol', `${where} answered Receive with something unexpected: ${errorMessage(err)}`);
      }
      for (const { stream, data } of output.chunks) {
        if (stream === 'stdout' || stream === 'stderr') streams[stream].lines.push(streams[stream].decoder.write(data));
      }
      if (output.done) {
        exitCode = output.exitCode;
        break;
      }
    }
  } finally {
    triggers.dispose();
    clearTimeout(stopTimer);
  }
  for (const { lines, decoder } of Object.values(streams)) {
    lines.push(decoder.end());
    lines.end();
  }

  const began = ready.stdout || ready.stderr;
  if (!began && triggers.cancelled) throw signal.reason;
  if (!began && !stopping) {
    const reason = failure ?? preamble.at(-1) ?? (exitCode !== null ? `exit code ${exitCode}` : 'no reason given');
    throw new WinrmError('other', mask(`could not start ${what} on ${where}: ${reason}`));
  }
  return {
    // After terminate, the code Windows reports is the kill's, not the script's.
    exitCode: stopping ? null : exitCode,
    signal: null,
    timedOut: triggers.timedOut,
    cancelled: triggers.cancelled,
    durationMs: Date.now() - started,
    stderrTail: tail.text(),
  };
}
