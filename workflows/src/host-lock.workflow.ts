import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CentralActivities } from '@drydock/activities';
import type { HostLockState } from '@drydock/core/host-lock';
import { searchAttributes } from '@drydock/temporal/search-attributes';
import { HostLock, LockRefusal } from './host-lock-state.ts';
import { acquireSignal, acquireUpdate, extendUpdate, forceReleaseUpdate, lockGrantedSignal, lockRevokedSignal, lockStateQuery, releaseSignal } from './host-lock.messages.ts';

export interface HostLockInput {
  hostId: string;
  /** The state a previous run handed over with continue-as-new. */
  state?: HostLockState;
  /** How long the lock stays up with no holder and no waiter before it completes; the next request starts it again. */
  idleLingerMs?: number;
  /** Changes one run handles before it continues as new; tests make it small. */
  changesPerRun?: number;
}

/** An idle lock completes after this long: no workflow per host lingers forever, and a busy host keeps its lock up. */
const IDLE_LINGER_MS = 10 * 60_000;
/** Changes handled by one run before it continues as new, so its history stays short whatever the server suggests. */
const CHANGES_PER_RUN = 500;
/** How soon a failed write of the Postgres mirror is tried again. */
const MIRROR_RETRY_MS = 30_000;

const { recordHostLock } = proxyLocalActivities<CentralActivities>({
  startToCloseTimeout: '10 seconds',
  // A database outage must not stall grants and expiries: the loop retries the mirror on its own.
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

/** A refusal fails the update with its type and message; anything else thrown in a handler is a bug that fails the task. */
function refused<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof LockRefusal) throw ApplicationFailure.nonRetryable(err.message, err.type);
    throw err;
  }
}

/**
 * `lock/<hostId>` on the central queue: one holder at a time, waiters ordered emergency first, then priority,
 * then arrival. The rules are HostLock's; this workflow feeds it messages and time, delivers its grants and
 * revocations, mirrors it to `host_locks` for the locks page, and continues as new with its snapshot.
 */
export async function hostLockWorkflow(input: HostLockInput): Promise<void> {
  const { hostId } = input;
  const lock = new HostLock(hostId, input.state, () => Date.now());
  let mirrored = -1;
  let mirrorRetryAt = 0;

  upsertSearchAttributes(searchAttributes({ kind: 'host-lock', hosts: [hostId] }));

  setHandler(acquireUpdate, (req) => lock.acquire(req), { validator: (req) => refused(() => lock.checkAcquire(req)) });
  setHandler(acquireSignal, (req) => void lock.acquire(req));
  setHandler(releaseSignal, ({ leaseId }) => lock.release(leaseId));
  setHandler(extendUpdate, ({ leaseId }) => refused(() => lock.extend(leaseId)), { validator: ({ leaseId }) => refused(() => lock.checkExtend(leaseId)) });
  setHandler(forceReleaseUpdate, (request) => refused(() => lock.forceRelease(request)), { validator: (request) => refused(() => lock.checkForceRelease(request)) });
  setHandler(lockStateQuery, () => ({ holder: lock.holder, queue: lock.queue }));

  /** Grants and revocations reach requesting workflows by signal; a requester that is gone gives its lease up. */
  const deliver = async () => {
    for (let notice = lock.nextNotice(); notice; notice = lock.nextNotice()) {
      const target = getExternalWorkflowHandle(notice.to.workflowId, notice.to.runId);
      try {
        if ('grant' in notice) await target.signal(lockGrantedSignal, notice.grant);
        else await target.signal(lockRevokedSignal, notice.revoke);
      } catch (err) {
        log.warn('lock requester is gone', { hostId, workflowId: notice.to.workflowId, error: String(err) });
        lock.requesterGone(notice);
      }
    }
  };

  const mirror = async () => {
    const version = lock.version;
    try {
      await recordHostLock({ hostId, holder: lock.holder, queue: lock.queue, changedAt: new Date(Date.now()).toISOString(), version });
      mirrored = version;
    } catch (err) {
      log.warn('could not mirror the host lock to Postgres; retrying later', { hostId, error: String(err) });
      mirrorRetryAt = Date.now() + MIRROR_RETRY_MS;
    }
  };

  for (;;) {
    lock.expireDue();
    await deliver();
    if (mirrored !== lock.version && Date.now() >= mirrorRetryAt) await mirror();
    if (lock.hasNotices) continue;

    if (workflowInfo().continueAsNewSuggested || lock.changes >= (input.changesPerRun ?? CHANGES_PER_RUN)) {
      // Updates in flight finish here first; signals that arrive meanwhile are processed before the command is sent.
      // A pending mirror write does not hold it up: the next run writes its state first thing.
      await condition(allHandlersFinished);
      if (!lock.hasNotices) await continueAsNew<typeof hostLockWorkflow>({ ...input, state: lock.snapshot() });
      continue;
    }

    const seen = lock.changes;
    const wake = () => lock.changes !== seen || lock.hasNotices;
    const expiresAt = lock.expiresAt;
    const untilExpiry = expiresAt !== null ? Math.max(1, expiresAt - Date.now()) : Infinity;
    const untilMirror = mirrored !== lock.version ? Math.max(1, mirrorRetryAt - Date.now()) : Infinity;
    if (lock.idle && untilMirror === Infinity) {
      const woke = await condition(wake, input.idleLingerMs ?? IDLE_LINGER_MS);
      // Decided in the same activation as the check: a signal that lands after it fails the completion and is handled by a new task.
      if (!woke && lock.idle && !lock.hasNotices && allHandlersFinished()) return;
      continue;
    }
    const timeout = Math.min(untilExpiry, untilMirror);
    if (timeout === Infinity) await condition(wake);
    else await condition(wake, timeout);
  }
}
