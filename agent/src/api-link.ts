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
