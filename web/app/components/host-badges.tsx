import type { HostView } from '../lib/api-views.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';

const TRANSPORT: Record<HostView['transport'], { label: string; tone: string; title: string }> = {
  agent: { label: 'agent', tone: 'bg-teal-50 text-teal-800 ring-teal-200', title: 'An agent on the host runs its scripts' },
  ssh: { label: 'SSH', tone: 'bg-indigo-50 text-indigo-800 ring-indigo-200', title: 'Drydock reaches the host over SSH from its central worker' },
  winrm: { label: 'WinRM', tone: 'bg-sky-50 text-sky-800 ring-sky-200', title: 'Drydock reaches the Windows host over WinRM (HTTPS) from its central worker; it runs PowerShell scripts and command templates' },
  docker: { label: 'Docker', tone: 'bg-violet-50 text-violet-800 ring-violet-200', title: 'A Docker engine: runner docker scripts run there in throwaway containers, started by the central worker' },
};

/** How the host is reached, in words: "SSH", "WinRM", or "agent". */
export function transportLabel(transport: HostView['transport']): string {
  return TRANSPORT[transport].label;
}

export const WINRM_AUTH_LABEL: Record<'basic' | 'ntlm', string> = { ntlm: 'NTLM', basic: 'Basic' };

export function TransportBadge({ transport }: { transport: HostView['transport'] }) {
  const t = TRANSPORT[transport];
  return (
    <span
      data-testid="transport-badge"
      data-transport={transport}
      title={t.title}
      className={`inline-block rounded px-1.5 py-px text-[0.7rem] font-medium tracking-wide ring-1 ring-inset ${t.tone}`}
    >
      {t.label}
    </span>
  );
}

type HostState = 'online' | 'offline' | 'reached' | 'not-reached' | 'maintenance';

const STATE: Record<HostState, { label: string; dot: string; title: string }> = {
  online: { label: 'online', dot: 'bg-emerald-500', title: 'Its agent sent a heartbeat in the last 30 s' },
  offline: { label: 'offline', dot: 'bg-slate-400', title: 'No heartbeat from its agent in the last 30 s: runs wait for it to come back' },
  reached: { label: 'reached', dot: 'bg-emerald-500', title: 'Drydock has connected to it from its central worker' },
  'not-reached': { label: 'not reached yet', dot: 'bg-slate-400', title: 'Drydock has not connected to it yet: the first run does' },
  maintenance: { label: 'maintenance', dot: 'bg-amber-500', title: 'Someone holds a maintenance lock on it: runs that need its lock wait until it is released' },
};

type StateOf = Pick<HostView, 'transport' | 'online'> & Partial<Pick<HostView, 'status' | 'lock'>>;

export function hostState(host: StateOf): HostState {
  if (host.status === 'maintenance') return 'maintenance';
  if (host.transport === 'agent') return host.online ? 'online' : 'offline';
  return host.online ? 'reached' : 'not-reached';
}

/** Online or offline for an agent; for an SSH or WinRM host, whether Drydock has reached it yet; maintenance while locked for it. */
export function HostStateBadge({ host }: { host: StateOf }) {
  const state = hostState(host);
  const s = STATE[state];
  const title = state === 'maintenance' && host.lock ? `Maintenance lock held by ${host.lock.holder}: ${host.lock.reason}. Runs that need its lock wait.` : s.title;
  return (
    <span data-testid="host-state" data-state={state} title={title} className="inline-flex items-center gap-1.5 text-sm whitespace-nowrap">
      <span aria-hidden className={`size-2 rounded-full ${s.dot}`} />
      {s.label}
    </span>
  );
}

/** `12 s ago`, with the exact UTC time on hover. `now` is the loader's, so server and browser render the same text. */
export function LastSeen({ iso, now, testId }: { iso: string | null; now: number; testId?: string }) {
  if (!iso) {
    return (
      <span data-testid={testId} className="text-slate-500">
        never
      </span>
    );
  }
  return (
    <time dateTime={iso} title={`${formatDateTime(iso)} UTC`} data-testid={testId} className="whitespace-nowrap">
      {formatRelative(iso, now)}
    </time>
  );
}

/**
 * `deploy@10.0.4.12:22`, where Drydock connects to an SSH host. A WinRM host's user may hold an `@` of its own
 * (`ops@corp.example`), so it reads `ops@corp.example on 10.0.4.20:5986`.
 */
export function hostTarget(host: Pick<HostView, 'username' | 'address' | 'port'> & { transport?: HostView['transport'] }): string {
  if (host.transport === 'docker') return `unix://${host.address ?? '?'}`;
  const address = host.address?.includes(':') ? `[${host.address}]` : (host.address ?? '?');
  const winrm = host.transport === 'winrm';
  const where = `${address}:${host.port ?? (winrm ? 5986 : 22)}`;
  if (!host.username) return where;
  return winrm ? `${host.username} on ${where}` : `${host.username}@${where}`;
}
