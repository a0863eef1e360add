export * from './script-run.workflow.ts';
