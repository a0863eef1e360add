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
import {
  type AcquireResult,
  compareWaiters,
  describeHolder,
  type HostLockState,
  type LockGrant,
  type LockLease,
  type LockRequest,
  type LockRevocation,
  MAX_LOCK_QUEUE,
} from '@drydock/core/host-lock';
import { SearchAttr } from '@drydock/temporal/names';
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
/** Lease ids remembered after they end, so a late duplicate acquire cannot bring one back. */
const ENDED_KEPT = 200;
/** How soon a failed write of the Postgres mirror is tried again. */
const MIRROR_RETRY_MS = 30_000;

const { recordHostLock } = proxyLocalActivities<CentralActivities>({
  startToCloseTimeout: '10 seconds',
  // A database outage must not stall grants and expiries: the loop retries the mirror on its own.
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

type Notice = { to: NonNullable<LockRequest['notify']>; grant: LockGrant } | { to: NonNullable<LockRequest['notify']>; revoke: LockRevocation };

/**
 * `lock/<hostId>` on the central queue: one holder at a time, waiters ordered emergency first, then priority,
 * then arrival. Temporal is the source of truth; a row in `host_locks` mirrors the state for the locks page.
 */
export async function hostLockWorkflow(input: HostLockInput): Promise<void> {
  const { hostId } = input;
  const state: HostLockState = input.state ?? { holder: null, queue: [], ended: [], seq: 0, version: 0 };
  const outbox: Notice[] = [];
  let changes = 0;
  let mirrored = -1;
  let mirrorRetryAt = 0;
  const iso = (ms: number) => new Date(ms).toISOString();

  upsertSearchAttributes([
    { key: SearchAttr.Kind, value: 'host-lock' },
    { key: SearchAttr.Hosts, value: [hostId] },
  ]);

  const changed = () => {
    changes++;
    state.version++;
  };
  const remember = (leaseId: string) => {
    if (!state.ended.includes(leaseId)) state.ended.push(leaseId);
    if (state.ended.length > ENDED_KEPT) state.ended.splice(0, state.ended.length - ENDED_KEPT);
  };
  const position = (leaseId: string) => state.queue.findIndex((l) => l.leaseId === leaseId) + 1;

  const grantNext = () => {
    if (state.holder || state.queue.length === 0) return;
    const next = state.queue.shift()!;
    const now = Date.now();
    state.holder = { ...next, acquiredAt: iso(now), expiresAt: iso(now + next.ttlSeconds * 1000) };
    if (next.notify) outbox.push({ to: next.notify, grant: { hostId, leaseId: next.leaseId, expiresAt: state.holder.expiresAt! } });
    changed();
  };

  const revokeHolder = (cause: LockRevocation['cause'], message: string): LockLease | null => {
    const lease = state.holder;
    if (!lease) return null;
    state.holder = null;
    remember(lease.leaseId);
    if (lease.notify) outbox.push({ to: lease.notify, revoke: { hostId, leaseId: lease.leaseId, cause, message } });
    changed();
    grantNext();
    return lease;
  };

  const acquire = (req: LockRequest): AcquireResult => {
    if (state.holder?.leaseId === req.leaseId) return { status: 'granted', lease: state.holder };
    const waiting = state.queue.find((l) => l.leaseId === req.leaseId);
    if (waiting) return { status: 'queued', lease: waiting, position: position(req.leaseId), holder: state.holder };
    if (state.ended.includes(req.leaseId)) return { status: 'ended' };
    if (req.queue === false && (state.holder || state.queue.length > 0)) return { status: 'busy', holder: state.holder };
    if (state.queue.length >= MAX_LOCK_QUEUE) {
      const message = `host ${hostId} already has ${MAX_LOCK_QUEUE} waiters for its lock; try again once the queue shortens`;
      if (req.notify) outbox.push({ to: req.notify, revoke: { hostId, leaseId: req.leaseId, cause: 'refused', message } });
      remember(req.leaseId);
      return { status: 'busy', holder: state.holder };
    }
    const lease: LockLease = { ...req, seq: ++state.seq, requestedAt: iso(Date.now()), acquiredAt: null, expiresAt: null, extensions: 0 };
    state.queue.push(lease);
    state.queue.sort(compareWaiters);
    changed();
    grantNext();
    if (state.holder?.leaseId === lease.leaseId) return { status: 'granted', lease: state.holder };
    return { status: 'queued', lease, position: position(lease.leaseId), holder: state.holder };
  };

  const release = ({ leaseId }: { leaseId: string }) => {
    if (state.holder?.leaseId === leaseId) {
      state.holder = null;
      remember(leaseId);
      changed();
      grantNext();
      return;
    }
    const at = state.queue.findIndex((l) => l.leaseId === leaseId);
    if (at >= 0) {
      state.queue.splice(at, 1);
      changed();
    }
    // Remembered even when unknown: a withdrawal may overtake the acquire it withdraws.
    remember(leaseId);
  };

  setHandler(acquireUpdate, acquire, {
    validator: (req) => {
      if (!req.leaseId || !req.reason.trim()) throw ApplicationFailure.nonRetryable('a lock request needs a lease id and a reason', 'InvalidLockRequest');
      if (!(req.ttlSeconds > 0)) throw ApplicationFailure.nonRetryable('a lock request needs a positive TTL', 'InvalidLockRequest');
    },
  });
  setHandler(acquireSignal, (req) => void acquire(req));
  setHandler(releaseSignal, release);
  setHandler(
    extendUpdate,
    () => {
      const lease = state.holder!;
      lease.expiresAt = iso(Date.parse(lease.expiresAt!) + lease.ttlSeconds * 1000);
      lease.extensions++;
      changed();
      return lease;
    },
    {
      validator: ({ leaseId }) => {
        const lease = state.holder;
        if (!lease || lease.leaseId !== leaseId || Date.parse(lease.expiresAt!) <= Date.now()) {
          const note = lease && lease.leaseId !== leaseId ? `it is held by lease ${lease.leaseId} (${describeHolder(lease)})` : 'that lease has ended';
          throw ApplicationFailure.nonRetryable(`lease ${leaseId} does not hold the lock of host ${hostId}: ${note}`, 'NotLockHolder');
        }
        if (lease.extensions >= lease.maxExtensions) {
          throw ApplicationFailure.nonRetryable(
            `the lease on host ${hostId} was already extended ${lease.extensions} times, the most it may be; release it and acquire the lock again`,
            'ExtensionLimit',
          );
        }
      },
    },
  );
  setHandler(forceReleaseUpdate, ({ by, reason }) => revokeHolder('force_released', `the lock of host ${hostId} was force-released by ${by}: ${reason}`), {
    validator: ({ by, reason }) => {
      if (!by || !reason.trim()) throw ApplicationFailure.nonRetryable('a force release needs who does it and why', 'InvalidLockRequest');
    },
  });
  setHandler(lockStateQuery, () => ({ holder: state.holder, queue: state.queue }));

  /** Grants and revocations reach requesting workflows by signal; a requester that is gone gives its lease up. */
  const deliver = async () => {
    while (outbox.length > 0) {
      const notice = outbox.shift()!;
      const target = getExternalWorkflowHandle(notice.to.workflowId, notice.to.runId);
      try {
        if ('grant' in notice) await target.signal(lockGrantedSignal, notice.grant);
        else await target.signal(lockRevokedSignal, notice.revoke);
      } catch (err) {
        log.warn('lock requester is gone', { hostId, workflowId: notice.to.workflowId, error: String(err) });
        if ('grant' in notice) release({ leaseId: notice.grant.leaseId });
      }
    }
  };

  const mirror = async () => {
    const version = state.version;
    try {
      await recordHostLock({ hostId, holder: state.holder, queue: state.queue, changedAt: iso(Date.now()), version });
      mirrored = version;
    } catch (err) {
      log.warn('could not mirror the host lock to Postgres; retrying later', { hostId, error: String(err) });
      mirrorRetryAt = Date.now() + MIRROR_RETRY_MS;
    }
  };

  const expireDue = () => {
    const lease = state.holder;
    if (lease && Date.parse(lease.expiresAt!) <= Date.now()) {
      revokeHolder('expired', `the lease on host ${hostId} expired after ${lease.ttlSeconds} s${lease.extensions ? ` and ${lease.extensions} extensions` : ''} without a release`);
    }
  };
  const idle = () => !state.holder && state.queue.length === 0;

  for (;;) {
    expireDue();
    await deliver();
    if (mirrored !== state.version && Date.now() >= mirrorRetryAt) await mirror();
    if (outbox.length > 0) continue;

    if (workflowInfo().continueAsNewSuggested || changes >= (input.changesPerRun ?? CHANGES_PER_RUN)) {
      // Updates in flight finish here first; signals that arrive meanwhile are processed before the command is sent.
      // A pending mirror write does not hold it up: the next run writes its state first thing.
      await condition(allHandlersFinished);
      if (outbox.length === 0) await continueAsNew<typeof hostLockWorkflow>({ ...input, state });
      continue;
    }

    const seen = changes;
    const wake = () => changes !== seen || outbox.length > 0;
    const untilExpiry = state.holder ? Math.max(1, Date.parse(state.holder.expiresAt!) - Date.now()) : Infinity;
    const untilMirror = mirrored !== state.version ? Math.max(1, mirrorRetryAt - Date.now()) : Infinity;
    if (idle() && untilMirror === Infinity) {
      const woke = await condition(wake, input.idleLingerMs ?? IDLE_LINGER_MS);
      // Decided in the same activation as the check: a signal that lands after it fails the completion and is handled by a new task.
      if (!woke && idle() && outbox.length === 0 && allHandlersFinished()) return;
      continue;
    }
    const timeout = Math.min(untilExpiry, untilMirror);
    if (timeout === Infinity) await condition(wake);
    else await condition(wake, timeout);
  }
}
