import type { HostLockView } from '@drydock/core/host-lock';

/**
 * The locks list without leases that have just ended. The list is a mirror the lock workflow writes a moment after
 * it handles a release, so the page that says "Released your lease" would otherwise still show it, with its Release
 * button, until the mirror catches up. A lock left without holder or waiter leaves the list.
 */
export function withoutEndedLeases<L extends HostLockView>(locks: readonly L[], ended: ReadonlySet<string>): L[] {
  if (ended.size === 0) return [...locks];
  const out: L[] = [];
  for (const lock of locks) {
    const holder = lock.holder && ended.has(lock.holder.leaseId) ? null : lock.holder;
    const queue = lock.queue.filter((w) => !ended.has(w.leaseId));
    if (holder === null && queue.length === 0) continue;
    out.push({ ...lock, holder, queue: queue.length === lock.queue.length ? lock.queue : queue.map((w, i) => ({ ...w, position: i + 1 })) });
  }
  return out;
}
