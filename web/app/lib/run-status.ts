import { RunListQuerySchema, type RunView } from '@drydock/core/api-schemas';

export type RunStatus = RunView['status'];

export const RUN_STATUSES: readonly RunStatus[] = RunListQuerySchema.shape.status.unwrap().options;

export function isFinal(status: RunStatus): boolean {
  return status !== 'queued' && status !== 'waiting_for_lock' && status !== 'running';
}
