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

// The state machine of one host's lock, with no Temporal in it: hostLockWorkflow feeds it messages and the clock,
// delivers its notices and mirrors its state. Unit-tested on its own (host-lock-state.test.ts).

/** Lease ids remembered after they end, so a late duplicate acquire cannot bring one back. */
const ENDED_KEPT = 200;

type Requester = NonNullable<LockRequest['notify']>;
/** A grant or a revocation for a requesting workflow, which the lock workflow delivers by signal. */
export type LockNotice = { to: Requester; grant: LockGrant } | { to: Requester; revoke: LockRevocation };

/** A request the lock refuses before it changes anything; the workflow fails the update with `type`. */
export class LockRefusal extends Error {
  readonly type: 'InvalidLockRequest' | 'NotLockHolder' | 'ExtensionLimit';
  constructor(message: string, type: LockRefusal['type']) {
    super(message);
    this.name = 'LockRefusal';
    this.type = type;
  }
}

/**
 * One holder at a time; waiters ordered emergency first, then priority, then arrival. Leases expire at their
 * TTL, extend a limited number of times, release idempotently by lease id; an admin can force-release.
 * The check* methods throw a LockRefusal and change nothing: update validators call them.
 */
export class HostLock {
  readonly hostId: string;
  readonly #state: HostLockState;
  readonly #now: () => number;
  readonly #outbox: LockNotice[] = [];
  #changes = 0;

  /** `snapshot` is what a previous run handed over with continue-as-new; `now` is the (workflow) clock in ms. */
  constructor(hostId: string, snapshot: HostLockState | undefined, now: () => number) {
    this.hostId = hostId;
    this.#state = snapshot ?? { holder: null, queue: [], ended: [], seq: 0, version: 0 };
    this.#now = now;
  }

  get holder(): LockLease | null {
    return this.#state.holder;
  }
  get queue(): LockLease[] {
    return this.#state.queue;
  }
  /** Bumped on every change: orders the Postgres mirror's writes, across runs too. */
  get version(): number {
    return this.#state.version;
  }
  /** Changes made since this object was created, that is in this run of the workflow. */
  get changes(): number {
    return this.#changes;
  }
  get idle(): boolean {
    return !this.#state.holder && this.#state.queue.length === 0;
  }
  /** When the holder's lease runs out, in ms; null with no holder. */
  get expiresAt(): number | null {
    return this.#state.holder ? Date.parse(this.#state.holder.expiresAt!) : null;
  }
  /** What continue-as-new carries to the next run. */
  snapshot(): HostLockState {
    return this.#state;
  }

  get hasNotices(): boolean {
    return this.#outbox.length > 0;
  }
  /** The oldest notice not yet delivered, removed from the outbox. */
  nextNotice(): LockNotice | undefined {
    return this.#outbox.shift();
  }

  checkAcquire(req: LockRequest): void {
    if (!req.leaseId || !req.reason.trim()) throw new LockRefusal('a lock request needs a lease id and a reason', 'InvalidLockRequest');
    if (!(req.ttlSeconds > 0)) throw new LockRefusal('a lock request needs a positive TTL', 'InvalidLockRequest');
  }

