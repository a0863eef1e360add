import {
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CentralActivities } from '@drydock/activities';
import { DEFAULT_MAX_EXTENSIONS, describeHolder, type LockGrant, type LockHolder, type LockLease, type LockRequest, type LockRevocation, type LockType } from '@drydock/core/host-lock';
import { CENTRAL_QUEUE, lockWorkflowId } from '@drydock/temporal/names';
import { acquireUpdate, hostLockWorkflowRef, lockGrantedSignal, lockRevokedSignal, releaseSignal } from './host-lock.messages.ts';

const { acquireHostLock } = proxyActivities<CentralActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

export const HOST_LOCK_TIMEOUT = 'HostLockTimeout';
export const HOST_LOCK_BUSY = 'HostLockBusy';
export const HOST_LOCK_LOST = 'HostLockLost';

export interface HostLockOptions {
  type?: LockType;
  /** Higher is granted first among waiters of the same rank; default 0. */
  priority?: number;
  /** How long the lease lasts if this workflow never releases it (terminated, say): cover the work with room to spare. */
  ttlSeconds: number;
  reason: string;
  holder: LockHolder;
  maxExtensions?: number;
  /** Give up after waiting this long: the request is withdrawn and HostLockTimeout thrown. Omitted: wait until granted or cancelled. */
  waitTimeoutMs?: number;
  /** false: fail with HostLockBusy at once if the lock is not free, instead of queueing. */
  queue?: boolean;
  /** Called once when the request has to wait, with what holds the lock (null if only other waiters are ahead). */
  onWaiting?: (wait: { position: number; holder: LockLease | null }) => Promise<void>;
}

export interface HeldHostLock {
  hostId: string;
  leaseId: string;
  expiresAt: string;
}

interface Pending {
  grant: LockGrant | null;
  revocation: LockRevocation | null;
  /** The work done under the lease: cancelled if the lease is revoked under it. */
  work: CancellationScope | null;
}

// Workflow modules are isolated per execution, so this registry belongs to one workflow run.
const pending = new Map<string, Pending>();
let handlersSet = false;

const revocationOf = (p: Pending): LockRevocation | null => p.revocation;

function listen(): void {
  if (handlersSet) return;
  handlersSet = true;
  setHandler(lockGrantedSignal, (grant) => {
    const p = pending.get(grant.leaseId);
    if (p) p.grant = grant;
  });
  setHandler(lockRevokedSignal, (revocation) => {
    const p = pending.get(revocation.leaseId);
    if (!p) return;
    p.revocation = revocation;
    p.work?.cancel();
  });
}

/**
 * Runs `fn` while this workflow holds the lock of `hostId`, and always gives the lock back.
 *
 * - Asks `lock/<hostId>` (started if needed) through the central activity acquireHostLock, then waits for
 *   the grant signal. While it waits, `onWaiting` is called once.
 * - Cancelling the calling scope while waiting withdraws the request; the lock of anyone else is untouched.
 * - `fn` gets the lease. If the lease is revoked under it (an admin's force release, or its TTL ran out),
 *   `fn`'s scope is cancelled and HostLockLost is thrown with the reason.
 * - Whatever happens (success, failure, cancellation, timeout), the lease is released or withdrawn in a
 *   non-cancellable scope before this returns or throws.
 * - Failures are non-retryable ApplicationFailures of type HostLockTimeout, HostLockBusy or HostLockLost,
 *   with messages that say who holds the lock and what to do; errors from `fn` pass through unchanged.
 */
export async function withHostLock<T>(hostId: string, options: HostLockOptions, fn: (lock: HeldHostLock) => Promise<T>): Promise<T> {
  listen();
  const { workflowId, runId } = workflowInfo();
  const leaseId = `${workflowId}#${uuid4()}`;
  const request: LockRequest = {
    leaseId,
    type: options.type ?? 'execution',
    priority: options.priority ?? 0,
    ttlSeconds: options.ttlSeconds,
    maxExtensions: options.maxExtensions ?? DEFAULT_MAX_EXTENSIONS,
    reason: options.reason,
    holder: options.holder,
    notify: { workflowId, runId },
    queue: options.queue ?? true,
  };
  const p: Pending = { grant: null, revocation: null, work: null };
  pending.set(leaseId, p);
  try {
    // Not cancellable: a release sent while the request is still in flight could overtake it.
    const answer = await CancellationScope.nonCancellable(() =>
      acquireHostLock({
        // The activity addresses the lock by name: @drydock/activities cannot import the workflows that import it.
        lock: { hostId, workflowType: hostLockWorkflowRef.name, workflowId: lockWorkflowId(hostId), taskQueue: CENTRAL_QUEUE, acquireUpdate: acquireUpdate.name },
        request,
      }),
    );
    if (answer.status === 'busy') {
      const held = answer.holder ? describeHolder(answer.holder) : 'other requests are queued';
      throw ApplicationFailure.nonRetryable(`host ${hostId} is locked: ${held}; try again once it is released`, HOST_LOCK_BUSY);
    }
    if (answer.status === 'ended') throw ApplicationFailure.nonRetryable(`the lock request for host ${hostId} was withdrawn before it arrived`, HOST_LOCK_LOST);
    if (answer.status === 'granted') p.grant ??= { hostId, leaseId, expiresAt: answer.lease.expiresAt! };
    else {
      const settled = () => p.grant !== null || p.revocation !== null;
      // The grant may already have come in while the request's answer travelled back.
      if (!settled()) await options.onWaiting?.({ position: answer.position, holder: answer.holder });
      let arrived = true;
      if (options.waitTimeoutMs === undefined) await condition(settled);
      else arrived = await condition(settled, options.waitTimeoutMs);
      if (!arrived) {
        const held = answer.holder ? `the ${describeHolder(answer.holder)}` : 'the requests ahead of it';
        throw ApplicationFailure.nonRetryable(
          `gave up after waiting ${Math.round(options.waitTimeoutMs! / 1000)} s for the lock of host ${hostId}, kept by ${held}; start again once it is released`,
          HOST_LOCK_TIMEOUT,
        );
      }
    }
    if (p.revocation) throw ApplicationFailure.nonRetryable(p.revocation.message, p.revocation.cause === 'refused' ? HOST_LOCK_BUSY : HOST_LOCK_LOST);

    const work = new CancellationScope();
    p.work = work;
    try {
      return await work.run(() => fn({ hostId, leaseId, expiresAt: p.grant!.expiresAt }));
    } catch (err) {
      // Read again: the revocation signal may have arrived while fn ran.
      const revoked = revocationOf(p);
      if (revoked && isCancellation(err)) throw ApplicationFailure.nonRetryable(`${revoked.message}; the work under it was stopped`, HOST_LOCK_LOST);
      throw err;
    }
  } finally {
    pending.delete(leaseId);
    await CancellationScope.nonCancellable(async () => {
      try {
        await getExternalWorkflowHandle(lockWorkflowId(hostId)).signal(releaseSignal, { leaseId });
      } catch {
        // No lock workflow running: it completed idle, so there is nothing of ours to release.
      }
    });
  }
}
