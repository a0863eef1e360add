export { localOperations, type OperationContext, type OperationExecutor, runOperation, type RunOperationOptions } from './run-operation.ts';
export { parseScQuery, type ScQueryResult, type WindowsServiceState } from './windows-service.ts';
export { runJobOperation } from './job-operation.ts';
