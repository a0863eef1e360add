import { defineSignal } from '@temporalio/workflow';
import type { repositorySyncWorkflow } from './repository-sync.workflow.ts';
import { workflowRef } from './workflow-ref.ts';

export const repositorySyncWorkflowRef = workflowRef<typeof repositorySyncWorkflow>('repositorySyncWorkflow');

/** Another sync is wanted: requests that arrive while one runs give exactly one more. */
export const syncRequestedSignal = defineSignal<[{ reason: string }]>('syncRequested');
