import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { CentralActivities, NotificationDeliveryInput } from '@drydock/activities';

// No attempt limit: a channel that is down delays its messages, it never loses them. Backoff doubles to ten minutes.
const { deliverNotification } = proxyActivities<CentralActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/**
 * One notification to one channel (`notify/<eventId>/<channelId>`): the activity makes one attempt and records it in
 * the delivery log; Temporal retries it until it is delivered or refused for good (a 4xx, a bad address, a TLS
 * failure), which ends the workflow as `failed` with the delivery log saying why.
 */
export async function notificationDeliveryWorkflow(input: NotificationDeliveryInput): Promise<'delivered' | 'failed'> {
  try {
    await deliverNotification(input);
    return 'delivered';
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) return 'failed';
    throw err;
  }
}
