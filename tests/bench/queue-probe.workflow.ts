import { proxyActivities } from '@temporalio/workflow';

/** One no-op activity on `taskQueue`, as a run hands its attempt to a host's agent queue. */
export async function queueProbeWorkflow(taskQueue: string): Promise<void> {
  const { noop } = proxyActivities<{ noop(): Promise<void> }>({ taskQueue, scheduleToStartTimeout: '120 seconds', startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 1 } });
  await noop();
}
