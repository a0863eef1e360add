import { sql } from 'kysely';
import type { Db } from '@drydock/core';
import type { BulkStatus } from '@drydock/core/bulk';
import type { Notifier } from './notifications.activities.ts';

/** Channel the API listens on to push a bulk execution's changes to its grid: the payload is the execution id. */
export const BULK_CHANNEL = 'drydock_bulk';

export async function notifyBulk(db: Db, bulkId: string): Promise<void> {
  await sql`select pg_notify(${BULK_CHANNEL}, ${bulkId})`.execute(db);
}

export function createBulkActivities({ db, notifier }: { db: Db; notifier?: Notifier | undefined }) {
  return {
    /** The execution's status and wave as the grid shows them; never moves a finished execution back. */
    async recordBulkStatus(input: { bulkId: string; status: BulkStatus; currentWave: number; stopReason: string | null }): Promise<void> {
      await db
        .updateTable('bulk_executions')
        .set({ status: input.status, current_wave: input.currentWave, stop_reason: input.stopReason })
        .where('id', '=', input.bulkId)
        .where('finished_at', 'is', null)
        .execute();
      await notifyBulk(db, input.bulkId);
    },

    /** Ends the execution: hosts that never started become skipped (threshold) or cancelled, in one statement. */
    async finishBulk(input: { bulkId: string; status: BulkStatus; stopReason: string | null; unstartedAs: 'skipped' | 'cancelled' }): Promise<void> {
      const now = new Date();
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('runs')
          .set({
            status: input.unstartedAs,
            error: input.unstartedAs === 'skipped' ? `not started: ${input.stopReason ?? 'the execution stopped'}` : 'not started: the execution was cancelled',
            finished_at: now,
          })
          .where('bulk_id', '=', input.bulkId)
          .where('status', '=', 'queued')
          .where('started_at', 'is', null)
          .execute();
        await tx
          .updateTable('bulk_executions')
          .set({ status: input.status, stop_reason: input.stopReason, finished_at: now })
          .where('id', '=', input.bulkId)
          .where('finished_at', 'is', null)
          .execute();
        // Every host's run has ended: the secrets they shared go.
        await tx.deleteFrom('run_secrets').where('bulk_id', '=', input.bulkId).execute();
      });
      await notifyBulk(db, input.bulkId);
      await notifier?.bulkEnded(input.bulkId);
    },
  };
}
