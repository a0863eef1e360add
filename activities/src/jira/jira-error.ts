export type JiraErrorReason =
  /** No connection: refused, reset, DNS, timeout. Worth trying again. */
  | 'unreachable'
  /** Jira answered 5xx (maintenance, a proxy whose upstream is gone): worth trying again. */
  | 'unavailable'
  /** 429: wait, then try again. */
  | 'rate_limited'
  /** Something answered, but not Jira's REST API (a redirect, a page): the URL is wrong. */
  | 'wrong_url'
  /** 401: the email and API token, or the personal access token, are wrong, expired or revoked. */
  | 'bad_credentials'
  /** 403, or a permission Jira says the account lacks. */
  | 'permission_denied'
  /** 404: no such issue or project, or the account may not see it. */
  | 'not_found'
  /** Jira refused what was sent; `fields` holds its message per field. */
  | 'rejected'
  /** The file is over Jira's attachment size limit, or attachments are disabled. */
  | 'attachment_refused'
  /** Not something to send to Jira at all (an issue key that is not one): nothing was asked. */
  | 'invalid_input';

const RETRYABLE: ReadonlySet<JiraErrorReason> = new Set(['unreachable', 'unavailable', 'rate_limited']);

/** A Jira call failed. `message` says what to fix, quoting Jira's own words, and never holds a token. */
export class JiraError extends Error {
  readonly reason: JiraErrorReason;
  /** The HTTP status Jira answered, when it answered. */
  readonly status?: number;
  /** Jira's `errors`: a message per field it refused (`summary`, `components`, `customfield_10010`). */
  readonly fields: Record<string, string>;
  /** For rate_limited: how long Jira asked to wait. */
  readonly retryAfterMs?: number;
  constructor(reason: JiraErrorReason, message: string, extra: { status?: number; fields?: Record<string, string>; retryAfterMs?: number } = {}) {
    super(message);
    this.name = 'JiraError';
    this.reason = reason;
    this.fields = extra.fields ?? {};
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }

  /** The same call may succeed later. */
  get retryable(): boolean {
    return RETRYABLE.has(this.reason);
  }
}
