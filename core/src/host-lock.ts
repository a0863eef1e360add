// The host lock contract shared by hostLockWorkflow, the workflows that take locks, the API and the web UI.
// Deterministic and free of Node built-ins and zod: the workflow bundle imports it.
import type { HostLockView, LockLeaseView } from './api/locks.ts';

export const LOCK_TYPES = ['execution', 'maintenance', 'emergency'] as const;
/** execution: a run that needs the host to itself; maintenance: work on the host, runs wait; emergency: jumps the queue. */
export type LockType = (typeof LOCK_TYPES)[number];

/** Extensions a lease may take unless its requester says otherwise; each adds the lease's TTL. */
export const DEFAULT_MAX_EXTENSIONS = 3;
/** The longest lease anyone may ask for: a lost holder keeps a host locked for at most this long. */
export const MAX_LOCK_TTL_SECONDS = 7 * 24 * 3600;
/** More waiters than this on one host is a runaway loop, not a queue; the lock refuses them. */
export const MAX_LOCK_QUEUE = 500;

/** Who holds or waits for a lock: a run, a bulk execution, or a person through the API. */
export interface LockHolder {
  kind: 'run' | 'bulk' | 'user';
  /** The run id, bulk execution id, or user id. */
  id: string;
  /** What the locks page shows: a script and its initiator, or a person's email. */
  name: string;
}

export interface LockRequest {
  /** Chosen by the requester, unique per request: acquiring twice with one id is one request, releasing it is idempotent. */
  leaseId: string;
  type: LockType;
  /** Higher goes first among waiters of the same rank; emergency outranks every priority. */
  priority: number;
  ttlSeconds: number;
  maxExtensions: number;
  reason: string;
  holder: LockHolder;
  /** A requesting workflow, signalled when the lease is granted or revoked; API requesters read the state instead. */
  notify?: { workflowId: string; runId: string };
  /** false: take the lock only if it is free now; otherwise nothing is queued and the answer is `busy`. */
  queue?: boolean;
}

export interface LockLease extends LockRequest {
  /** Arrival order within the lock, carried across continue-as-new. */
  seq: number;
  requestedAt: string;
  acquiredAt: string | null;
  expiresAt: string | null;
  extensions: number;
}

export interface HostLockState {
  holder: LockLease | null;
  /** Waiters in the order they will be granted. */
  queue: LockLease[];
  /** Lease ids released, expired, revoked or withdrawn lately: a late or repeated acquire of one is ignored. */
  ended: string[];
  seq: number;
  /** Bumped on every change; orders the Postgres mirror's writes. */
  version: number;
}

export type AcquireResult =
  | { status: 'granted'; lease: LockLease }
  | { status: 'queued'; lease: LockLease; position: number; holder: LockLease | null }
  | { status: 'busy'; holder: LockLease | null }
  /** The lease id was released or withdrawn before this request arrived: nothing was queued. */
  | { status: 'ended' };

/** Sent to a requesting workflow when its lease becomes the holder. */
export interface LockGrant {
  hostId: string;
  leaseId: string;
  expiresAt: string;
}

/** Sent to a requesting workflow when it loses its lease or its place without releasing it. */
export interface LockRevocation {
  hostId: string;
  leaseId: string;
  cause: 'expired' | 'force_released' | 'refused';
  message: string;
}

// What the locks page and the API show of a lock are zod schemas in api/locks.ts: types only here, so no zod reaches the workflow bundle.
export type { HostLockView, LockLeaseView };

/** Emergency first, then higher priority, then arrival. */
export function compareWaiters(a: Pick<LockLease, 'type' | 'priority' | 'seq'>, b: Pick<LockLease, 'type' | 'priority' | 'seq'>): number {
  const rank = (l: Pick<LockLease, 'type'>) => (l.type === 'emergency' ? 0 : 1);
  return rank(a) - rank(b) || b.priority - a.priority || a.seq - b.seq;
}

export function toLeaseView(lease: LockLease, position: number | null): LockLeaseView {
  return {
    leaseId: lease.leaseId,
    type: lease.type,
    priority: lease.priority,
    reason: lease.reason,
    holder: lease.holder,
    ttlSeconds: lease.ttlSeconds,
    requestedAt: lease.requestedAt,
    acquiredAt: lease.acquiredAt,
    expiresAt: lease.expiresAt,
    extensions: lease.extensions,
    maxExtensions: lease.maxExtensions,
    position,
  };
}

export function toHostLockView(hostId: string, state: Pick<HostLockState, 'holder' | 'queue'>, updatedAt: string | null): HostLockView {
  return {
    hostId,
    holder: state.holder ? toLeaseView(state.holder, null) : null,
    queue: state.queue.map((l, i) => toLeaseView(l, i + 1)),
    updatedAt,
  };
}

/** "maintenance lock held by ops@example.com (kernel upgrade)", for messages that explain a wait. */
export function describeHolder(lease: Pick<LockLease, 'type' | 'holder' | 'reason'>): string {
  return `${lease.type} lock held by ${lease.holder.name}${lease.reason ? ` (${lease.reason})` : ''}`;
}
