import type { ApprovalView } from '@drydock/core/api-schemas';
import { ActionForm, IntentButton } from './ui/button.tsx';
import { Fact, FactList } from './ui/fact-list.tsx';
import { Field } from './ui/field.tsx';
import { formatDateTime } from '../lib/format.ts';

const DECISION_WORDS = { approved: 'Approved', rejected: 'Rejected', expired: 'Expired: nobody decided in time' } as const;

/**
 * A run's or bulk execution's request for approval: while it waits, the buttons another operator decides with;
 * once decided, who, when and why.
 */
export function ApprovalPanel({ approval, waiting, what }: { approval: ApprovalView | null; waiting: boolean; what: 'run' | 'bulk execution' }) {
  if (!approval) return null;
  if (approval.decision === null) {
    if (!waiting) return null;
    return (
      <section className="space-y-3 rounded border border-orange-300 bg-orange-50 px-3 py-3 text-orange-950" data-testid="approval-request">
        <p className="text-sm">
          This {what} waits for approval: environment <span className="font-mono font-medium">{approval.environment}</span> is protected. It takes no lock and
          touches no host until another operator of the team approves it, and ends as expired at {formatDateTime(approval.expiresAt)} UTC without a decision.
        </p>
        <ActionForm className="flex flex-wrap items-end gap-2">
          <Field name="comment" id="approval-comment" label="Comment" optional className="min-w-72 flex-1">
            {(props) => <input {...props} type="text" maxLength={1000} placeholder="change ticket, reason" />}
          </Field>
          <IntentButton intent="approve" busyLabel="Approving…" testId="approve">
            Approve
          </IntentButton>
          <IntentButton intent="reject" variant="danger" busyLabel="Rejecting…" testId="reject">
            Reject
          </IntentButton>
        </ActionForm>
      </section>
    );
  }
  return (
    <FactList testId="approval-decision">
      <Fact term="Approval" testId="approval-outcome">
        {DECISION_WORDS[approval.decision]}
      </Fact>
      <Fact term="Environment">
        <span className="font-mono">{approval.environment}</span>
      </Fact>
      <Fact term="Decided by" testId="approval-by">
        {approval.decidedBy?.name ?? '—'}
      </Fact>
      <Fact term="Decided (UTC)">{formatDateTime(approval.decidedAt)}</Fact>
      <Fact term="Comment" testId="approval-comment-text" wrap>
        {approval.comment ?? '—'}
      </Fact>
    </FactList>
  );
}

/** The API's answer to a decision, for the page's notice. */
export function decisionNotice(intent: string, ok: boolean, message: string | undefined): { ok: boolean; message: string } {
  if (!ok) return { ok, message: message ?? 'The decision was not taken.' };
  return { ok, message: intent === 'approve' ? 'Approved: it goes on now.' : 'Rejected: it ends without running.' };
}
