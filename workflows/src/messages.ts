// Every workflow's signals, queries and updates, and a typed reference to each workflow, for clients:
// `@drydock/workflows/messages` loads no workflow code, so the API imports it freely.
export * from './script-run.messages.ts';
export * from './bulk-execution.messages.ts';
export * from './repository-sync.messages.ts';
export * from './host-lock.messages.ts';
export * from './approval.messages.ts';
export * from './scheduled-run.messages.ts';
export * from './notification-delivery.messages.ts';
export * from './notification-watch.messages.ts';
