import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';

export type ChannelKind = 'email' | 'slack' | 'teams' | 'webhook';

/** Why an attempt failed. Each is either worth retrying or not; `FAILURE_RETRYABLE` says which. */
export type DeliveryFailureReason =
  /** HTTP 5xx or 408. */
  | 'server_error'
  /** HTTP 429; `retryAfterMs` holds the receiver's Retry-After when it sent one. */
  | 'rate_limited'
  /** An SMTP 4xx reply: the server asks to try again later. */
  | 'temporary_failure'
  /** No answer within the timeout. */
  | 'timeout'
  | 'connection_refused'
  /** The connection was reset, or the host could not be reached or resolved right now. */
  | 'unreachable'
  /** HTTP 401 or 403, or the SMTP server refused the login. */
  | 'auth_refused'
  /** HTTP 404 or 410, a host name that does not exist, or recipients the SMTP server refused. */
  | 'bad_address'
  /** The URL points at an address the server setting forbids (SSRF guard). */
  | 'forbidden_target'
  /** The receiver answered with a redirect; Drydock follows none. */
  | 'redirect'
  /** The TLS handshake failed or the SMTP server offered no STARTTLS. */
  | 'tls'
  /** Any other 4xx, or an SMTP 5xx. */
  | 'rejected';

export const FAILURE_RETRYABLE: Record<DeliveryFailureReason, boolean> = {
  server_error: true,
  rate_limited: true,
  temporary_failure: true,
  timeout: true,
  connection_refused: true,
  unreachable: true,
  auth_refused: false,
  bad_address: false,
  forbidden_target: false,
  redirect: false,
  tls: false,
  rejected: false,
};

/** What one attempt to send a notification did, for the delivery log. Nothing in it is secret. */
export interface DeliveryResult {
  channel: ChannelKind;
  /** Where it went, without secrets: a webhook's origin and first path segment, or the recipients. */
  target: string;
  idempotencyKey: string;
  attempt: number;
  outcome: 'delivered' | 'retryable' | 'permanent';
  reason?: DeliveryFailureReason;
  /** One line a person can act on. */
  message: string;
  /** The HTTP status, or the SMTP reply code. */
  status?: number;
  /** The start of the receiver's answer (1 KiB at most, control characters removed). */
  responseExcerpt?: string;
  retryAfterMs?: number;
  startedAt: string;
  durationMs: number;
}

/** The attempt a send belongs to: `attempt` counts from 1. */
export interface DeliveryAttempt {
  idempotencyKey: string;
  attempt: number;
}

/** One key per event and channel, the same on every attempt: receivers drop a second delivery by it. */
export function idempotencyKey(eventId: string, channelId: string): string {
  return `dd-${createHash('sha256').update(`${eventId}\n${channelId}`).digest('hex').slice(0, 40)}`;
}

const EXCERPT_BYTES = 1024;

export function excerpt(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
  if (clean === '') return undefined;
  const bytes = Buffer.from(clean, 'utf8');
  if (bytes.length <= EXCERPT_BYTES) return clean;
  // Cut on a character boundary: a cut inside a multi-byte character leaves a replacement mark, dropped here.
  return `${bytes.subarray(0, EXCERPT_BYTES).toString('utf8').replace(/\uFFFD$/, '')}…`;
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The failure an activity throws for an attempt that did not deliver: permanent ones are not retried, Retry-After sets the next delay. */
export function deliveryFailure(result: DeliveryResult): ApplicationFailure | undefined {
  if (result.outcome === 'delivered') return undefined;
  return ApplicationFailure.create({
    message: result.message,
    type: `notify_${result.reason ?? 'rejected'}`,
    nonRetryable: result.outcome === 'permanent',
    ...(result.retryAfterMs !== undefined ? { nextRetryDelay: result.retryAfterMs } : {}),
    details: [result],
  });
}

export interface AttemptClock {
  now(): number;
}

export const systemClock: AttemptClock = { now: () => Date.now() };
