/** Domain errors: thrown anywhere, mapped to HTTP statuses once, in the API's onError. */
export class DrydockError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export class NotFoundError extends DrydockError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} was not found`);
  }
}

export type FieldErrors = Record<string, string[]>;

export class ValidationError extends DrydockError {
  readonly fields: FieldErrors;
  constructor(message: string, fields: FieldErrors = {}) {
    super('invalid', message);
    this.fields = fields;
  }
}

export class ConflictError extends DrydockError {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class UnauthorizedError extends DrydockError {
  constructor(message = 'authentication required') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends DrydockError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/**
 * An error whose `reason` a caller branches on (retry, or tell the user what to fix); `name` is the subclass's
 * own. The clients of outside services (git, Vault, CI/CD, Jira, PagerDuty, discovery) each extend it.
 */
export class ReasonError<Reason extends string = string> extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.name = new.target.name;
    this.reason = reason;
  }
}

/** Why a call to an outside service over HTTP failed, in the words every client of one uses. */
export type ServiceErrorReason =
  /** No connection: refused, reset, DNS, timeout. Worth trying again. */
  | 'unreachable'
  /** The service answered 5xx (maintenance, a proxy whose upstream is gone): worth trying again. */
  | 'unavailable'
  /** 429, or the service's own rate limit: wait, then try again. */
  | 'rate_limited'
  /** Something answered, but not the service's API (a redirect, a page): the URL is wrong. */
  | 'wrong_url'
  /** 401: the credentials are wrong, expired or revoked. */
  | 'bad_credentials'
  /** 403: the credentials work but may not do this. */
  | 'permission_denied'
  /** 404: no such thing, or the credentials may not see it. */
  | 'not_found'
  /** The service refused the request for another reason; the message quotes it. */
  | 'rejected';

const RETRYABLE_SERVICE_REASONS: ReadonlySet<string> = new Set<ServiceErrorReason>(['unreachable', 'unavailable', 'rate_limited']);

/** Whether the same call may succeed later: the service was unreachable, unavailable or rate-limited. */
export function isRetryableServiceReason(reason: string): boolean {
  return RETRYABLE_SERVICE_REASONS.has(reason);
}
