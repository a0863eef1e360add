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
