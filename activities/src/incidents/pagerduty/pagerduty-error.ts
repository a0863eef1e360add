export type PagerdutyErrorReason =
  /** No connection: refused, reset, DNS, timeout. Worth trying again. */
  | 'unreachable'
  /** 5xx or 408: worth trying again. */
  | 'unavailable'
  /** 429: wait `retryAfterMs`, then try again. */
  | 'rate_limited'
  /** 401: the token is wrong, expired or revoked. */
  | 'bad_credentials'
  /** 403: a read-only token, or a user who may not touch this incident. */
  | 'permission_denied'
  /** 404: no such incident, or the token cannot see it. */
  | 'not_found'
  /** 400 and the like: PagerDuty refused the request; the message quotes it. */
  | 'rejected'
  /** Something answered, but not PagerDuty's REST API. */
  | 'wrong_url';

const RETRYABLE: ReadonlySet<PagerdutyErrorReason> = new Set(['unreachable', 'unavailable', 'rate_limited']);

/** A PagerDuty REST call failed; `message` says what to fix and never holds the token. */
export class PagerdutyError extends Error {
  readonly reason: PagerdutyErrorReason;
  readonly status?: number;
  /** PagerDuty's own error code (2006 authentication failed, 1001 already resolved, …). */
  readonly code?: number;
  readonly retryAfterMs?: number;
  /** The same call may succeed later. */
  readonly retryable: boolean;
  constructor(reason: PagerdutyErrorReason, message: string, extra: { status?: number; code?: number; retryAfterMs?: number } = {}) {
    super(message);
    this.name = 'PagerdutyError';
    this.reason = reason;
    this.retryable = RETRYABLE.has(reason);
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.code !== undefined) this.code = extra.code;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }
}
