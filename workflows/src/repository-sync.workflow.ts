import { ApplicationFailure, condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CentralActivities, SyncResult } from '@drydock/activities';
import { syncRequestedSignal } from './repository-sync.messages.ts';

const { syncRepository } = proxyActivities<CentralActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3, initialInterval: '2 seconds' },
});

export interface RepositorySyncInput {
  repositoryId: string;
  reason: string;
}

/** A burst of pushes is one sync: the sync starts once no new request has arrived for this long. */
const QUIET_MS = 1_500;

/**
 * `sync/<repositoryId>`, started or signalled by "Sync now" and by push webhooks (signal-with-start), and
 * started by the repository's schedule. Requests that arrive while it syncs give exactly one more sync.
 */
export async function repositorySyncWorkflow(input: RepositorySyncInput): Promise<SyncResult> {
  const reasons = [input.reason];
  let requests = 0;
  setHandler(syncRequestedSignal, ({ reason }) => {
    reasons.push(reason);
    requests++;
  });

  let last: SyncResult | undefined;
  while (reasons.length > 0) {
    let seen = -1;
    while (seen !== requests) {
      seen = requests;
      await condition(() => requests !== seen, QUIET_MS);
    }
    const batch = [...new Set(reasons.splice(0))];
    last = await syncRepository({ repositoryId: input.repositoryId, reason: batch.join(', '), workflowId: workflowInfo().workflowId });
  }
  if (last?.status === 'failed') throw ApplicationFailure.nonRetryable(`sync of ${input.repositoryId} failed: ${last.error}`, 'SyncFailed');
  return last!;
}
