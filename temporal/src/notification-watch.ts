import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { CENTRAL_QUEUE, NOTIFICATION_WATCH_WORKFLOW, NOTIFICATION_WATCH_WORKFLOW_ID } from './names.ts';

type WatchWorkflow = (input: { intervalSeconds: number }) => Promise<never>;

/**
 * Starts `watch/notifications` unless it runs already: every central worker calls this at start-up, the first
 * one starts it and the others find it. A watcher that ended (terminated by an operator) is started again.
 */
export async function ensureNotificationWatch(client: Client, intervalSeconds: number): Promise<void> {
  try {
    await client.workflow.start<WatchWorkflow>(NOTIFICATION_WATCH_WORKFLOW, {
      workflowId: NOTIFICATION_WATCH_WORKFLOW_ID,
      taskQueue: CENTRAL_QUEUE,
      args: [{ intervalSeconds }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
