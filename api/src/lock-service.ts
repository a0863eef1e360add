import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import {
  type AcquireResult,
  ConflictError,
  DEFAULT_MAX_EXTENSIONS,
  describeHolder,
  ForbiddenError,
  type HostLockState,
  type HostLockListItem,
  type LockAcquireBody,
  type LockAcquired,
  type LockLease,
  type LockLeaseView,
  type LockListQuery,
  type LockRequest,
  newId,
  NotFoundError,
  toHostLockView,
  toLeaseView,
  type User,
  ValidationError,
} from '@drydock/core';
import { CENTRAL_QUEUE, lockWorkflowId } from '@drydock/temporal';
import { acquireUpdate, extendUpdate, forceReleaseUpdate, hostLockWorkflowRef, lockStateQuery, releaseSignal } from '@drydock/workflows/messages';
import type { ApiDeps } from './context.ts';

// The API side of host locks: decisions go to lock/<hostId> in Temporal; lists come from its Postgres mirror.

type LockState = Pick<HostLockState, 'holder' | 'queue'>;

type AcquireOutcome = LockAcquired;

async function hostOf(deps: ApiDeps, teamId: string, hostId: string) {
  const host = await deps.db.selectFrom('hosts').select(['id', 'name']).where('team_id', '=', teamId).where('id', '=', hostId).executeTakeFirst();
  if (!host) throw new NotFoundError('host', hostId);
  return host;
}

/** A refusal from the lock workflow becomes the domain error that says what to do. */
function fromLockFailure(err: unknown): never {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    if (err.cause.type === 'InvalidLockRequest') throw new ValidationError(err.cause.message);
    throw new ConflictError(err.cause.message);
  }
  throw err;
}

/** Every host of the team whose lock is held or waited for, from the mirror: one query, no Temporal round trip. */
export async function listLocks(deps: ApiDeps, teamId: string, q: LockListQuery): Promise<HostLockListItem[]> {
  let query = deps.db
    .selectFrom('host_locks as l')
    .innerJoin('hosts as h', 'h.id', 'l.host_id')
    .select(['l.host_id', 'h.name as host_name', 'l.holder', 'l.queue', 'l.changed_at'])
    .where('h.team_id', '=', teamId)
    .where((eb) => eb.or([eb('l.holder', 'is not', null), eb(sql<number>`jsonb_array_length(l.queue)`, '>', 0)]));
  if (q.host) query = query.where('l.host_id', '=', q.host);
  if (q.type) query = query.where((eb) => eb.or([eb('l.lock_type', '=', q.type!), sql<boolean>`l.queue @> ${JSON.stringify([{ type: q.type }])}::jsonb`]));
  const rows = await query.orderBy('h.name').execute();
  return rows.map((r) => ({ ...toHostLockView(r.host_id, { holder: r.holder, queue: r.queue }, r.changed_at.toISOString()), hostName: r.host_name }));
}

/** One host's lock as Temporal has it now; a host whose lock workflow is not running holds no lock. */
export async function getLock(deps: ApiDeps, teamId: string, hostId: string): Promise<HostLockListItem> {
  const host = await hostOf(deps, teamId, hostId);
  const state = await liveState(deps, hostId);
  return { ...toHostLockView(hostId, state ?? { holder: null, queue: [] }, null), hostName: host.name };
}

