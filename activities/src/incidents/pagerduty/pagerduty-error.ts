import { isRetryableServiceReason, ReasonError, type ServiceErrorReason } from '@drydock/core/errors';

/** PagerDuty's answers in the words every service client uses; 408 counts as `unavailable`. */
export type PagerdutyErrorReason = ServiceErrorReason;

/** A PagerDuty REST call failed; `message` says what to fix and never holds the token. */
export class PagerdutyError extends ReasonError<PagerdutyErrorReason> {
  readonly status?: number;
  /** PagerDuty's own error code (2006 authentication failed, 1001 already resolved, …). */
  readonly code?: number;
  readonly retryAfterMs?: number;
  /** The same call may succeed later. */
  readonly retryable: boolean;
  constructor(reason: PagerdutyErrorReason, message: string, extra: { status?: number; code?: number; retryAfterMs?: number } = {}) {
    super(reason, message);
    this.retryable = isRetryableServiceReason(reason);
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.code !== undefined) this.code = extra.code;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }
}
