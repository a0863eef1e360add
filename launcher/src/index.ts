export * from './managed-process.ts';
export * from './postgres.ts';
export * from './secrets.ts';
export * from './stack.ts';
export * from './supervised-service.ts';
