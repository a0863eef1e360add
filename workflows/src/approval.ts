import { condition, proxyLocalActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { CentralActivities } from '@drydock/activities';
import type { ApprovalRequest, ApprovalState } from '@drydock/core/approval';
import { searchAttributes } from '@drydock/temporal/search-attributes';
import { approvalQuery, decideApprovalUpdate } from './approval.messages.ts';

const central = proxyLocalActivities<CentralActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

/**
 * Waits, durably, for another person's decision or the request's expiry (a timer in Temporal), and records the
 * decision on the run or bulk execution before returning it: the work starts only once the row says approved.
 */
export async function awaitApproval(kind: 'run' | 'bulk', id: string, request: ApprovalRequest): Promise<ApprovalState> {
  const state: ApprovalState = { decision: null, by: null, comment: null, decidedAt: null };
  let recorded = false;
  setHandler(approvalQuery, () => state);
  setHandler(
    decideApprovalUpdate,
    async (input) => {
      state.decision = input.decision;
      state.by = input.by;
      state.comment = input.comment;
      state.decidedAt = new Date().toISOString();
      await central.recordApprovalDecision({ kind, id, decision: input.decision, by: input.by, comment: input.comment, decidedAt: state.decidedAt });
      recorded = true;
      return state;
    },
    {
      validator: (input) => {
        if (state.decision === 'expired') throw new Error(`the request expired at ${request.expiresAt}; nothing ran, and nothing will`);
        if (state.decision) throw new Error(`already ${state.decision} by ${state.by?.name ?? 'someone'} at ${state.decidedAt}`);
        // The API checks this first; the workflow holds the line too.
        if (input.by.id === request.requester.id) throw new Error('the requester cannot decide on their own request');
      },
    },
  );
  upsertSearchAttributes(searchAttributes({ status: 'waiting_for_approval' }));
  const left = Math.max(0, Date.parse(request.expiresAt) - Date.now());
  // A condition with a zero timeout would wait without one: a request already past its expiry is expired.
  const decided = left > 0 && (await condition(() => state.decision !== null, left));
  if (!decided) {
    state.decision = 'expired';
    state.decidedAt = new Date().toISOString();
    await central.recordApprovalDecision({ kind, id, decision: 'expired', by: null, comment: null, decidedAt: state.decidedAt });
    return state;
  }
  await condition(() => recorded);
  return state;
}
