export * from './agent.ts';
export * from './activities.ts';
export * from './identity.ts';
export * from './log-shipper.ts';
export * from './script-runner.ts';
