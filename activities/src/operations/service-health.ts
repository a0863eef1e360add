import type { ServiceHealthOperation } from '@drydock/core/operations';
import { type CheckResult, errorMessage, type OperationLog, type Outcome } from '@drydock/core/operations';
import { checkSystemdUnit } from './systemd-unit.ts';
import { checkWindowsService } from './windows-service.ts';

export const DEFAULT_HTTP_TIMEOUT_SECONDS = 10;
/** `expect_body_contains` looks no further than this into a body. */
export const BODY_READ_LIMIT = 1024 * 1024;

type HttpCheck = NonNullable<ServiceHealthOperation['http']>;

export interface ServiceHealthContext {
  signal: AbortSignal;
  log: OperationLog;
  hostEnvironment: Readonly<Record<string, string | undefined>>;
}

export function runServiceHealth(op: ServiceHealthOperation, context: ServiceHealthContext): Promise<Outcome> {
  if (op.http) return checkHttp(op.http, context);
  if (op.systemd) return checkSystemdUnit(op.systemd, context);
  if (op.windows_service) return checkWindowsService(op.windows_service, context);
  throw new Error('service_health checks exactly one of http, systemd or windows_service');
}

/** What came back for the one request: a response (its body read on demand, at most BODY_READ_LIMIT), or why there was none. */
export type HttpExchange =
  | { status: number; statusText: string; location: string | null; body: () => Promise<{ bytes: Buffer; complete: boolean } | { error: string }> }
  | { failure: string };

/** One request, redirects not followed: a 3xx is judged like any status and its Location is reported. */
export function checkHttp(http: HttpCheck, context: { signal: AbortSignal; log: OperationLog }): Promise<Outcome> {
  return judgeHttp(http, context.log, (timeoutSeconds) => fetchOnce(http, context.signal, timeoutSeconds));
}

/**
 * The HTTP check, judged the same wherever the request was sent from: this host (fetch), or an SSH or WinRM
 * host (curl, .NET), whose answer `send` hands over in the same shape.
 */
export async function judgeHttp(http: HttpCheck, log: OperationLog, send: (timeoutSeconds: number) => Promise<HttpExchange>): Promise<Outcome> {
  const method = http.method ?? 'GET';
  const expected = http.expect_status ?? [200];
  const timeoutSeconds = http.timeout_seconds ?? DEFAULT_HTTP_TIMEOUT_SECONDS;
  const needle = http.expect_body_contains;
  log.line(
    `${method} ${http.url} (expecting ${expected.join(' or ')}${needle === undefined ? '' : ` and a body containing ${JSON.stringify(needle)}`}; timeout ${timeoutSeconds} s)`,
  );
  const finish = (checks: CheckResult[], value: number | null): Outcome => {
    for (const c of checks) log.line(`${c.ok ? 'ok' : 'FAILED'} ${c.name}: ${c.detail}`);
    return { checks, value };
  };

  const response = await send(timeoutSeconds);
  if ('failure' in response) {
    const checks: CheckResult[] = [{ name: 'status', ok: false, detail: response.failure }];
    if (needle !== undefined) checks.push({ name: 'body', ok: false, detail: 'no response to read' });
    return finish(checks, null);
  }

  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const { location } = response;
  const redirect = response.status >= 300 && response.status < 400 && location !== null ? new URL(location, http.url).toString() : null;
  log.line(`← ${status}${redirect === null ? '' : `, redirecting to ${redirect} (not followed)`}`);
  const statusOk = expected.includes(response.status);
  const checks: CheckResult[] = [
    {
      name: 'status',
      ok: statusOk,
      detail: statusOk
        ? `${status}${redirect === null ? '' : `, redirecting to ${redirect} (not followed)`}`
        : redirect !== null
          ? `${status}: redirects to ${redirect}, which is not followed; expected ${expected.join(' or ')} (point the check at the final URL, or expect ${response.status})`
          : `${status}, expected ${expected.join(' or ')}`,
    },
  ];
  if (needle === undefined) return finish(checks, response.status);

  const body = await response.body();
  if ('error' in body) {
    checks.push({ name: 'body', ok: false, detail: `body not read: ${body.error}` });
    return finish(checks, response.status);
  }
  const found = body.bytes.includes(Buffer.from(needle, 'utf8'));
  const within = body.complete ? `body (${body.bytes.length} bytes)` : `first ${BODY_READ_LIMIT / 1024 / 1024} MB of the body`;
  checks.push({
    name: 'body',
    ok: found,
    detail: found ? `${within} contains ${JSON.stringify(needle)}` : `${within} does not contain ${JSON.stringify(needle)}`,
  });
  if (!found) log.line(`body begins: ${excerpt(body.bytes)}`);
  return finish(checks, response.status);
}

async function fetchOnce(http: HttpCheck, callerSignal: AbortSignal, timeoutSeconds: number): Promise<HttpExchange> {
  const timeout = AbortSignal.timeout(timeoutSeconds * 1000);
  const signal = AbortSignal.any([callerSignal, timeout]);
  const failure = (err: unknown) => (callerSignal.aborted ? 'cancelled' : timeout.aborted ? `no response within ${timeoutSeconds} s` : fetchFailure(err, http.url));
  let response: Response;
  try {
    response = await fetch(http.url, { method: http.method ?? 'GET', redirect: 'manual', signal, headers: { 'user-agent': 'drydock-operation' } });
  } catch (err) {
    return { failure: failure(err) };
  }
  if (http.expect_body_contains === undefined) await response.body?.cancel().catch(() => {});
  return {
    status: response.status,
    statusText: response.statusText,
    location: response.headers.get('location'),
    body: () => readBody(response).catch((err: unknown) => ({ error: failure(err) })),
  };
}

async function readBody(response: Response): Promise<{ bytes: Buffer; complete: boolean }> {
  if (response.body === null) return { bytes: Buffer.alloc(0), complete: true };
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), complete: true };
    chunks.push(Buffer.from(value));
    total += value.byteLength;
    if (total > BODY_READ_LIMIT) {
      await reader.cancel().catch(() => {});
      return { bytes: Buffer.concat(chunks).subarray(0, BODY_READ_LIMIT), complete: false };
    }
  }
}

function excerpt(bytes: Buffer): string {
  const text = bytes.subarray(0, 400).toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || '(empty)';
}

function fetchFailure(err: unknown, url: string): string {
  const cause = (err as { cause?: NodeJS.ErrnoException } | null)?.cause;
  return describeHttpFailure(cause?.code ?? '', url, cause?.message ?? errorMessage(err));
}

/** A request without a response, in words: `code` is a Node/libuv error code (ECONNREFUSED, …) or a TLS error name. */
export function describeHttpFailure(code: string, url: string, message: string): string {
  const { host } = new URL(url);
  if (code === 'ECONNREFUSED') return `cannot connect to ${host}: connection refused`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot connect to ${host}: host name not found`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `cannot connect to ${host}: host unreachable`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `${host} closed the connection without a response`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `TLS certificate of ${host} not accepted: ${message}`;
  return message;
}
