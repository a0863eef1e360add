import { randomBytes } from 'node:crypto';
import { NO_SECRETS } from '@drydock/core/job-data';
import { type FileValidationOperation, type ServiceHealthOperation, type ShellCommandOperation } from '@drydock/core/operations';
import type { Operation, Outcome } from '@drydock/core/operations';
import { type FileLookup, MISSING, permissionDetail, validateFile } from '../operations/file-validation.ts';
import type { OperationContext, OperationExecutor } from '../operations/run-operation.ts';
import { BODY_READ_LIMIT, describeHttpFailure, type HttpExchange } from '../operations/service-health.ts';
import { commandLine } from '../operations/shell-command.ts';
import { judgeServiceState, noSuchService, WINDOWS_SERVICE_STATES, type WindowsServiceState } from '../operations/windows-service.ts';
import type { ScriptExit } from '@drydock/core/job-data';
import { FILE_VALIDATION_PROGRAM, HTTP_PROGRAM, SHELL_COMMAND_PROGRAM, WINDOWS_SERVICE_PROGRAM } from './operation-programs.ts';
import type { WinrmInvocation } from './powershell-wrapper.ts';
import { runWinrmInvocation, type WinrmRunResult, type WinrmTarget } from './winrm-transport.ts';
import { commandEnv, commandProgram, complaints, containsNeedles, fact, factBytes, failedCheck, fileCheckEnv, httpCheckByProgram, judgeCommandRun, needleSearch, programEnded } from '../operations/fact-programs.ts';
import { factReader, type HostProgram } from '../transport/program-facts.ts';

/** A program's facts (`<tag> key value` lines, in order) and how it ended. */
export interface WinrmProgramRun {
  facts: [string, string][];
  exit: ScriptExit;
}

export type WinrmProgram = HostProgram;

/** Runs a program over WinRM; tests replace it to answer as a Windows host would. */
export type RunWinrmInvocation = (invocation: WinrmInvocation, context: Parameters<typeof runWinrmInvocation>[2]) => Promise<WinrmRunResult>;

const LOOK_SECONDS = 60;
const HTTP_MARGIN_SECONDS = 30;

/** The job document of one program run: the fixed program as the script, its inputs and the tag as variables, no arguments. */
export function programInvocation(spec: Pick<WinrmProgram, 'program' | 'env'>, tag: string): WinrmInvocation {
  return { env: { DRYDOCK_OP_TAG: tag, ...spec.env }, script: spec.program, argv: [] };
}

export async function runWinrmProgram(run: RunWinrmInvocation, spec: WinrmProgram, signal: AbortSignal): Promise<WinrmProgramRun> {
  const tag = randomBytes(8).toString('hex');
  const reader = factReader(tag, spec);
  const ran = await run(programInvocation(spec, tag), {
    timeoutSeconds: spec.timeoutSeconds,
    mask: NO_SECRETS,
    signal,
    what: spec.what,
    onLine: reader.onLine,
  });
  return { facts: reader.facts, exit: ran.exit };
}

/** A fact the program sent as base64 of UTF-8 (free text: names, messages). */
function text(run: WinrmProgramRun, key: string): string | undefined {
  const value = fact(run, key);
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8').trim();
}

export interface WinrmOperationHost {
  target: WinrmTarget;
  /** How messages name the host: `LAB\deployer@10.0.5.20:5986`. */
  where: string;
  /** The WS-Man runner; the real one unless a test gives another. */
  run?: RunWinrmInvocation;
}

/**
 * Host operations on a Windows host over WinRM: each a fixed PowerShell program that gathers what an agent on
 * that host would see, judged by the agent's own code. database_query is refused before the run starts (see
 * core/src/operations/operation-transports.ts), and refused here too should one arrive.
 */
