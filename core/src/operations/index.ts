export * from './operation-schema.ts';
export * from './operation-result.ts';
export * from './render-operation.ts';
export * from './sql-statements.ts';
export * from './operation-transports.ts';
