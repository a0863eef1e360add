import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HostLockView, HostView, LockLeaseView } from '@drydock/core';
import { eventually, REGISTRATION_SECRET, startTestStack, type TestStack } from '../support/stack.ts';

// Host locks through the API on a real stack: runs that require the lock, people who take it, and faults.

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
});

type Acquired = { status: 'granted' | 'queued'; lease: LockLeaseView; position?: number };

async function acquire(body: Record<string, unknown>, hostId = 'local'): Promise<Acquired> {
  const res = await stack.api(`/api/v1/locks/${hostId}`, { method: 'POST', json: body });
  if (res.status !== 201 && res.status !== 202) throw new Error(`acquire failed: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Acquired;
}

async function get<T>(path: string): Promise<T> {
  const res = await stack.api(path);
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const lockOf = (hostId = 'local') => get<HostLockView>(`/api/v1/locks/${hostId}`);
const listed = async (query = '') => (await get<{ locks: (HostLockView & { hostName: string })[] }>(`/api/v1/locks${query}`)).locks;


const free = () => eventually(lockOf, (l) => l.holder === null && l.queue.length === 0);

describe('runs that require the host lock', () => {
  test('two of them on one host take turns: the second waits for the lock, then runs after the first', async () => {
    const first = await stack.startRun('exclusive-sleep', { seconds: 3 });
    await stack.waitForLine(first.id, /^tick 1$/);
    const second = await stack.startRun('exclusive-sleep', { seconds: 1 });
    await stack.waitForRun(second.id, (r) => r.status === 'waiting_for_lock', 15_000);

    const [lock] = await eventually(
      () => listed('?host=local'),
      (l) => l[0]?.queue.length === 1,
    );
    expect(lock?.holder).toMatchObject({ type: 'execution', holder: { kind: 'run', id: first.id } });
    expect(lock?.queue[0]).toMatchObject({ holder: { kind: 'run', id: second.id }, position: 1 });

    const [a, b] = [await stack.waitForRun(first.id), await stack.waitForRun(second.id)];
    expect(a.status).toBe('succeeded');
    expect(b.status).toBe('succeeded');
    expect(Date.parse(b.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a.finishedAt!) - 1_000);
    await free();
    expect(await listed()).toEqual([]);
  });

  test('a maintenance lock keeps a run waiting until it is released; meanwhile the host shows in maintenance', async () => {
    const { status, lease } = await acquire({ type: 'maintenance', reason: 'kernel upgrade', ttlSeconds: 600 });
    expect(status).toBe('granted');
    const hosts = async (q: string) => ((await (await stack.api(`/api/v1/hosts${q}`)).json()) as { hosts: HostView[] }).hosts;
    const [local] = await eventually(
      () => hosts('?status=maintenance'),
      (h) => h.length === 1,
    );
    expect(local).toMatchObject({ id: 'local', status: 'maintenance', lock: { type: 'maintenance', holder: stack.admin.email, reason: 'kernel upgrade' } });
    expect((await hosts('?status=idle')).map((h) => h.id)).not.toContain('local');

    const run = await stack.startRun('exclusive-sleep', { seconds: 1 });
    await stack.waitForRun(run.id, (r) => r.status === 'waiting_for_lock', 15_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await stack.waitForRun(run.id, () => true)).status).toBe('waiting_for_lock');

    const released = await stack.api('/api/v1/locks/local/release', { method: 'POST', json: { leaseId: lease.leaseId } });
    expect(released.status).toBe(200);
    expect((await stack.waitForRun(run.id)).status).toBe('succeeded');
    await free();
    // Idle again once the agent's next heartbeat says the run is over.
    await eventually(
      async () => (await hosts('?status=idle')).map((h) => h.id),
      (ids) => ids.includes('local'),
    );

    const audit = await sql`select action, result, detail from audit_log where resource = 'host:local' and action like 'lock.%' order by id`;
    expect(audit.map((a) => [a.action, a.result])).toEqual([
      ['lock.acquire', 201],
      ['lock.release', 200],
    ]);
    expect(audit[0]!.detail).toMatchObject({ type: 'maintenance', reason: 'kernel upgrade', leaseId: lease.leaseId, status: 'granted' });
  });

  test('cancelling a run that waits withdraws it and releases nothing it does not hold', async () => {
    const { lease } = await acquire({ type: 'maintenance', reason: 'disk check', ttlSeconds: 600 });
    const run = await stack.startRun('exclusive-sleep', { seconds: 1 });
    await stack.waitForRun(run.id, (r) => r.status === 'waiting_for_lock', 15_000);
    expect((await stack.api(`/api/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'cancelled', attempts: 0 });

    const lock = await eventually(lockOf, (l) => l.queue.length === 0);
    expect(lock.holder).toMatchObject({ leaseId: lease.leaseId, type: 'maintenance' });
    await stack.api('/api/v1/locks/local/release', { method: 'POST', json: { leaseId: lease.leaseId } });
    await free();
  });

  test('an admin force release is audited with its reason, and the run that held the lock stops and says why', async () => {
    const run = await stack.startRun('exclusive-sleep', { seconds: 60 });
    await stack.waitForLine(run.id, /^tick 1$/);

    const noReason = await stack.api('/api/v1/locks/local/force-release', { method: 'POST', json: { reason: ' ' } });
    expect(noReason.status).toBe(400);
    const res = await stack.api('/api/v1/locks/local/force-release', { method: 'POST', json: { reason: 'the run hangs; host needed now' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { released: LockLeaseView }).released.holder).toMatchObject({ kind: 'run', id: run.id });

    const final = await stack.waitForRun(run.id, undefined, 30_000);
    expect(final.status).toBe('failed');
    expect(final.error).toBe(`the lock of host local was force-released by ${stack.admin.email}: the run hangs; host needed now; the work under it was stopped`);
    await free();
    const again = await stack.api('/api/v1/locks/local/force-release', { method: 'POST', json: { reason: 'once more' } });
    expect(again.status).toBe(409);

    const [audit] = await sql`select result, detail from audit_log where action = 'lock.force-release' and result = 200`;
    expect(audit).toMatchObject({ result: 200, detail: { reason: 'the run hangs; host needed now', type: 'execution', holder: `exclusive-sleep by ${stack.admin.email}` } });
  });
});

