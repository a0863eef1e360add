import type { Db } from '@drydock/core';
import type { ApprovalRecord } from '@drydock/core/approval';
import { notifyBulk } from './bulk.activities.ts';
import { notifyRun } from './runs.activities.ts';

export function createApprovalActivities({ db }: { db: Db }) {
  return {
    /**
     * The decision on the row that waited: who, when, why. Approved, the work moves on (a run to `queued`, an
     * execution to `running`); rejected or expired, the workflow ends it with that status next. Written once.
     */
    async recordApprovalDecision(input: ApprovalRecord): Promise<void> {
      const decision = {
        approval_decision: input.decision,
        approval_by_id: input.by?.id ?? null,
        approval_by_name: input.by?.name ?? null,
        approval_comment: input.comment,
        approval_decided_at: new Date(input.decidedAt),
      };
      if (input.kind === 'run') {
        await db
          .updateTable('runs')
          .set({ ...decision, ...(input.decision === 'approved' ? { status: 'queued' as const } : {}) })
          .where('id', '=', input.id)
          .where('approval_decision', 'is', null)
          .execute();
        await notifyRun(db, input.id);
      } else {
        await db
          .updateTable('bulk_executions')
          .set({ ...decision, ...(input.decision === 'approved' ? { status: 'running' as const } : {}) })
          .where('id', '=', input.id)
          .where('approval_decision', 'is', null)
          .execute();
        await notifyBulk(db, input.id);
      }
    },
  };
}
