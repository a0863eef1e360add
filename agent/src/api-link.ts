import type { ApiLink } from './log-shipper.ts';

/**
 * The agent's view of whether the API answers, fed by heartbeats and log batches alike: an outage is said
 * once when it starts and once when it ends, however many requests fail meanwhile.
 */
export function apiLink(apiUrl: string, log: { info(message: string): void; warn(message: string): void }): ApiLink {
  let downSince: number | undefined;
  return {
    unreachable(reason) {
      if (downSince !== undefined) return;
      downSince = Date.now();
      log.warn(`the API at ${apiUrl} does not answer (${reason}); runs go on, and their log lines wait on disk until it does`);
    },
    reached() {
      if (downSince === undefined) return;
      log.info(`the API at ${apiUrl} answers again after ${((Date.now() - downSince) / 1000).toFixed(1)} s; sending the log lines that waited`);
      downSince = undefined;
    },
  };
}
