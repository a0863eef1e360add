import type { HostView } from '@drydock/core/api-schemas';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { Badge, type BadgeTone } from './ui/badge.tsx';

const TRANSPORT: Record<HostView['transport'], { label: string; tone: BadgeTone; title: string }> = {
  agent: { label: 'agent', tone: 'teal', title: 'An agent on the host runs its scripts' },
  ssh: { label: 'SSH', tone: 'indigo', title: 'Drydock reaches the host over SSH from its central worker' },
  winrm: { label: 'WinRM', tone: 'sky', title: 'Drydock reaches the Windows host over WinRM (HTTPS) from its central worker; it runs PowerShell scripts and command templates' },
  docker: { label: 'Docker', tone: 'violet', title: 'A Docker engine: runner docker scripts run there in throwaway containers, started by the central worker' },
};

/** How the host is reached, in words: "SSH", "WinRM", or "agent". */
export function transportLabel(transport: HostView['transport']): string {
  return TRANSPORT[transport].label;
}

export const WINRM_AUTH_LABEL: Record<'basic' | 'ntlm', string> = { ntlm: 'NTLM', basic: 'Basic' };

export function TransportBadge({ transport }: { transport: HostView['transport'] }) {
  const t = TRANSPORT[transport];
  return (
    <Badge tone={t.tone} title={t.title} testId="transport-badge" data={{ 'data-transport': transport }}>
      {t.label}
    </Badge>
  );
}

type StateOf = Pick<HostView, 'transport' | 'status'> & Partial<Pick<HostView, 'lock' | 'lastError' | 'runningRuns' | 'metrics'>>;

const STATUS: Record<HostView['status'], { label: string; dot: string; text: string }> = {
  idle: { label: 'idle', dot: 'bg-emerald-500', text: 'text-slate-900' },
  busy: { label: 'busy', dot: 'bg-blue-600 animate-pulse', text: 'text-blue-900' },
  maintenance: { label: 'maintenance', dot: 'bg-amber-500', text: 'text-amber-900' },
  unreachable: { label: 'unreachable', dot: 'bg-slate-400', text: 'text-slate-600' },
  error: { label: 'error', dot: 'bg-red-600', text: 'font-medium text-red-700' },
};

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** What the status means for this host, and what to do about it where something is to be done. */
export function hostStatusTitle(host: StateOf): string {
  const agent = host.transport === 'agent';
  switch (host.status) {
    case 'maintenance':
      return host.lock ? `Maintenance lock held by ${host.lock.holder}: ${host.lock.reason}. Runs that need its lock wait until it is released.` : 'Someone holds a maintenance lock on it: runs that need its lock wait until it is released.';
    case 'error':
      return host.lastError ? `Needs attention: ${host.lastError.message}` : 'Needs attention: open the host to see why.';
    case 'unreachable':
      if (agent) return 'No heartbeat from its agent in the last 30 s and no agent polls its queue: runs on it fail unless it comes back soon. Check that the agent runs on the host and reaches Drydock.';
      return host.transport === 'docker' ? 'Drydock has not used this engine yet: the first runner docker run does.' : 'Drydock has not connected to it yet: the first run does.';
    case 'busy': {
      const jobs = Math.max(host.runningRuns ?? 0, host.metrics?.runningJobs ?? 0);
      return `Running ${plural(jobs, 'job')} now. New runs start while it has a free slot and wait otherwise.`;
    }
    case 'idle':
      return agent ? 'Its agent is live (a heartbeat in the last 30 s, or polling its queue) and runs nothing now.' : 'Reached, and its last contact succeeded; nothing runs on it now.';
  }
}

/** The host's status (idle, busy, maintenance, unreachable, error), each its own look, with what it means on hover. */
export function HostStateBadge({ host }: { host: StateOf }) {
  const s = STATUS[host.status];
  return (
    <span data-testid="host-state" data-state={host.status} title={hostStatusTitle(host)} className={`inline-flex items-center gap-1.5 text-sm whitespace-nowrap ${s.text}`}>
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
