import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecisionInput, ApprovalState } from '@drydock/core/approval';

// The messages of a run or bulk execution waiting for approval. Loads no workflow code: the API imports it.

/** Approve or reject; refused (and nothing recorded) once a decision exists or the request has expired. */
export const decideApprovalUpdate = defineUpdate<ApprovalState, [ApprovalDecisionInput]>('decideApproval');
/** The decision so far; null on a run no protected environment held back. */
export const approvalQuery = defineQuery<ApprovalState | null>('approval');