describe('locks taken through the API', () => {
  test('extend up to the limit, refuse when busy without waiting, and only the holder releases', async () => {
    const { lease } = await acquire({ reason: 'manual check', ttlSeconds: 60 });
    const extend = () => stack.api('/api/v1/locks/local/extend', { method: 'POST', json: { leaseId: lease.leaseId } });
    for (let i = 1; i <= 3; i++) {
      const res = await extend();
      expect(res.status).toBe(200);
      expect(((await res.json()) as { lease: LockLeaseView }).lease.extensions).toBe(i);
    }
    const fourth = await extend();
    expect(fourth.status).toBe(409);
    expect(((await fourth.json()) as { error: { message: string } }).error.message).toContain('already extended 3 times');

    const busy = await stack.api('/api/v1/locks/local', { method: 'POST', json: { reason: 'impatient', wait: false } });
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { error: { message: string } }).error.message).toBe(
      `host local is locked: execution lock held by ${stack.admin.email} (manual check); ask again with wait: true to queue for it`,
    );
    const unknown = await stack.api('/api/v1/locks/local/release', { method: 'POST', json: { leaseId: 'user:nope' } });
    expect(unknown.status).toBe(404);
    const bad = await stack.api('/api/v1/locks/local', { method: 'POST', json: { type: 'exclusive', reason: '' } });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { error: { fields: object } }).error.fields).sort()).toEqual(['reason', 'type']);
    expect((await stack.api('/api/v1/locks/nowhere')).status).toBe(404);

    await stack.api('/api/v1/locks/local/release', { method: 'POST', json: { leaseId: lease.leaseId } });
    await free();
  });
});

describe('the hosts list', () => {
  test('filters by when a host was last seen', async () => {
    const ids = async (q: string) => ((await get<{ hosts: HostView[] }>(`/api/v1/hosts${q}`)).hosts).map((h) => h.id);
    expect(await ids('?seenWithin=15m')).toContain('local');
    expect(await ids('?notSeenFor=1h')).not.toContain('local');
    const silent = await stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: REGISTRATION_SECRET, hostName: 'never-seen' } });
    expect(silent.status).toBe(201);
    expect(await ids('?notSeenFor=7d')).toEqual(['never-seen']);
    expect(await ids('?notSeenFor=7d&status=unreachable')).toEqual(['never-seen']);
    expect(await ids('?seenWithin=24h&status=unreachable')).toEqual([]);
    expect((await stack.api('/api/v1/hosts?status=online')).status).toBe(400);
    expect((await stack.api('/api/v1/hosts?seenWithin=2h')).status).toBe(400);
  });
});

describe('faults', () => {
  test('kill -9 of the central worker while a run holds the lock: once it is back the run ends and the lock is released', async () => {
    const run = await stack.startRun('exclusive-sleep', { seconds: 6 });
    await stack.waitForLine(run.id, /^tick 2$/);
    expect((await lockOf()).holder?.holder.id).toBe(run.id);
    await stack.processes.worker!.kill('SIGKILL');
    await stack.waitForLine(run.id, /^tick 4$/);
    await stack.processes.worker!.start();

    // A restarted worker replays the lock's and the run's histories first: give a loaded machine time.
    expect((await stack.waitForRun(run.id, undefined, 90_000)).status).toBe('succeeded');
    await free();
    await eventually(() => listed(), (l) => l.length === 0);
  });
});
