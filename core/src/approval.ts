import type { ApprovalDecision } from './db/schema.ts';

// Approvals as workflows carry them: workflow-safe types only (no zod, no I/O).

/** A protected environment held the work back: who may decide, and until when. */
export interface ApprovalRequest {
  /** The protected environment (or environments, comma-separated, for a bulk execution over several). */
  environment: string;
  /** ISO time; without a decision by then the work ends as `expired`. */
  expiresAt: string;
  requester: { id: string; name: string };
}

/** What an approver sends the waiting workflow. */
export interface ApprovalDecisionInput {
  decision: Exclude<ApprovalDecision, 'expired'>;
  by: { id: string; name: string };
  comment: string | null;
}

/** The decision as the workflow holds it; `decision` null while it waits. */
export interface ApprovalState {
  decision: ApprovalDecision | null;
  by: { id: string; name: string } | null;
  comment: string | null;
  decidedAt: string | null;
}

/** What the activity writes on the run or the bulk execution once a decision is taken. */
export interface ApprovalRecord {
  kind: 'run' | 'bulk';
  id: string;
  decision: ApprovalDecision;
  by: { id: string; name: string } | null;
  comment: string | null;
  decidedAt: string;
}

/** The reason a run or bulk execution ended without running, in words for its page. */
export function approvalEndReason(state: ApprovalState, request: ApprovalRequest): string {
  if (state.decision === 'expired') return `nobody approved it before ${request.expiresAt} (environment ${request.environment} requires approval)`;
  const why = state.comment ? `: ${state.comment}` : '';
  return `rejected by ${state.by?.name ?? 'an approver'}${why}`;
}
