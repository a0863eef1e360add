import type { notificationDeliveryWorkflow } from './notification-delivery.workflow.ts';
import { workflowRef } from './workflow-ref.ts';

/** One notification to one channel; it takes no messages. */
export const notificationDeliveryWorkflowRef = workflowRef<typeof notificationDeliveryWorkflow>('notificationDeliveryWorkflow');