export function winrmOperations(host: WinrmOperationHost): OperationExecutor {
  const run: RunWinrmInvocation = host.run ?? ((invocation, context) => runWinrmInvocation(host.target, invocation, context));
  return (op: Operation, context: OperationContext): Promise<Outcome> => {
    switch (op.type) {
      case 'shell_command':
        return shellCommand(run, op, context);
      case 'file_validation':
        return fileValidation(run, host.where, op, context);
      case 'service_health':
        return serviceHealth(run, host.where, op, context);
      case 'database_query': {
        return Promise.resolve(
          failedCheck(context.log, 'query', `database_query does not run over WinRM (a WinRM shell cannot carry a database connection); run it through an agent on ${host.where}, or over SSH`),
        );
      }
    }
  };
}

async function shellCommand(run: RunWinrmInvocation, op: ShellCommandOperation, context: OperationContext): Promise<Outcome> {
  const { log } = context;
  log.line(commandLine(op));
  const env: Record<string, string> = { DRYDOCK_OP_ARGC: String(op.command.length) };
  op.command.forEach((word, i) => (env[`DRYDOCK_OP_ARG_${i}`] = word));
  const ran = await runWinrmProgram(run, commandProgram(op, context, SHELL_COMMAND_PROGRAM, commandEnv(op, env)), context.signal);
  return judgeCommandRun(op, ran, log, {
    batch: `could not start ${op.command[0]}: it is a batch file, and cmd.exe would interpret characters in its arguments`,
  });
}

/** The facts FILE_VALIDATION_PROGRAM reported, as the FileView the checks are judged on. */
export function windowsFileFromFacts(run: WinrmProgramRun, needles: readonly string[]): FileLookup {
  const missing = fact(run, 'missing');
  if (missing === 'absent') return { missing: MISSING.absent };
  if (missing === 'denied') return { missing: MISSING.denied };
  const other = text(run, 'missing64');
  if (other !== undefined) return { missing: `file cannot be looked at: ${other}` };
  const stat = /^(file|directory)\|(\d+)\|(-?\d+)$/.exec(fact(run, 'stat') ?? '');
  if (!stat) return { missing: `file cannot be looked at: the host did not say (${fact(run, 'stat') ?? 'nothing'})` };
  const who = `the WinRM user ${text(run, 'user64') || '?'}${fact(run, 'admin') === 'True' ? ' (an administrator)' : ''}`;
  const length = Number(fact(run, 'length') ?? '0');
  return {
    file: {
      kind: stat[1] === 'directory' ? 'a directory' : 'a regular file',
      size: Number(stat[2]),
      mtimeMs: Number(stat[3]),
      permission: async (kind) => {
        const ok = fact(run, kind) === 'yes';
        return permissionDetail(kind, ok, who, null, ok ? undefined : `by ${who}: ${text(run, `${kind}64`) ?? 'the host did not say why'}`);
      },
      async search(needle) {
        const unreadable = text(run, 'unreadable64');
        if (unreadable !== undefined) return { error: unreadable };
        return needleSearch(run, needles, needle, length);
      },
    },
  };
}

async function fileValidation(run: RunWinrmInvocation, where: string, op: FileValidationOperation, context: OperationContext): Promise<Outcome> {
  const needles = containsNeedles(op);
  const ran = await runWinrmProgram(run, { program: FILE_VALIDATION_PROGRAM, env: fileCheckEnv(op, needles), timeoutSeconds: LOOK_SECONDS, what: 'the file check', onOutput: complaints(context) }, context.signal);
  const stop = programEnded(ran, `the file check on ${where}`, LOOK_SECONDS);
  return validateFile(op, context.log, async () => (stop !== null ? { missing: `file cannot be looked at: ${stop}` } : windowsFileFromFacts(ran, needles)));
}

/** WebException.Status (and the SocketException's SocketErrorCode) as the codes the agent's wording knows. */
function webExceptionCode(status: string, socket: string): string {
  if (status === 'NameResolutionFailure') return 'ENOTFOUND';
  if (socket === 'ConnectionRefused') return 'ECONNREFUSED';
  if (socket === 'HostUnreachable' || socket === 'NetworkUnreachable') return 'EHOSTUNREACH';
  if (status === 'TrustFailure' || status === 'SecureChannelFailure') return 'ERR_TLS_CERT';
  if (status === 'ReceiveFailure' || status === 'ConnectionClosed' || status === 'KeepAliveFailure') return 'ECONNRESET';
  return '';
}

