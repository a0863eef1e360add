import type { HostStatus, HostView } from '@drydock/core';

/** Three missed agent heartbeats (10 s apart) and a host shows as unreachable. */
export const ONLINE_WINDOW_MS = 30_000;

/** What the hosts list knows of one host when it works out its status: all of it from real signals. */
export interface HostSignals {
  id: string;
  transport: HostView['transport'];
  lastSeenAt: Date | null;
  /** Agent processes Temporal saw polling `agent-<id>` lately; 0 for other transports. */
  pollers: number;
  /** Runs in status running on the host. */
  runningRuns: number;
  /** From the agent's last heartbeat; null for other transports and agents that never said. */
  heartbeatRunningJobs: number | null;
  maintenanceLocked: boolean;
  /** SSH, WinRM, Docker: why the last contact failed at the transport level. */
  lastError: { message: string; at: Date } | null;
  /** Agent: when an admin revoked its latest token (a later rotation issues a new one and clears this). */
  revokedAt: Date | null;
}

export interface HostLiveness {
  online: boolean;
  status: HostStatus;
  lastError: HostView['lastError'];
}

/**
 * maintenance while locked for it; error while a person must act (a revoked agent, a failed last contact);
 * unreachable without a sign of life; then busy or idle by what runs there now.
 */
export function hostLiveness(h: HostSignals, now: number): HostLiveness {
  const agent = h.transport === 'agent';
  const beating = h.lastSeenAt !== null && now - h.lastSeenAt.getTime() < ONLINE_WINDOW_MS;
  const online = agent ? beating || h.pollers > 0 : h.lastSeenAt !== null;
  const lastError =
    agent && h.revokedAt !== null
      ? {
          message: `an admin revoked the agent token of host ${h.id}, so its agent can no longer report or take runs; issue it a new token (POST /api/v1/agents/hosts/${h.id}/rotate) for its config file, or delete the host`,
          at: h.revokedAt.toISOString(),
        }
      : !agent && h.lastError !== null
        ? { message: h.lastError.message, at: h.lastError.at.toISOString() }
        : null;
  // A stale heartbeat's count says nothing about now; the runs table does.
  const running = Math.max(h.runningRuns, agent && beating ? (h.heartbeatRunningJobs ?? 0) : 0);
  // A Docker engine is marked reached when its first run ends, so a first run still going counts as reaching it.
  const reachable = online || (!agent && h.runningRuns > 0);
  const status: HostStatus = h.maintenanceLocked ? 'maintenance' : lastError !== null ? 'error' : !reachable ? 'unreachable' : running > 0 ? 'busy' : 'idle';
  return { online, status, lastError };
}
