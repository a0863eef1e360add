import type { scheduledRunWorkflow } from './scheduled-run.workflow.ts';
import { workflowRef } from './workflow-ref.ts';

/** What a schedule's Temporal Schedule starts at each firing; it takes no messages. */
export const scheduledRunWorkflowRef = workflowRef<typeof scheduledRunWorkflow>('scheduledRunWorkflow');
