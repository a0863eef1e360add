import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type Workflow } from '@temporalio/common';
import { sql } from 'kysely';
import type { Db } from '@drydock/core';
import type { AcquireResult, LockLease, LockRequest } from '@drydock/core/host-lock';
import { notifyRun } from './runs.activities.ts';

export interface HostLockActivityDeps {
  db: Db;
}

/** Where a host's lock workflow lives, by name: Temporal names are spelled in @drydock/temporal, which depends on this package. */
export interface HostLockAddress {
  hostId: string;
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  acquireUpdate: string;
}

/**
 * Workflows can neither start a workflow they do not own nor send it an update, so a requesting workflow
 * asks for a lock through this: update-with-start, answered at once with granted, queued or busy. The lease
 * id is the update id, so a retried attempt is the same request.
 */
export async function acquireHostLock({ lock, request }: { lock: HostLockAddress; request: LockRequest }): Promise<AcquireResult> {
  const { client } = Context.current();
  const startWorkflowOperation = new WithStartWorkflowOperation(lock.workflowType, {
    workflowId: lock.workflowId,
    taskQueue: lock.taskQueue,
    args: [{ hostId: lock.hostId }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  try {
    return await client.workflow.executeUpdateWithStart<Workflow, AcquireResult, [LockRequest]>(lock.acquireUpdate, {
      args: [request],
      updateId: request.leaseId,
      startWorkflowOperation,
    });
  } catch (err) {
    // The lock refused the request: asking again gets the same answer.
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      throw ApplicationFailure.nonRetryable(cause?.message ?? err.message, cause?.type ?? 'LockRefused');
    }
    throw err;
  }
}

export interface HostLockMirror {
  hostId: string;
  holder: LockLease | null;
  queue: LockLease[];
  /** Workflow time of the change, and the lock's change counter: together they order writes across runs. */
  changedAt: string;
  version: number;
}

export function createHostLockActivities({ db }: HostLockActivityDeps) {
  return {
    acquireHostLock,

    /** A requires_lock run queued behind its host's lock shows so, until beginRun marks it running. */
    async markRunWaitingForLock({ runId }: { runId: string }): Promise<void> {
      await db.updateTable('runs').set({ status: 'waiting_for_lock' }).where('id', '=', runId).where('status', '=', 'queued').execute();
      await notifyRun(db, runId);
    },

    /** The lock's current state into `host_locks`, for the locks and hosts pages. A write older than the row is dropped. */
    async recordHostLock(m: HostLockMirror): Promise<void> {
      // insert ... select: a host deleted meanwhile has no row to mirror into. JSON goes as text: a jsonb parameter would be encoded twice.
      await sql`
        insert into host_locks (host_id, lock_type, holder, queue, acquired_at, expires_at, changed_at, version)
        select id, ${m.holder?.type ?? null}, ${m.holder ? JSON.stringify(m.holder) : null}::text::jsonb, ${JSON.stringify(m.queue)}::text::jsonb,
               ${m.holder?.acquiredAt ?? null}::timestamptz, ${m.holder?.expiresAt ?? null}::timestamptz, ${m.changedAt}::timestamptz, ${m.version}::int
        from hosts where id = ${m.hostId}
        on conflict (host_id) do update set
          lock_type = excluded.lock_type, holder = excluded.holder, queue = excluded.queue, acquired_at = excluded.acquired_at,
          expires_at = excluded.expires_at, changed_at = excluded.changed_at, version = excluded.version
        where (host_locks.changed_at, host_locks.version) < (excluded.changed_at, excluded.version)
      `.execute(db);
    },
  };
}

export type HostLockActivities = ReturnType<typeof createHostLockActivities>;
