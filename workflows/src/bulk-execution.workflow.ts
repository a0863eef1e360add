import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  isCancellation,
  ParentClosePolicy,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { CentralActivities } from '@drydock/activities';
import type { BulkExecutionInput, BulkProgress, BulkStatus } from '@drydock/core/bulk';
import type { RunOutcome, ScriptRunInput } from '@drydock/core/run-contract';
import { bulkHostWorkflowId, CENTRAL_QUEUE } from '@drydock/temporal/names';
import { searchAttributes } from '@drydock/temporal/search-attributes';
import { pauseSignal, progressQuery, resumeSignal } from './bulk-execution.messages.ts';
import { approvalEndReason } from '@drydock/core/approval';
import { awaitApproval } from './approval.ts';
import { RUN_FAILED, scriptRunWorkflow } from './script-run.workflow.ts';

const central = proxyLocalActivities<CentralActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

/**
 * Children started by one run of the workflow before it continues as new. Each child costs about eight
 * history events, so this keeps a run's history near 5,000 events whatever the fleet's size.
 */
export const HOSTS_PER_RUN = 500;

/**
 * One script on many hosts: `bulk/<bulkId>`, one child `scriptRunWorkflow` per host (`bulk/<bulkId>/<hostId>`).
 * Hosts start in the order given, at most `maxParallel` at a time, wave by wave (the next wave waits for the
 * previous one to end). Once failures reach the threshold no host starts and the rest are skipped; paused, no host
 * starts until resumed; cancelled, running hosts are cancelled and the rest marked cancelled. Every host's run row
 * exists before the workflow starts, so the grid shows pending hosts from the first moment.
 */
export async function bulkExecutionWorkflow(input: BulkExecutionInput): Promise<BulkProgress> {
  const progress: BulkProgress = input.progress ?? { next: 0, wave: 0, failed: 0, succeeded: 0, cancelled: 0, paused: false, stopReason: null };
  const limit = input.failureLimit;
  let running = 0;
  let startedThisRun = 0;

  setHandler(progressQuery, () => progress);
  setHandler(pauseSignal, () => {
    if (progress.paused || progress.stopReason) return;
    progress.paused = true;
    void record('paused');
  });
  setHandler(resumeSignal, () => {
    if (!progress.paused) return;
    progress.paused = false;
    void record(progress.stopReason ? 'stopping' : 'running');
  });

  async function record(status: BulkStatus): Promise<void> {
    await central.recordBulkStatus({ bulkId: input.bulkId, status, currentWave: progress.wave, stopReason: progress.stopReason });
  }

  const settled = (outcome: RunOutcome | 'cancelled') => {
    running--;
    if (outcome === 'cancelled' || outcome.status === 'cancelled') progress.cancelled++;
    else if (outcome.status === 'succeeded') progress.succeeded++;
    else progress.failed++;
    if (limit !== null && progress.failed >= limit && !progress.stopReason) {
      progress.stopReason = `stopped starting hosts: ${progress.failed} failed, reaching the failure threshold of ${limit}`;
      void record('stopping');
    }
  };

  function startHost(index: number): void {
    const host = input.hosts[index]!;
    const child: ScriptRunInput = {
      runId: host.runId,
      teamId: input.teamId,
      source: input.source,
      scriptId: input.scriptId,
      version: input.version,
      hostId: host.hostId,
      params: input.params,
      ...(input.secretRefs ? { secretRefs: input.secretRefs } : {}),
      initiator: input.initiator,
      offlineTimeoutMs: input.offlineTimeoutMs,
      heartbeatTimeoutMs: input.heartbeatTimeoutMs,
      ...(input.lock ? { lock: input.lock } : {}),
      overrides: { timeoutSeconds: input.options.timeoutSeconds, retries: input.options.retries },
    };
    running++;
    startedThisRun++;
    const done = startChild(scriptRunWorkflow, {
      workflowId: bulkHostWorkflowId(input.bulkId, host.hostId),
      taskQueue: CENTRAL_QUEUE,
      args: [child],
      // A host's run belongs to its execution: it ends with it.
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      typedSearchAttributes: searchAttributes({
        kind: 'bulk-host-run',
        script: input.scriptId,
        hosts: [host.hostId],
        initiator: input.initiator.name,
        team: input.teamId,
        status: 'queued',
      }),
    }).then((handle) => handle.result());
    done.then(settled, (err: unknown) => {
      // A failed run, a child cancelled with its parent, or one that could not start (its run row says why) ends this host.
      if (err instanceof ChildWorkflowFailure && isCancellation(err.cause)) settled('cancelled');
      else if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure && err.cause.type === RUN_FAILED) settled(err.cause.details?.[0] as RunOutcome);
      else settled({ status: 'failed', exitCode: null, error: err instanceof Error ? err.message : String(err), attempts: 0 });
    });
  }

  // One decision for the whole execution, before any host starts; a continued run has had it already.
  if (input.approval && !input.progress) {
    const approval = await awaitApproval('bulk', input.bulkId, input.approval);
    if (approval.decision !== 'approved') {
      const status = approval.decision === 'expired' ? 'expired' : 'rejected';
      progress.stopReason = approvalEndReason(approval, input.approval);
      await central.finishBulk({ bulkId: input.bulkId, status, stopReason: progress.stopReason, unstartedAs: 'skipped' });
      upsertSearchAttributes(searchAttributes({ status }));
      return progress;
    }
  }

  const waveStart = (w: number) => input.waves.slice(0, w).reduce((a, b) => a + b, 0);
  let outcome: BulkStatus;
  try {
    for (; progress.wave < input.waves.length; progress.wave++) {
      if (progress.next <= waveStart(progress.wave)) await record(progress.paused ? 'paused' : 'running');
      const end = waveStart(progress.wave) + input.waves[progress.wave]!;
      while (progress.next < end && !progress.stopReason) {
        if (startedThisRun >= (input.hostsPerRun ?? HOSTS_PER_RUN) || workflowInfo().continueAsNewSuggested) {
          // Drain first: a child's result cannot reach the next run of this workflow.
          await condition(() => running === 0);
          await condition(allHandlersFinished);
          return await continueAsNew<typeof bulkExecutionWorkflow>({ ...input, progress });
        }
        await condition(() => (running < input.options.maxParallel && !progress.paused) || progress.stopReason !== null);
        if (progress.stopReason) break;
        startHost(progress.next++);
      }
      await condition(() => running === 0);
      if (progress.stopReason) break;
    }
    outcome = progress.stopReason ? 'failed' : progress.failed > 0 || progress.cancelled > 0 ? 'failed' : 'succeeded';
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(async () => {
      // Children got the cancellation with this workflow; each ends once its host has stopped.
      await condition(() => running === 0);
      progress.stopReason ??= 'cancelled by request';
      await central.finishBulk({ bulkId: input.bulkId, status: 'cancelled', stopReason: progress.stopReason, unstartedAs: 'cancelled' });
    });
    upsertSearchAttributes(searchAttributes({ status: 'cancelled' }));
    throw err;
  }
  await central.finishBulk({ bulkId: input.bulkId, status: outcome, stopReason: progress.stopReason, unstartedAs: 'skipped' });
  upsertSearchAttributes(searchAttributes({ status: outcome }));
  return progress;
}
