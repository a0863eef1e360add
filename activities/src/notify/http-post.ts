import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { NotifyTargetPolicy } from '@drydock/core';
import type { NotificationChannel } from './channel.ts';
import { type AttemptClock, type ChannelKind, type DeliveryAttempt, type DeliveryFailureReason, type DeliveryResult, excerpt, FAILURE_RETRYABLE, retryAfterMs, systemClock } from './delivery.ts';
import type { Notification } from './notification.ts';
import { guardedLookup, type LookupFunction, parseTargetUrl, redactUrl, TargetRefusedError } from './url-guard.ts';

/** How the HTTP channels reach their receivers. */
export interface HttpTargetOptions {
  policy: NotifyTargetPolicy;
  /** How long one attempt may take, connection and answer included. */
  timeoutMs: number;
  /** Name resolution, checked by the SSRF guard; DNS by default. */
  lookup?: LookupFunction;
  /** Certificates to trust besides the system's, for receivers behind a private CA. */
  ca?: string | Buffer;
  clock?: AttemptClock;
}

export interface HttpPost {
  channel: ChannelKind;
  url: string;
  body: string;
  headers: Record<string, string>;
  attempt: DeliveryAttempt;
}

const READ_LIMIT = 64 * 1024;

const NETWORK: Record<string, { reason: DeliveryFailureReason; words: string }> = {
  ECONNREFUSED: { reason: 'connection_refused', words: 'refused the connection' },
  ECONNRESET: { reason: 'unreachable', words: 'reset the connection' },
  EPIPE: { reason: 'unreachable', words: 'closed the connection' },
  EHOSTUNREACH: { reason: 'unreachable', words: 'cannot be reached (no route to the host)' },
  ENETUNREACH: { reason: 'unreachable', words: 'cannot be reached (the network is unreachable)' },
  EAI_AGAIN: { reason: 'unreachable', words: 'could not be resolved right now' },
  ETIMEDOUT: { reason: 'timeout', words: 'did not accept the connection in time' },
  ENOTFOUND: { reason: 'bad_address', words: 'does not resolve: check the host name' },
};

function failureFromError(err: unknown, target: string, timeoutMs: number): { reason: DeliveryFailureReason; message: string } {
  if (err instanceof TargetRefusedError) {
    return { reason: err.addressClass === 'bad_url' ? 'bad_address' : 'forbidden_target', message: `not sent to ${target}: ${err.message}` };
  }
  const e = err as NodeJS.ErrnoException & { cause?: unknown };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return { reason: 'timeout', message: `${target} did not answer within ${timeoutMs / 1000} s` };
  const code = e.code ?? '';
  const known = NETWORK[code];
  if (known) return { reason: known.reason, message: `${target} ${known.words}` };
  if (/^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY))/.test(code) || /certificate|tls|ssl/i.test(e.message)) {
    return { reason: 'tls', message: `the TLS connection to ${target} failed (${code || e.message}): give the receiver a certificate this server trusts` };
  }
  if (e.message === 'socket hang up') return { reason: 'unreachable', message: `${target} closed the connection without answering` };
  return { reason: 'unreachable', message: `${target} could not be reached: ${e.message}` };
}

function failureFromStatus(status: number, res: IncomingMessage, url: URL, target: string): { reason: DeliveryFailureReason; message: string } {
  if (status >= 300 && status < 400) {
    const location = res.headers.location && URL.canParse(res.headers.location, url.href) ? ` to ${redactUrl(new URL(res.headers.location, url))}` : '';
    return { reason: 'redirect', message: `${target} answered HTTP ${status}, a redirect${location}; Drydock follows no redirects: give the final URL` };
  }
  if (status === 408) return { reason: 'server_error', message: `${target} answered HTTP 408 (request timeout); will try again` };
  if (status === 429) return { reason: 'rate_limited', message: `${target} answered HTTP 429 (too many requests); will try again later` };
  if (status === 401 || status === 403) return { reason: 'auth_refused', message: `${target} refused the request (HTTP ${status}): the webhook URL or its secret is no longer accepted` };
  if (status === 404 || status === 410) return { reason: 'bad_address', message: `${target} answered HTTP ${status}: the webhook no longer exists there; give its current URL` };
  if (status >= 500) return { reason: 'server_error', message: `${target} answered HTTP ${status} (server error); will try again` };
  return { reason: 'rejected', message: `${target} rejected the notification (HTTP ${status}); see its answer` };
}

