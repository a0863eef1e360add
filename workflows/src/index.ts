export * from './script-run.workflow.ts';
export * from './repository-sync.workflow.ts';
