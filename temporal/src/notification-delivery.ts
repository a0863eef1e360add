import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { DeliveryStarter, NotificationDeliveryInput } from '@drydock/activities/notify';
import { CENTRAL_QUEUE, NOTIFICATION_DELIVERY_WORKFLOW, notifyWorkflowId } from './names.ts';
import { searchAttributes } from './search-attributes.ts';

type DeliveryWorkflow = (input: NotificationDeliveryInput) => Promise<'delivered' | 'failed'>;

/**
 * Starts one delivery workflow per key. The workflow id is the delivery's idempotency key and a closed one is
 * never reused, so a second start of the same event to the same channel is refused by Temporal (false here),
 * as the second row is by the unique key.
 */
export function deliveryStarter(client: Client): DeliveryStarter {
  return async (input) => {
    try {
      await client.workflow.start<DeliveryWorkflow>(NOTIFICATION_DELIVERY_WORKFLOW, {
        workflowId: notifyWorkflowId(input.key),
        taskQueue: CENTRAL_QUEUE,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: searchAttributes({ kind: 'notification', team: input.teamId }),
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  };
}
