import { isRetryableServiceReason, ReasonError, type ServiceErrorReason } from '@drydock/core/errors';

export type JiraErrorReason =
  | ServiceErrorReason
  /** The file is over Jira's attachment size limit, or attachments are disabled. */
  | 'attachment_refused'
  /** Not something to send to Jira at all (an issue key that is not one): nothing was asked. */
  | 'invalid_input';

/** A Jira call failed. `message` says what to fix, quoting Jira's own words, and never holds a token. */
export class JiraError extends ReasonError<JiraErrorReason> {
  /** The HTTP status Jira answered, when it answered. */
  readonly status?: number;
  /** Jira's `errors`: a message per field it refused (`summary`, `components`, `customfield_10010`). */
  readonly fields: Record<string, string>;
  /** For rate_limited: how long Jira asked to wait. */
  readonly retryAfterMs?: number;
  constructor(reason: JiraErrorReason, message: string, extra: { status?: number; fields?: Record<string, string>; retryAfterMs?: number } = {}) {
    super(reason, message);
    this.fields = extra.fields ?? {};
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }

  /** The same call may succeed later. */
  get retryable(): boolean {
    return isRetryableServiceReason(this.reason);
  }
}