async function readLimited(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= READ_LIMIT) {
      res.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One POST of a notification: the SSRF guard on the URL and on every address its name resolves to, no
 * redirects followed, one timeout for the whole attempt, and the answer classified for the delivery log.
 */
export async function postNotification(post: HttpPost, options: HttpTargetOptions): Promise<DeliveryResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const target = redactUrl(post.url);
  const result = (fields: Omit<DeliveryResult, 'channel' | 'target' | 'idempotencyKey' | 'attempt' | 'startedAt' | 'durationMs'>): DeliveryResult => ({
    channel: post.channel,
    target,
    idempotencyKey: post.attempt.idempotencyKey,
    attempt: post.attempt.attempt,
    ...fields,
    startedAt: new Date(started).toISOString(),
    durationMs: Math.max(0, clock.now() - started),
  });
  const fail = (reason: DeliveryFailureReason, message: string, extra: Partial<DeliveryResult> = {}) =>
    result({ outcome: FAILURE_RETRYABLE[reason] ? 'retryable' : 'permanent', reason, message, ...extra });

  let url: URL;
  try {
    url = parseTargetUrl(post.url, options.policy);
  } catch (err) {
    const f = failureFromError(err, target, options.timeoutMs);
    return fail(f.reason, f.message);
  }
  const body = Buffer.from(post.body, 'utf8');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  try {
    const { res, text } = await new Promise<{ res: IncomingMessage; text: string }>((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        headers: { ...post.headers, 'content-length': String(body.length) },
        // A new connection each time: a pooled socket would skip the address check of this attempt.
        agent: false,
        lookup: guardedLookup(options.policy, options.lookup),
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.ca ? { ca: options.ca } : {}),
      });
      req.on('error', reject);
      req.on('response', (res) => {
        readLimited(res).then((text) => resolve({ res, text }), reject);
      });
      req.end(body);
    });
    const status = res.statusCode ?? 0;
    const answer = excerpt(text);
    const answered = { status, ...(answer !== undefined ? { responseExcerpt: answer } : {}) };
    if (status >= 200 && status < 300) return result({ outcome: 'delivered', message: `delivered to ${target} (HTTP ${status})`, ...answered });
    const f = failureFromStatus(status, res, url, target);
    const header = res.headers['retry-after'];
    const after = retryAfterMs(Array.isArray(header) ? header[0] : header, clock.now());
    return fail(f.reason, f.message, { ...answered, ...(after !== undefined && FAILURE_RETRYABLE[f.reason] ? { retryAfterMs: after } : {}) });
  } catch (err) {
    const f = failureFromError(err, target, options.timeoutMs);
    return fail(f.reason, f.message);
  }
}

/** A channel that POSTs a JSON rendering of each notification, with the idempotency key and any headers of its own. */
export function jsonPostChannel(
  kind: ChannelKind,
  url: string,
  http: HttpTargetOptions,
  render: (notification: Notification, attempt: DeliveryAttempt) => unknown,
  headers: (notification: Notification, attempt: DeliveryAttempt, body: string) => Record<string, string> = () => ({}),
): NotificationChannel {
  return {
    kind,
    send(notification, attempt) {
      const body = JSON.stringify(render(notification, attempt));
      return postNotification(
        {
          channel: kind,
          url,
          body,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Drydock-Notify/1',
            'idempotency-key': attempt.idempotencyKey,
            ...headers(notification, attempt, body),
          },
          attempt,
        },
        http,
      );
    },
  };
}
