import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { CentralActivities } from '@drydock/activities';

const { sweepNotificationWatchers } = proxyActivities<CentralActivities>({
  startToCloseTimeout: '1 minute',
  // A sweep that fails is the next sweep's work: it retries a little, then the loop goes on.
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 3 },
});

/** About eleven history events a sweep (activity, timer, workflow tasks): 200 keeps a run near 2,200 events. */
const SWEEPS_PER_RUN = 200;

export interface NotificationWatchInput {
  intervalSeconds: number;
}

/**
 * `watch/notifications`: every few seconds, one activity looks for agents gone silent and locks held past their
 * expected time and emits their events, and starts deliveries whose workflow never started. The events and
 * deliveries tables remember what was said, so the loop carries no state.
 */
export async function notificationWatchWorkflow(input: NotificationWatchInput): Promise<never> {
  for (let i = 0; i < SWEEPS_PER_RUN; i++) {
    try {
      await sweepNotificationWatchers(input);
    } catch {
      // Postgres or Temporal away for a moment: the next sweep finds the same events still unsaid.
    }
    await sleep(input.intervalSeconds * 1000);
  }
  return continueAsNew<typeof notificationWatchWorkflow>(input);
}