async function liveState(deps: ApiDeps, hostId: string): Promise<LockState | null> {
  const handle = deps.temporal.workflow.getHandle(lockWorkflowId(hostId));
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') return null;
    return await handle.query(lockStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

export async function acquireLock(deps: ApiDeps, user: User, hostId: string, body: LockAcquireBody): Promise<AcquireOutcome> {
  await hostOf(deps, user.team_id, hostId);
  if (body.type !== 'execution' && user.role !== 'admin') {
    throw new ForbiddenError(`only admins take ${body.type} locks; take an execution lock, or ask an admin`);
  }
  const request: LockRequest = {
    leaseId: `user:${newId()}`,
    type: body.type,
    priority: body.priority,
    ttlSeconds: body.ttlSeconds,
    maxExtensions: DEFAULT_MAX_EXTENSIONS,
    reason: body.reason,
    holder: { kind: 'user', id: user.id, name: user.email },
    queue: body.wait,
  };
  let answer: AcquireResult | undefined;
  // An idle lock may complete just as the request arrives; the next attempt starts it again.
  for (let attempt = 1; answer === undefined; attempt++) {
    try {
      answer = await deps.temporal.workflow.executeUpdateWithStart(acquireUpdate, {
        args: [request],
        updateId: request.leaseId,
        startWorkflowOperation: new WithStartWorkflowOperation(hostLockWorkflowRef, {
          workflowId: lockWorkflowId(hostId),
          taskQueue: CENTRAL_QUEUE,
          args: [{ hostId }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError || attempt >= 3) fromLockFailure(err);
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
  if (answer.status === 'busy') {
    const held = answer.holder ? describeHolder(answer.holder) : 'other requests wait for it';
    throw new ConflictError(`host ${hostId} is locked: ${held}; ask again with wait: true to queue for it`);
  }
  if (answer.status === 'ended') throw new ConflictError(`lease ${request.leaseId} ended before it was granted; ask again`);
  if (answer.status === 'granted') return { status: 'granted', lease: toLeaseView(answer.lease, null) };
  return { status: 'queued', lease: toLeaseView(answer.lease, answer.position), position: answer.position, holder: answer.holder ? toLeaseView(answer.holder, null) : null };
}

/** The lease, held or waiting, if the caller may act on it: their own, from the API. */
async function ownLease(deps: ApiDeps, user: User, hostId: string, leaseId: string): Promise<{ lease: LockLease; held: boolean }> {
  await hostOf(deps, user.team_id, hostId);
  const state = await liveState(deps, hostId);
  const held = state?.holder?.leaseId === leaseId;
  const lease = held ? state!.holder! : state?.queue.find((l) => l.leaseId === leaseId);
  if (!lease) throw new NotFoundError(`lease on host ${hostId}`, `${leaseId} (it may have expired or been released)`);
  if (lease.holder.kind !== 'user' || lease.holder.id !== user.id) {
    throw new ForbiddenError(`lease ${leaseId} belongs to ${lease.holder.name}; only its holder releases or extends it, and an admin can force-release the lock`);
  }
  return { lease, held };
}

export async function extendLock(deps: ApiDeps, user: User, hostId: string, leaseId: string): Promise<LockLeaseView> {
  const { held } = await ownLease(deps, user, hostId, leaseId);
  if (!held) throw new ConflictError(`lease ${leaseId} is still waiting for the lock of host ${hostId}; only a held lease extends`);
  try {
    const lease = await deps.temporal.workflow.getHandle(lockWorkflowId(hostId)).executeUpdate(extendUpdate, { args: [{ leaseId }] });
    return toLeaseView(lease, null);
  } catch (err) {
    return fromLockFailure(err);
  }
}

/** Releases a held lease or withdraws a waiting one; sent as a signal, which the lock treats idempotently. */
export async function releaseLock(deps: ApiDeps, user: User, hostId: string, leaseId: string): Promise<{ released: LockLeaseView; wasHolder: boolean }> {
  const { lease, held } = await ownLease(deps, user, hostId, leaseId);
  await deps.temporal.workflow.getHandle(lockWorkflowId(hostId)).signal(releaseSignal, { leaseId, reason: `released by ${user.email}` });
  return { released: toLeaseView(lease, null), wasHolder: held };
}

export async function forceReleaseLock(deps: ApiDeps, user: User, hostId: string, reason: string): Promise<LockLeaseView> {
  if (user.role !== 'admin') throw new ForbiddenError('only admins force-release a lock; its holder can release it');
  await hostOf(deps, user.team_id, hostId);
  const nothing = new ConflictError(`nobody holds the lock of host ${hostId}; there is nothing to force-release`);
  if (!(await liveState(deps, hostId))?.holder) throw nothing;
  let released: LockLease | null;
  try {
    released = await deps.temporal.workflow
      .getHandle(lockWorkflowId(hostId))
      .executeUpdate(forceReleaseUpdate, { args: [{ by: user.email, reason }] });
  } catch (err) {
    return fromLockFailure(err);
  }
  if (!released) throw nothing;
  return toLeaseView(released, null);
}
