import { defineQuery } from '@temporalio/workflow';
import type { RunOutcome } from '@drydock/core/run-contract';
import type { scriptRunWorkflow } from './script-run.workflow.ts';
import { workflowRef } from './workflow-ref.ts';

export const scriptRunWorkflowRef = workflowRef<typeof scriptRunWorkflow>('scriptRunWorkflow');

/** The run's outcome once it has one; null while it runs. */
export const outcomeQuery = defineQuery<RunOutcome | null>('outcome');
