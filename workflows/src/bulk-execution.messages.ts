import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BulkProgress } from '@drydock/core/bulk';
import type { bulkExecutionWorkflow } from './bulk-execution.workflow.ts';
import { workflowRef } from './workflow-ref.ts';

export const bulkExecutionWorkflowRef = workflowRef<typeof bulkExecutionWorkflow>('bulkExecutionWorkflow');

/** No host starts until resumed; hosts already running finish. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const progressQuery = defineQuery<BulkProgress>('progress');
