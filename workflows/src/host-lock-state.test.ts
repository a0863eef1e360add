import { describe, expect, test } from 'vitest';
import { type LockRequest, MAX_LOCK_QUEUE } from '@drydock/core/host-lock';
import { HostLock, type LockNotice, LockRefusal } from './host-lock-state.ts';

// The lock's rules without Temporal: a clock the test moves, requests in, answers and notices out.

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function lockOnHost(hostId = 'web-1') {
  const clock = { now: T0 };
  const lock = new HostLock(hostId, undefined, () => clock.now);
  return { lock, clock, advance: (ms: number) => void (clock.now += ms) };
}

const request = (leaseId: string, extra: Partial<LockRequest> = {}): LockRequest => ({
  leaseId,
  type: 'execution',
  priority: 0,
  ttlSeconds: 60,
  maxExtensions: 2,
  reason: `work of ${leaseId}`,
  holder: { kind: 'user', id: leaseId, name: `${leaseId}@example.com` },
  ...extra,
});
const fromWorkflow = (leaseId: string, extra: Partial<LockRequest> = {}) => request(leaseId, { notify: { workflowId: `run/${leaseId}`, runId: `r-${leaseId}` }, ...extra });

function notices(lock: HostLock): LockNotice[] {
  const out: LockNotice[] = [];
  for (let n = lock.nextNotice(); n; n = lock.nextNotice()) out.push(n);
  return out;
}

