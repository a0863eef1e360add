import { ApplicationFailure, ChildWorkflowFailure, executeChild, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { CentralActivities, FiringDecision, ScheduledRunInput } from '@drydock/activities';
import { CENTRAL_QUEUE, runWorkflowId } from '@drydock/temporal/names';
import { searchAttributes } from '@drydock/temporal/search-attributes';
import { scriptRunWorkflow } from './script-run.workflow.ts';

const central = proxyLocalActivities<CentralActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

/** The failure type of a firing that could not start its run: the script was removed, the host is gone. */
export const FIRING_FAILED = 'ScheduleFiringFailed';

// Temporal sets this on every workflow a Schedule starts: the time the spec, a trigger or a backfill fired it for.
const ScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * One firing of a schedule (`schedule/<id>-<time>`, started by the Temporal Schedule): decides once whether it
 * runs (the catalog entry and host still there, no blackout window in force), then runs the same workflow a
 * manual run does, as a child, and ends as the run ends, so the schedule's overlap policy applies to whole runs.
 */
export async function scheduledRunWorkflow(input: ScheduledRunInput): Promise<FiringDecision> {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(ScheduledStartTime) ?? new Date(info.startTime);
  const decision = await central.beginScheduledFiring({ ...input, workflowId: info.workflowId, scheduledAt: scheduledAt.toISOString() });
  if (decision.outcome === 'failed') throw ApplicationFailure.nonRetryable(decision.reason, FIRING_FAILED);
  if (decision.outcome === 'skipped') return decision;

  const { run } = decision;
  try {
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
        status: 'queued',
      }),
    });
  } catch (err) {
    // The run's own failure says what went wrong; a firing that failed lets `pauseOnFailure` pause the schedule.
    if (err instanceof ChildWorkflowFailure && err.cause) throw err.cause;
    throw err;
  }
  return decision;
}
