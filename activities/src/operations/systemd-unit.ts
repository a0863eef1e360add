import { access } from 'node:fs/promises';
import type { ServiceHealthOperation } from '@drydock/core/operations';
import type { OperationLog, Outcome } from '@drydock/core/operations';
import { minimalEnvironment, runInProcessGroup } from './process-group.ts';

type SystemdCheck = NonNullable<ServiceHealthOperation['systemd']>;

const SYSTEMCTL_TIMEOUT_MS = 10_000;
/** sd_booted(3): this directory exists only while systemd is the init system. */
const SYSTEMD_RUNTIME_DIR = '/run/systemd/system';

/** `systemctl is-active <unit>` prints the unit's state (active, inactive, failed, activating, …) on stdout. */
export function interpretIsActive(stdout: readonly string[], stderr: readonly string[]): { state: string } | { error: string } {
  const state = stdout.map((l) => l.trim()).find((l) => l !== '');
  if (state !== undefined) return { state };
  return { error: `systemctl did not say: ${stderr.map((l) => l.trim()).find((l) => l !== '') ?? 'no output'}` };
}

export async function checkSystemdUnit(
  check: SystemdCheck,
  context: { signal: AbortSignal; log: OperationLog; hostEnvironment: Readonly<Record<string, string | undefined>> },
): Promise<Outcome> {
  const { log } = context;
  log.line(`systemctl is-active ${check.unit} (expecting ${check.expect})`);
  const fail = (detail: string): Outcome => {
    log.line(`FAILED state: ${detail}`);
    return { checks: [{ name: 'state', ok: false, detail }], value: null };
  };
  const booted = process.platform === 'linux' && (await access(SYSTEMD_RUNTIME_DIR).then(() => true, () => false));
  if (!booted) return fail(SYSTEMD_NOT_BOOTED);

  const stdout: string[] = [];
  const stderr: string[] = [];
  const end = await runInProcessGroup({
    command: 'systemctl',
    args: ['is-active', '--', check.unit],
    env: minimalEnvironment(context.hostEnvironment, { LC_ALL: 'C', SYSTEMD_PAGER: '' }),
    timeoutMs: SYSTEMCTL_TIMEOUT_MS,
    signal: context.signal,
    onLine: (line, stream) => (stream === 'stdout' ? stdout : stderr).push(line),
  });
  if (end.startError?.code === 'ENOENT') return fail('systemd is not available on this host (no systemctl on PATH)');
  if (end.startError) return fail(`could not run systemctl: ${end.startError.message}`);
  if (end.cancelled) return fail('cancelled');
  if (end.timedOut) return fail(`systemctl gave no answer within ${SYSTEMCTL_TIMEOUT_MS / 1000} s`);

  const seen = interpretIsActive(stdout, stderr);
  if ('error' in seen) return fail(seen.error);
  return judgeUnitState(check, seen.state, log);
}

/** The unit's state against the expected one, wherever it was read (`systemctl is-active` here, `systemctl show` over SSH). */
export function judgeUnitState(check: SystemdCheck, state: string, log: OperationLog, note?: string): Outcome {
  const ok = state === check.expect;
  const detail = `${check.unit} is ${state}${ok ? '' : `, expected ${check.expect}`}${note ? ` (${note})` : ''}`;
  log.line(`${ok ? 'ok' : 'FAILED'} state: ${detail}`);
  return { checks: [{ name: 'state', ok, detail }], value: state };
}

/** A systemd check that could not read the state. */
export function unitStateUnknown(detail: string, log: OperationLog): Outcome {
  log.line(`FAILED state: ${detail}`);
  return { checks: [{ name: 'state', ok: false, detail }], value: null };
}

export const SYSTEMD_NOT_BOOTED = 'systemd is not available on this host (it was not booted with systemd as init)';
