import type { notificationWatchWorkflow } from './notification-watch.workflow.ts';
import { workflowRef } from './workflow-ref.ts';

/** The watcher for host_unreachable and lock_held_too_long; it takes no messages. */
export const notificationWatchWorkflowRef = workflowRef<typeof notificationWatchWorkflow>('notificationWatchWorkflow');