function refusal(step: () => unknown): LockRefusal {
  try {
    step();
  } catch (err) {
    if (err instanceof LockRefusal) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const state = (lock: HostLock) => ({ holder: lock.holder?.leaseId ?? null, queue: lock.queue.map((l) => l.leaseId) });

describe('HostLock', () => {
  test('a free lock is granted at once, for the TTL asked, from now', () => {
    const { lock } = lockOnHost();
    expect(lock.idle).toBe(true);
    const answer = lock.acquire(request('a', { ttlSeconds: 90 }));
    expect(answer).toMatchObject({ status: 'granted', lease: { leaseId: 'a', acquiredAt: '2026-03-01T10:00:00.000Z', expiresAt: '2026-03-01T10:01:30.000Z', extensions: 0 } });
    expect(lock.expiresAt).toBe(T0 + 90_000);
    expect(lock.idle).toBe(false);
    // The API's requests read the answer; only requesting workflows get notices.
    expect(lock.hasNotices).toBe(false);
  });

  test('waiters are granted emergency first, then by priority, then by arrival; asking again is the same request', () => {
    const { lock } = lockOnHost();
    lock.acquire(request('a'));
    expect(lock.acquire(request('b'))).toMatchObject({ status: 'queued', position: 1, holder: { leaseId: 'a' } });
    lock.acquire(request('c', { priority: 5 }));
    lock.acquire(request('d', { type: 'emergency' }));
    expect(lock.acquire(request('e', { priority: 5 }))).toMatchObject({ status: 'queued', position: 3 });
    expect(state(lock)).toEqual({ holder: 'a', queue: ['d', 'c', 'e', 'b'] });
    expect(lock.acquire(request('c', { priority: 5 }))).toMatchObject({ status: 'queued', position: 2 });
    expect(lock.acquire(request('a'))).toMatchObject({ status: 'granted', lease: { leaseId: 'a' } });
    expect(lock.queue).toHaveLength(4);

    const granted: string[] = [];
    for (const leaseId of ['a', 'd', 'c', 'e']) {
      lock.release(leaseId);
      granted.push(lock.holder!.leaseId);
    }
    expect(granted).toEqual(['d', 'c', 'e', 'b']);
  });

  test('queue: false is busy while anyone holds or waits, and queues nothing', () => {
    const { lock } = lockOnHost();
    expect(lock.acquire(request('a', { queue: false }))).toMatchObject({ status: 'granted' });
    expect(lock.acquire(request('b', { queue: false }))).toEqual({ status: 'busy', holder: expect.objectContaining({ leaseId: 'a' }) });
    expect(lock.queue).toEqual([]);
    lock.acquire(request('c'));
    lock.release('a');
    // Only the waiter c remains ahead, and it now holds the lock.
    expect(lock.acquire(request('d', { queue: false }))).toMatchObject({ status: 'busy', holder: { leaseId: 'c' } });
  });

  test('a full queue refuses the next waiter, tells a requesting workflow why, and does not take it later', () => {
    const { lock } = lockOnHost();
    lock.acquire(request('holder'));
    for (let i = 0; i < MAX_LOCK_QUEUE; i++) lock.acquire(request(`w${i}`));
    const version = lock.version;
    expect(lock.acquire(fromWorkflow('late'))).toMatchObject({ status: 'busy', holder: { leaseId: 'holder' } });
    expect(lock.version).toBe(version);
    expect(notices(lock)).toEqual([
      {
        to: { workflowId: 'run/late', runId: 'r-late' },
        revoke: { hostId: 'web-1', leaseId: 'late', cause: 'refused', message: `host web-1 already has ${MAX_LOCK_QUEUE} waiters for its lock; try again once the queue shortens` },
      },
    ]);
    lock.release('w0');
    expect(lock.acquire(fromWorkflow('late'))).toEqual({ status: 'ended' });
  });

  test('a requesting workflow is told when its lease is granted, and gives it up if it is gone', () => {
    const { lock, advance } = lockOnHost();
    lock.acquire(request('a'));
    lock.acquire(fromWorkflow('b', { ttlSeconds: 30 }));
    lock.acquire(fromWorkflow('c'));
    expect(lock.hasNotices).toBe(false);
    advance(5_000);
    lock.release('a');
    const [grant] = notices(lock);
    expect(grant).toEqual({ to: { workflowId: 'run/b', runId: 'r-b' }, grant: { hostId: 'web-1', leaseId: 'b', expiresAt: '2026-03-01T10:00:35.000Z' } });
    lock.requesterGone(grant!);
    expect(state(lock)).toEqual({ holder: 'c', queue: [] });
    const [next] = notices(lock);
    // A revocation that cannot be delivered changes nothing more.
    lock.requesterGone({ to: next!.to, revoke: { hostId: 'web-1', leaseId: 'x', cause: 'expired', message: 'gone' } });
    expect(state(lock)).toEqual({ holder: 'c', queue: [] });
  });

  test('release is idempotent: a repeated, stale or unknown lease id changes nothing, and an ended lease never comes back', () => {
    const { lock } = lockOnHost();
    lock.acquire(request('a'));
    lock.acquire(request('b'));
    lock.acquire(request('c'));
    lock.release('b');
    expect(state(lock)).toEqual({ holder: 'a', queue: ['c'] });
    const version = lock.version;
    lock.release('b');
    lock.release('never-seen');
    expect(lock.version).toBe(version);
    expect(state(lock)).toEqual({ holder: 'a', queue: ['c'] });
    // A withdrawal that overtook its own acquire: the acquire arrives late and is not queued.
    expect(lock.acquire(request('never-seen'))).toEqual({ status: 'ended' });
    expect(lock.acquire(request('b'))).toEqual({ status: 'ended' });
    lock.release('a');
    lock.release('c');
    expect(lock.idle).toBe(true);
    expect(lock.expiresAt).toBeNull();
  });

  test('the ended lease ids it remembers are the latest 200', () => {
    const { lock } = lockOnHost();
    for (let i = 0; i < 205; i++) lock.release(`old-${i}`);
    expect(lock.snapshot().ended).toHaveLength(200);
    expect(lock.snapshot().ended[0]).toBe('old-5');
    expect(lock.acquire(request('old-4'))).toMatchObject({ status: 'granted' });
  });

  test('a held lease extends by its TTL up to its maximum count; only its holder extends it, and only while it runs', () => {
    const { lock, advance } = lockOnHost();
    lock.acquire(request('a', { ttlSeconds: 60, maxExtensions: 2 }));
    lock.acquire(request('b'));
    advance(10_000);
    expect(lock.extend('a')).toMatchObject({ expiresAt: '2026-03-01T10:02:00.000Z', extensions: 1 });
    expect(lock.extend('a')).toMatchObject({ expiresAt: '2026-03-01T10:03:00.000Z', extensions: 2 });
    const version = lock.version;
    const limit = refusal(() => lock.checkExtend('a'));
    expect(limit.type).toBe('ExtensionLimit');
    expect(limit.message).toBe('the lease on host web-1 was already extended 2 times, the most it may be; release it and acquire the lock again');
    expect(refusal(() => lock.extend('a')).type).toBe('ExtensionLimit');
    expect(lock.version).toBe(version);

    const other = refusal(() => lock.checkExtend('b'));
    expect(other.type).toBe('NotLockHolder');
    expect(other.message).toBe('lease b does not hold the lock of host web-1: it is held by lease a (execution lock held by a@example.com (work of a))');

    advance(3 * 60_000);
    expect(refusal(() => lock.checkExtend('a')).message).toBe('lease a does not hold the lock of host web-1: that lease has ended');
    lock.release('a');
    lock.release('b');
    expect(refusal(() => lock.checkExtend('a')).message).toBe('lease a does not hold the lock of host web-1: that lease has ended');
  });

  test('a lease nobody releases expires at its TTL, its workflow is told, and the next waiter gets the lock', () => {
    const { lock, advance } = lockOnHost();
    lock.acquire(fromWorkflow('a', { ttlSeconds: 60 }));
    lock.acquire(request('b'));
    lock.extend('a');
    notices(lock);
    advance(119_999);
    lock.expireDue();
    expect(state(lock)).toEqual({ holder: 'a', queue: ['b'] });
    advance(1);
    lock.expireDue();
    expect(state(lock)).toEqual({ holder: 'b', queue: [] });
    expect(lock.holder).toMatchObject({ acquiredAt: '2026-03-01T10:02:00.000Z' });
    expect(notices(lock)).toEqual([
      { to: { workflowId: 'run/a', runId: 'r-a' }, revoke: { hostId: 'web-1', leaseId: 'a', cause: 'expired', message: 'the lease on host web-1 expired after 60 s and 1 extensions without a release' } },
    ]);
    expect(lock.acquire(request('a'))).toEqual({ status: 'ended' });
  });

  test('an admin force release revokes the holder with who and why, and the next waiter gets the lock', () => {
    const { lock } = lockOnHost();
    lock.acquire(fromWorkflow('a'));
    lock.acquire(fromWorkflow('b'));
    notices(lock);
    const released = lock.forceRelease({ by: 'admin@example.com', reason: 'kernel panic' });
    expect(released).toMatchObject({ leaseId: 'a' });
    expect(state(lock)).toEqual({ holder: 'b', queue: [] });
    expect(notices(lock)).toEqual([
      { to: { workflowId: 'run/a', runId: 'r-a' }, revoke: { hostId: 'web-1', leaseId: 'a', cause: 'force_released', message: 'the lock of host web-1 was force-released by admin@example.com: kernel panic' } },
      { to: { workflowId: 'run/b', runId: 'r-b' }, grant: { hostId: 'web-1', leaseId: 'b', expiresAt: '2026-03-01T10:01:00.000Z' } },
    ]);
    lock.release('b');
    expect(lock.forceRelease({ by: 'admin@example.com', reason: 'again' })).toBeNull();
  });

  test('requests that say too little are refused before anything changes', () => {
    const { lock } = lockOnHost();
    for (const bad of [request(''), request('a', { reason: '  ' }), request('a', { ttlSeconds: 0 }), request('a', { ttlSeconds: Number.NaN })]) {
      const refused = refusal(() => lock.checkAcquire(bad));
      expect(refused.type).toBe('InvalidLockRequest');
    }
    expect(refusal(() => lock.checkAcquire(request('a', { ttlSeconds: -5 }))).message).toBe('a lock request needs a positive TTL');
    expect(refusal(() => lock.checkAcquire(request('a', { reason: '' }))).message).toBe('a lock request needs a lease id and a reason');
    lock.acquire(request('a'));
    for (const bad of [{ by: '', reason: 'why' }, { by: 'admin', reason: ' ' }]) {
      expect(refusal(() => lock.forceRelease(bad))).toMatchObject({ type: 'InvalidLockRequest', message: 'a force release needs who does it and why' });
    }
    expect(state(lock)).toEqual({ holder: 'a', queue: [] });
    expect(lock.version).toBe(2);
  });

  test('every change bumps the version; the snapshot carries holder, queue, arrival order and ended ids to the next run', () => {
    const { lock, clock } = lockOnHost();
    lock.acquire(request('a'));
    lock.acquire(request('b', { priority: 1 }));
    lock.acquire(request('c', { priority: 1 }));
    lock.release('gone');
    expect(lock.changes).toBe(4);
    expect(lock.version).toBe(4);

    const next = new HostLock('web-1', structuredClone(lock.snapshot()), () => clock.now);
    expect(next.changes).toBe(0);
    expect(next.version).toBe(4);
    expect(state(next)).toEqual({ holder: 'a', queue: ['b', 'c'] });
    next.acquire(request('d', { priority: 1 }));
    expect(state(next)).toEqual({ holder: 'a', queue: ['b', 'c', 'd'] });
    expect(next.acquire(request('gone'))).toEqual({ status: 'ended' });
    expect(next.version).toBe(5);
  });
});