/** The facts HTTP_PROGRAM reported, as the exchange judgeHttp judges. */
export function windowsHttpFromFacts(run: WinrmProgramRun, url: string, timeoutSeconds: number): HttpExchange {
  if (run.exit.cancelled) return { failure: 'cancelled' };
  if (run.exit.timedOut) return { failure: `no response within ${timeoutSeconds} s` };
  const failed = fact(run, 'fail');
  if (failed !== undefined) {
    const [status = '', socket = ''] = failed.split(' ');
    if (status === 'Timeout' || socket === 'TimedOut') return { failure: `no response within ${timeoutSeconds} s` };
    return { failure: describeHttpFailure(webExceptionCode(status, socket), url, text(run, 'message64') ?? status) };
  }
  const error = text(run, 'error64');
  const status = Number(fact(run, 'status'));
  if (error !== undefined || !Number.isInteger(status)) return { failure: error ?? 'the host did not say what the server answered' };
  const body = factBytes(run, 'body');
  return {
    status,
    statusText: text(run, 'reason64') ?? '',
    location: text(run, 'location64') ?? null,
    body: async () => {
      const bodyError = text(run, 'bodyerror64');
      if (bodyError !== undefined) return { error: bodyError };
      if (fact(run, 'bodyend') === undefined) return { error: 'the host did not send the body back' };
      return { bytes: body.subarray(0, BODY_READ_LIMIT), complete: body.length <= BODY_READ_LIMIT };
    },
  };
}

/** ERROR_ACCESS_DENIED and ERROR_SERVICE_DOES_NOT_EXIST, as Win32Exception.NativeErrorCode gives them. */
const ACCESS_DENIED = '5';
const SERVICE_DOES_NOT_EXIST = '1060';

/** The facts WINDOWS_SERVICE_PROGRAM reported: the service's state, or why there is none. */
export function serviceFromFacts(run: WinrmProgramRun, name: string): { state: WindowsServiceState } | { error: string } {
  const stop = programEnded(run, 'the service controller', LOOK_SECONDS);
  if (stop !== null) return { error: stop };
  const state = fact(run, 'state');
  if (state !== undefined) {
    return (WINDOWS_SERVICE_STATES as readonly string[]).includes(state)
      ? { state: state as WindowsServiceState }
      : { error: `the service controller reported a state it does not document: ${state}` };
  }
  const code = fact(run, 'error');
  if (code === SERVICE_DOES_NOT_EXIST) return { error: noSuchService(name) };
  if (code === ACCESS_DENIED) return { error: `access denied when asking for the state of ${name}` };
  return { error: `the service controller failed${code && code !== '-' ? ` with error ${code}` : ''}: ${text(run, 'message64') ?? 'no message'}` };
}

async function serviceHealth(run: RunWinrmInvocation, where: string, op: ServiceHealthOperation, context: OperationContext): Promise<Outcome> {
  const { log } = context;
  if (op.http) {
    const program = { program: HTTP_PROGRAM, marginSeconds: HTTP_MARGIN_SECONDS };
    return httpCheckByProgram(op.http, context, program, (spec) => runWinrmProgram(run, spec, context.signal), windowsHttpFromFacts);
  }
  if (op.windows_service) {
    const check = op.windows_service;
    log.line(`service controller ${check.name} (expecting ${check.expect})`);
    const ran = await runWinrmProgram(run, { program: WINDOWS_SERVICE_PROGRAM, env: { DRYDOCK_OP_SERVICE: check.name }, timeoutSeconds: LOOK_SECONDS, what: 'the service check', onOutput: complaints(context) }, context.signal);
    const seen = serviceFromFacts(ran, check.name);
    if ('error' in seen) return failedCheck(log, 'state', seen.error);
    return judgeServiceState(check, seen.state, log);
  }
  return failedCheck(log, 'state', `systemd checks run on Linux hosts, over SSH or through an agent; ${where} is a Windows host reached over WinRM`);
}
