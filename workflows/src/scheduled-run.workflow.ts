import { ApplicationFailure, ChildWorkflowFailure, executeChild, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { CentralActivities, FiringDecision, ScheduledRunInput } from '@drydock/activities';
import { bulkWorkflowId, CENTRAL_QUEUE, runWorkflowId } from '@drydock/temporal/names';
import { searchAttributes } from '@drydock/temporal/search-attributes';
import { bulkExecutionWorkflow } from './bulk-execution.workflow.ts';
import { scriptRunWorkflow } from './script-run.workflow.ts';

const central = proxyLocalActivities<CentralActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

/** The failure type of a firing that could not start its run: the script was removed, the host is gone. */
export const FIRING_FAILED = 'ScheduleFiringFailed';
/** The failure type of a bulk firing whose execution had failed hosts or was stopped. */
export const FIRING_BULK_FAILED = 'ScheduledBulkFailed';

// Temporal sets this on every workflow a Schedule starts: the time the spec, a trigger or a backfill fired it for.
const ScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * One firing of a schedule (`schedule/<id>-<time>`, started by the Temporal Schedule): decides once whether it
 * runs (the catalog entry and hosts still there, no blackout window in force), then runs the same workflow a
 * manual run or bulk execution does, as a child, and ends as it ends, so the schedule's overlap policy applies
 * to whole runs. A child in a protected environment waits for approval as a manual one does.
 */
export async function scheduledRunWorkflow(input: ScheduledRunInput): Promise<FiringDecision> {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(ScheduledStartTime) ?? new Date(info.startTime);
  const decision = await central.beginScheduledFiring({ ...input, workflowId: info.workflowId, workflowRunId: info.runId, scheduledAt: scheduledAt.toISOString() });
  if (decision.outcome === 'failed') throw ApplicationFailure.nonRetryable(decision.reason, FIRING_FAILED);
  if (decision.outcome === 'skipped') return decision;

  try {
    if (decision.target === 'bulk') {
      const { bulk } = decision;
      const progress = await executeChild(bulkExecutionWorkflow, {
        workflowId: bulkWorkflowId(bulk.bulkId),
        taskQueue: CENTRAL_QUEUE,
        args: [bulk],
        typedSearchAttributes: searchAttributes({
          kind: 'bulk-execution',
          script: bulk.scriptId,
          initiator: bulk.initiator.name,
          team: bulk.teamId,
          status: bulk.approval ? 'waiting_for_approval' : 'running',
        }),
      });
      // A failed firing lets `pauseOnFailure` pause the schedule, as a failed run does.
      if (progress.failed > 0 || progress.stopReason) {
        throw ApplicationFailure.nonRetryable(progress.stopReason ?? `${progress.failed} host(s) failed in bulk execution ${bulk.bulkId}`, FIRING_BULK_FAILED);
      }
      return decision;
    }
    const { run } = decision;
    await executeChild(scriptRunWorkflow, {
      workflowId: runWorkflowId(run.runId),
      taskQueue: CENTRAL_QUEUE,
      args: [run],
      typedSearchAttributes: searchAttributes({
        kind: run.source === 'action' ? 'action-run' : 'script-run',
        script: run.scriptId,
        hosts: [run.hostId],
        initiator: run.initiator.name,
        team: run.teamId,
        status: run.approval ? 'waiting_for_approval' : 'queued',
      }),
    });
  } catch (err) {
    // The run's own failure says what went wrong; a firing that failed lets `pauseOnFailure` pause the schedule.
    if (err instanceof ChildWorkflowFailure && err.cause) throw err.cause;
    throw err;
  }
  return decision;
}
