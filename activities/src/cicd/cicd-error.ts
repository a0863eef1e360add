import { isRetryableServiceReason, ReasonError, type ServiceErrorReason } from '@drydock/core/errors';
import type { CicdProviderKind } from './provider.ts';

/** `rate_limited` comes as a `CicdRateLimitedError` with `retryAfterMs`; `permission_denied` names what is `missing`. */
export type CicdErrorReason =
  | ServiceErrorReason
  /** A parameter the job does not define: refused before the trigger request. */
  | 'undefined_parameter'
  /** A value the job's definition refuses (not one of the choices, not a number, a required one missing). */
  | 'invalid_parameter'
  /** A disabled job or workflow, a folder. */
  | 'not_buildable';

/** A CI/CD provider call failed; `message` says what to fix and never holds a token, password or secret. */
export class CicdError extends ReasonError<CicdErrorReason> {
  readonly provider: CicdProviderKind;
  /** What the credentials lack, as the provider names it (`actions:write`, `Job/Build`, `api`). */
  readonly missing: string[];
  /** Parameter names, for `undefined_parameter` and `invalid_parameter`. */
  readonly parameters: string[];
  constructor(provider: CicdProviderKind, reason: CicdErrorReason, message: string, extra: { missing?: string[]; parameters?: string[] } = {}) {
    super(reason, message);
    this.provider = provider;
    this.missing = extra.missing ?? [];
    this.parameters = extra.parameters ?? [];
  }

  /** The same call may succeed later: the workflow waits (durably) and asks again. */
  get retryable(): boolean {
    return isRetryableServiceReason(this.reason);
  }
}

/** The provider's rate limit: wait `retryAfterMs` before the next call (a workflow sleeps durably for it). */
export class CicdRateLimitedError extends CicdError {
  readonly retryAfterMs: number;
  /** When the limit resets, when the provider said so. */
  readonly resetAt?: Date;
  constructor(provider: CicdProviderKind, message: string, retryAfterMs: number, resetAt?: Date) {
    super(provider, 'rate_limited', message);
    this.retryAfterMs = retryAfterMs;
    if (resetAt) this.resetAt = resetAt;
  }
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved right now',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection was closed',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another name',
};

/** Why fetch could not reach the server, in words, from undici's error and its cause. */
export function unreachableReason(err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string; cause?: { code?: string } } };
  if (error?.name === 'TimeoutError' || error?.name === 'GitbeakerTimeoutError') return 'no answer in time';
  const code = error?.cause?.code ?? error?.cause?.cause?.code;
  if (code && code in UNREACHABLE) return UNREACHABLE[code]!;
  return error?.cause?.message ?? error?.message ?? String(err);
}

/** A fetch that threw before any answer: the provider is unreachable. */
export function unreachable(provider: CicdProviderKind, base: string, err: unknown): CicdError {
  if (err instanceof CicdError) return err;
  return new CicdError(provider, 'unreachable', `${base} is unreachable: ${unreachableReason(err)}; check the URL, or try again once it is back`);
}

type HeaderLookup = (name: string) => string | null | undefined;

/** Milliseconds to wait from `Retry-After` (seconds or an HTTP date), undefined without one. */
export function retryAfterMs(header: HeaderLookup, now: number): number | undefined {
  const value = header('retry-after');
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A 429 (or any status that carries Retry-After with a limit), as a CicdRateLimitedError; undefined when it is not one. */
export function rateLimitFailure(provider: CicdProviderKind, base: string, status: number, header: HeaderLookup, now: number): CicdRateLimitedError | undefined {
  const after = retryAfterMs(header, now);
  const remaining = header('x-ratelimit-remaining');
  const reset = header('x-ratelimit-reset');
  // GitHub's primary limit: 403 or 429 with no requests remaining, and the reset as epoch seconds.
  if ((status === 403 || status === 429) && remaining === '0' && reset && /^\d+$/.test(reset)) {
    const resetAt = new Date(Number(reset) * 1000);
    const wait = Math.max(after ?? 0, resetAt.getTime() - now, 1000);
    return new CicdRateLimitedError(provider, `${base} rate limit reached: no requests left until ${resetAt.toISOString()}; waiting ${Math.ceil(wait / 1000)} s`, wait, resetAt);
  }
  // GitHub's secondary limits are a 403 with Retry-After; everyone's 429 may carry one.
  if (status === 429 || (status === 403 && after !== undefined)) {
    const wait = after ?? 60_000;
    return new CicdRateLimitedError(provider, `${base} is rate limiting Drydock (HTTP ${status}); waiting ${Math.ceil(wait / 1000)} s${after === undefined ? ' (no Retry-After given)' : ''}`, wait);
  }
  return undefined;
}

/** The one-line text of an error body: JSON `message`/`error`, or the first words of text; never more than 300 chars. */
export function providerSaid(body: string): string {
  const text = body.trim();
  if (text === '') return '';
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const said = json['message'] ?? json['error'] ?? json['error_description'];
    if (typeof said === 'string') return said.slice(0, 300);
    if (said !== undefined) return JSON.stringify(said).slice(0, 300);
  } catch {
    // Not JSON: an HTML page or plain text; its words are quoted below.
  }
  const plain = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.slice(0, 300);
}

/** Wraps a provider's calls so whatever they throw becomes the provider's `CicdError` for `what` was asked. */
export function callsThrough(failure: (err: unknown, what: string) => CicdError) {
  return async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw failure(err, what);
    }
  };
}

/** A refusal that names nothing missing names `permission`: the check that got it knows what it needed. */
export function lacking(err: CicdError, permission: string): CicdError {
  if (err.reason === 'permission_denied' && err.missing.length === 0) err.missing.push(permission);
  return err;
}
