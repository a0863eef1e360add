import type { AgentHeartbeat } from '@drydock/core/run-contract';
import type { ApiLink } from './log-shipper.ts';

/** How long the API must answer without a failure before the agent says it is back: a few stragglers do not make two outages. */
const STEADY_MS = 5_000;

/**
 * The agent's view of whether the API answers, fed by heartbeats and log batches alike: an outage is said
 * once when it starts and once when the API has answered steadily again, however many requests fail meanwhile.
 */
export function apiLink(apiUrl: string, log: { info(message: string): void; warn(message: string): void }): ApiLink {
  let downSince: number | undefined;
  let answeringSince: number | undefined;
  return {
    unreachable(reason) {
      answeringSince = undefined;
      if (downSince !== undefined) return;
      downSince = Date.now();
      log.warn(`the API at ${apiUrl} does not answer (${reason}); runs go on, and their log lines wait on disk until it does`);
    },
    reached() {
      if (downSince === undefined) return;
      answeringSince ??= Date.now();
      if (Date.now() - answeringSince < STEADY_MS) return;
      log.info(`the API at ${apiUrl} answers again (it did not for ${((answeringSince - downSince) / 1000).toFixed(1)} s)`);
      downSince = answeringSince = undefined;
    },
  };
}

/**
 * Posts one heartbeat and tells the link how it went. An API that does not answer, or answers 5xx (starting, or
 * its database away), is the same outage: Temporal keeps the runs going, the next beat reports liveness again,
 * and the answer is undefined. Otherwise the answer, for the caller to read (401: the token was refused).
 */
export async function postHeartbeat(apiUrl: string, token: string, body: AgentHeartbeat, link: ApiLink): Promise<Response | undefined> {
  let res: Response;
  try {
    res = await fetch(`${apiUrl}/api/v1/agent/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (err) {
    link.unreachable((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
    return undefined;
  }
  if (res.status >= 500) {
    await res.body?.cancel();
    link.unreachable(`HTTP ${res.status}`);
    return undefined;
  }
  link.reached();
  return res;
}

export interface RetriedGet {
  url: string;
  apiUrl: string;
  /** The agent's token, read at every request: a rotated token takes effect at once. */
  token: () => string;
  /** Tries while the API cannot be reached or answers 5xx or 429. */
  tries: number;
  /** The attempt's cancel or timeout: it ends the waiting and the request. */
  signal: AbortSignal;
  /** An answer the caller reads itself rather than trying again (a 503 that means Vault, not the API). */
  final?: (res: Response) => boolean;
}

/**
 * `GET` under the agent's token, tried again with a growing pause (up to 5 s) while the API is away. Resolves with
 * the first answer that is ok or `final`, or with why the last try failed, for the run's log.
 */
export async function getWithRetry(o: RetriedGet): Promise<Response | string> {
  let last = '';
  for (let i = 0; i < o.tries; i++) {
    if (i > 0) await abortableDelay(Math.min(500 * 2 ** (i - 1), 5_000), o.signal);
    o.signal.throwIfAborted();
    let res: Response;
    try {
      res = await fetch(o.url, { headers: { authorization: `Bearer ${o.token()}` }, signal: o.signal });
    } catch (err) {
      if (o.signal.aborted) throw err;
      last = `could not reach the API at ${o.apiUrl}: ${(err as Error).message}`;
      continue;
    }
    if (res.ok || o.final?.(res)) return res;
    const said = await errorText(res);
    last = `the API answered HTTP ${res.status}${said ? `: ${said}` : ''}`;
    if (res.status < 500 && res.status !== 429) break;
  }
  return last;
}

/** What a failed answer says: the message of a JSON error body, or the start of its text. */
export async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 300);
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
