export * from './script-run.workflow.ts';
export * from './repository-sync.workflow.ts';
export * from './host-lock.workflow.ts';
export * from './bulk-execution.workflow.ts';
export * from './scheduled-run.workflow.ts';
export * from './notification-delivery.workflow.ts';
export * from './notification-watch.workflow.ts';