  /** Asking again with a lease id is the same request; an ended lease id is not brought back. */
  acquire(req: LockRequest): AcquireResult {
    const state = this.#state;
    if (state.holder?.leaseId === req.leaseId) return { status: 'granted', lease: state.holder };
    const waiting = state.queue.find((l) => l.leaseId === req.leaseId);
    if (waiting) return { status: 'queued', lease: waiting, position: this.#position(req.leaseId), holder: state.holder };
    if (state.ended.includes(req.leaseId)) return { status: 'ended' };
    if (req.queue === false && (state.holder || state.queue.length > 0)) return { status: 'busy', holder: state.holder };
    if (state.queue.length >= MAX_LOCK_QUEUE) {
      const message = `host ${this.hostId} already has ${MAX_LOCK_QUEUE} waiters for its lock; try again once the queue shortens`;
      if (req.notify) this.#outbox.push({ to: req.notify, revoke: { hostId: this.hostId, leaseId: req.leaseId, cause: 'refused', message } });
      this.#remember(req.leaseId);
      return { status: 'busy', holder: state.holder };
    }
    const lease: LockLease = { ...req, seq: ++state.seq, requestedAt: this.#iso(this.#now()), acquiredAt: null, expiresAt: null, extensions: 0 };
    state.queue.push(lease);
    state.queue.sort(compareWaiters);
    this.#changed();
    this.#grantNext();
    if (state.holder?.leaseId === lease.leaseId) return { status: 'granted', lease: state.holder };
    return { status: 'queued', lease, position: this.#position(lease.leaseId), holder: state.holder };
  }

  /** Releases the lease if it holds the lock, withdraws it if it waits; a stale or unknown lease id changes nothing. */
  release(leaseId: string): void {
    const state = this.#state;
    if (state.holder?.leaseId === leaseId) {
      state.holder = null;
      this.#remember(leaseId);
      this.#changed();
      this.#grantNext();
      return;
    }
    const at = state.queue.findIndex((l) => l.leaseId === leaseId);
    if (at >= 0) {
      state.queue.splice(at, 1);
      this.#changed();
    }
    // Remembered even when unknown: a withdrawal may overtake the acquire it withdraws.
    this.#remember(leaseId);
  }

  checkExtend(leaseId: string): void {
    const lease = this.#state.holder;
    if (!lease || lease.leaseId !== leaseId || Date.parse(lease.expiresAt!) <= this.#now()) {
      const note = lease && lease.leaseId !== leaseId ? `it is held by lease ${lease.leaseId} (${describeHolder(lease)})` : 'that lease has ended';
      throw new LockRefusal(`lease ${leaseId} does not hold the lock of host ${this.hostId}: ${note}`, 'NotLockHolder');
    }
    if (lease.extensions >= lease.maxExtensions) {
      throw new LockRefusal(
        `the lease on host ${this.hostId} was already extended ${lease.extensions} times, the most it may be; release it and acquire the lock again`,
        'ExtensionLimit',
      );
    }
  }

  /** Adds the lease's TTL to its expiry. */
  extend(leaseId: string): LockLease {
    this.checkExtend(leaseId);
    const lease = this.#state.holder!;
    lease.expiresAt = this.#iso(Date.parse(lease.expiresAt!) + lease.ttlSeconds * 1000);
    lease.extensions++;
    this.#changed();
    return lease;
  }

  checkForceRelease({ by, reason }: { by: string; reason: string }): void {
    if (!by || !reason.trim()) throw new LockRefusal('a force release needs who does it and why', 'InvalidLockRequest');
  }

  /** An admin takes the lock from its holder, who is told who did it and why; null if nobody held it. */
  forceRelease({ by, reason }: { by: string; reason: string }): LockLease | null {
    this.checkForceRelease({ by, reason });
    return this.#revokeHolder('force_released', `the lock of host ${this.hostId} was force-released by ${by}: ${reason}`);
  }

  /** Revokes the holder if its lease has run out by now. */
  expireDue(): void {
    const lease = this.#state.holder;
    if (lease && Date.parse(lease.expiresAt!) <= this.#now()) {
      const extended = lease.extensions ? ` and ${lease.extensions} extensions` : '';
      this.#revokeHolder('expired', `the lease on host ${this.hostId} expired after ${lease.ttlSeconds} s${extended} without a release`);
    }
  }

  /** A notice could not be delivered because its requester is gone: a lease granted to it is given up. */
  requesterGone(notice: LockNotice): void {
    if ('grant' in notice) this.release(notice.grant.leaseId);
  }

  #grantNext(): void {
    const state = this.#state;
    if (state.holder || state.queue.length === 0) return;
    const next = state.queue.shift()!;
    const now = this.#now();
    state.holder = { ...next, acquiredAt: this.#iso(now), expiresAt: this.#iso(now + next.ttlSeconds * 1000) };
    if (next.notify) this.#outbox.push({ to: next.notify, grant: { hostId: this.hostId, leaseId: next.leaseId, expiresAt: state.holder.expiresAt! } });
    this.#changed();
  }

  #revokeHolder(cause: LockRevocation['cause'], message: string): LockLease | null {
    const lease = this.#state.holder;
    if (!lease) return null;
    this.#state.holder = null;
    this.#remember(lease.leaseId);
    if (lease.notify) this.#outbox.push({ to: lease.notify, revoke: { hostId: this.hostId, leaseId: lease.leaseId, cause, message } });
    this.#changed();
    this.#grantNext();
    return lease;
  }

  #changed(): void {
    this.#changes++;
    this.#state.version++;
  }

  #remember(leaseId: string): void {
    const ended = this.#state.ended;
    if (!ended.includes(leaseId)) ended.push(leaseId);
    if (ended.length > ENDED_KEPT) ended.splice(0, ended.length - ENDED_KEPT);
  }

  #position(leaseId: string): number {
    return this.#state.queue.findIndex((l) => l.leaseId === leaseId) + 1;
  }

  #iso(ms: number): string {
    return new Date(ms).toISOString();
  }
}
