import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });

/** The bare-Temporal baseline: one workflow, one no-op activity, nothing else. */
export async function baselineWorkflow(): Promise<void> {
  await noop();
}
