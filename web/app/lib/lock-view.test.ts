import type { HostLockView, LockLeaseView } from '@drydock/core/host-lock';
import { describe, expect, test } from 'vitest';
import { withoutEndedLeases } from './lock-view.ts';

function lease(leaseId: string, position: number | null): LockLeaseView {
  return {
    leaseId,
    type: 'execution',
    priority: 0,
    reason: 'kernel upgrade',
    holder: { kind: 'user', id: 'u1', name: 'admin@drydock.local' },
    ttlSeconds: 3_600,
    requestedAt: '2026-01-01T00:00:00.000Z',
    acquiredAt: position === null ? '2026-01-01T00:00:00.000Z' : null,
    expiresAt: null,
    extensions: 0,
    maxExtensions: 3,
    position,
  };
}

const lock = (hostId: string, holder: LockLeaseView | null, queue: LockLeaseView[]): HostLockView => ({ hostId, holder, queue, updatedAt: null });

describe('the locks list after a release', () => {
  test('a released lease no longer shows, though the list still has it', () => {
    const listed = [lock('db-1', lease('mine', null), []), lock('db-2', lease('theirs', null), [])];
    expect(withoutEndedLeases(listed, new Set(['mine'])).map((l) => l.hostId)).toEqual(['db-2']);
  });

  test('a released holder leaves its waiters, the next of them about to be granted the lock', () => {
    const [after] = withoutEndedLeases([lock('db-1', lease('mine', null), [lease('run-1', 1), lease('run-2', 2)])], new Set(['mine']));
    expect(after?.holder).toBeNull();
    expect(after?.queue.map((w) => [w.leaseId, w.position])).toEqual([
      ['run-1', 1],
      ['run-2', 2],
    ]);
  });

  test('a withdrawn waiter leaves the queue and those behind it move up', () => {
    const [after] = withoutEndedLeases([lock('db-1', lease('run-1', null), [lease('mine', 1), lease('run-2', 2)])], new Set(['mine']));
    expect(after?.holder?.leaseId).toBe('run-1');
    expect(after?.queue.map((w) => [w.leaseId, w.position])).toEqual([['run-2', 1]]);
  });

  test('nothing ended, nothing hidden', () => {
    const listed = [lock('db-1', lease('a', null), [lease('b', 1)])];
    expect(withoutEndedLeases(listed, new Set())).toEqual(listed);
  });
});
