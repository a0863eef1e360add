import { describe, expect, test } from 'vitest';
import { type HostSignals, hostLiveness } from './host-status.ts';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000);

const agent: HostSignals = {
  id: 'db-1',
  transport: 'agent',
  lastSeenAt: ago(5),
  pollers: 1,
  runningRuns: 0,
  heartbeatRunningJobs: 0,
  maintenanceLocked: false,
  lastError: null,
  revokedAt: null,
};
const ssh: HostSignals = { ...agent, id: 'box-1', transport: 'ssh', pollers: 0, heartbeatRunningJobs: null };

describe('host status', () => {
  test('an agent that beats and runs nothing is idle; a run or its heartbeat count makes it busy', () => {
    expect(hostLiveness(agent, NOW)).toEqual({ online: true, status: 'idle', lastError: null });
    expect(hostLiveness({ ...agent, runningRuns: 2 }, NOW).status).toBe('busy');
    expect(hostLiveness({ ...agent, heartbeatRunningJobs: 1 }, NOW).status).toBe('busy');
  });

  test("an agent's stale heartbeat count does not make it busy while only its poller says it is alive", () => {
    expect(hostLiveness({ ...agent, lastSeenAt: ago(60), heartbeatRunningJobs: 3 }, NOW)).toMatchObject({ online: true, status: 'idle' });
  });

  test('an agent with no heartbeat in 30 s and no poller is unreachable, even with runs still marked running', () => {
    expect(hostLiveness({ ...agent, lastSeenAt: ago(31), pollers: 0, runningRuns: 1 }, NOW)).toMatchObject({ online: false, status: 'unreachable' });
    expect(hostLiveness({ ...agent, lastSeenAt: null, pollers: 0 }, NOW).status).toBe('unreachable');
  });

  test('a revoked agent is in error with what to do, even while its poller lingers', () => {
    const view = hostLiveness({ ...agent, revokedAt: ago(10) }, NOW);
    expect(view.status).toBe('error');
    expect(view.lastError).toEqual({ message: expect.stringContaining('POST /api/v1/agents/hosts/db-1/rotate'), at: ago(10).toISOString() });
  });

  test('an SSH host never reached is unreachable until its first run; a failed last contact is an error', () => {
    expect(hostLiveness({ ...ssh, lastSeenAt: null }, NOW)).toMatchObject({ online: false, status: 'unreachable' });
    expect(hostLiveness({ ...ssh, lastSeenAt: null, runningRuns: 1 }, NOW).status).toBe('busy');
    expect(hostLiveness({ ...ssh, lastSeenAt: ago(86_400) }, NOW).status).toBe('idle');
    const failed = hostLiveness({ ...ssh, lastError: { message: 'authentication as root failed on 10.0.0.1:22', at: ago(3) } }, NOW);
    expect(failed).toEqual({ online: true, status: 'error', lastError: { message: 'authentication as root failed on 10.0.0.1:22', at: ago(3).toISOString() } });
  });

  test('a maintenance lock wins over everything else', () => {
    expect(hostLiveness({ ...ssh, maintenanceLocked: true, lastError: { message: 'refused', at: ago(1) } }, NOW).status).toBe('maintenance');
    expect(hostLiveness({ ...agent, maintenanceLocked: true, lastSeenAt: null, pollers: 0 }, NOW).status).toBe('maintenance');
  });
});
