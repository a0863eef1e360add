import { join } from 'node:path';
import type { ServiceHealthOperation } from '@drydock/core/operations';
import type { OperationLog, Outcome } from '@drydock/core/operations';
import { minimalEnvironment, runInProcessGroup } from './process-group.ts';

type WindowsServiceCheck = NonNullable<ServiceHealthOperation['windows_service']>;

/** Named as Get-Service names them. */
export type WindowsServiceState = 'Stopped' | 'StartPending' | 'StopPending' | 'Running' | 'ContinuePending' | 'PausePending' | 'Paused';

/** SERVICE_STATUS.dwCurrentState, which `sc query` prints as the number before the state's name. */
const STATES: Record<string, WindowsServiceState> = {
  '1': 'Stopped',
  '2': 'StartPending',
  '3': 'StopPending',
  '4': 'Running',
  '5': 'ContinuePending',
  '6': 'PausePending',
  '7': 'Paused',
};

const SC_TIMEOUT_MS = 10_000;
const ERROR_ACCESS_DENIED = 5;
const ERROR_SERVICE_DOES_NOT_EXIST = 1060;

export type ScQueryResult = { state: WindowsServiceState } | { error: string; code: number | null };

/**
 * Reads `sc.exe query <name>`. The state is taken from its number (`STATE : 4  RUNNING`), which does not
 * change with the display language; a failure is `[SC] … FAILED <code>:` followed by the system message.
 */
export function parseScQuery(output: string, name: string): ScQueryResult {
  const state = /^[ \t]*STATE[ \t]*:[ \t]*(\d+)/m.exec(output);
  if (state) {
    const known = STATES[state[1]!];
    return known ? { state: known } : { error: `sc.exe reported a state it does not document: ${state[1]}`, code: null };
  }
  const failed = /FAILED[ \t]+(\d+):?\s*([^\r\n]*(?:\r?\n\s*[^\r\n]+)?)/.exec(output);
  if (failed) {
    const code = Number(failed[1]);
    const message = failed[2]!.replace(/\s+/g, ' ').trim();
    if (code === ERROR_SERVICE_DOES_NOT_EXIST) {
      return { error: noSuchService(name), code };
    }
    if (code === ERROR_ACCESS_DENIED) return { error: `access denied when asking for the state of ${name}`, code };
    return { error: `sc.exe failed with error ${code}${message ? `: ${message}` : ''}`, code };
  }
  const first = output.split(/\r?\n/).find((l) => l.trim() !== '');
  return { error: `sc.exe answered in a way this agent does not understand: ${first?.trim() ?? 'no output'}`, code: null };
}

export async function checkWindowsService(
  check: WindowsServiceCheck,
  context: { signal: AbortSignal; log: OperationLog; hostEnvironment: Readonly<Record<string, string | undefined>> },
): Promise<Outcome> {
  const { log } = context;
  log.line(`sc.exe query ${check.name} (expecting ${check.expect})`);
  const fail = (detail: string): Outcome => {
    log.line(`FAILED state: ${detail}`);
    return { checks: [{ name: 'state', ok: false, detail }], value: null };
  };
  if (process.platform !== 'win32') return fail(`Windows services exist only on Windows hosts; this host runs ${process.platform}`);

  const systemRoot = context.hostEnvironment.SystemRoot;
  // The full path, so a sc.exe earlier on PATH is not the one asked.
  const sc = systemRoot ? join(systemRoot, 'System32', 'sc.exe') : 'sc.exe';
  const lines: string[] = [];
  const end = await runInProcessGroup({
    command: sc,
    args: ['query', check.name],
    env: minimalEnvironment(context.hostEnvironment),
    timeoutMs: SC_TIMEOUT_MS,
    signal: context.signal,
    onLine: (line) => lines.push(line),
  });
  if (end.startError) return fail(`could not run sc.exe: ${end.startError.message}`);
  if (end.cancelled) return fail('cancelled');
  if (end.timedOut) return fail(`sc.exe gave no answer within ${SC_TIMEOUT_MS / 1000} s`);

  const seen = parseScQuery(lines.join('\n'), check.name);
  if ('error' in seen) return fail(seen.error);
  return judgeServiceState(check, seen.state, log);
}

/** The service's state against the expected one, wherever it was read (sc.exe here, the service controller over WinRM). */
export function judgeServiceState(check: WindowsServiceCheck, state: WindowsServiceState, log: OperationLog): Outcome {
  const ok = state === check.expect;
  const detail = `${check.name} is ${state}${ok ? '' : `, expected ${check.expect}`}`;
  log.line(`${ok ? 'ok' : 'FAILED'} state: ${detail}`);
  return { checks: [{ name: 'state', ok, detail }], value: state };
}

export const WINDOWS_SERVICE_STATES: readonly WindowsServiceState[] = Object.values(STATES);

/** The detail when no service has that name, wherever it was asked. */
export function noSuchService(name: string): string {
  return `no service named ${name} is installed (give its service name, not its display name)`;
}
