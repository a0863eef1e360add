import { RunListQuerySchema, type RunView } from '@drydock/core/api-schemas';

export type RunStatus = RunView['status'];

export const RUN_STATUSES: readonly RunStatus[] = RunListQuerySchema.shape.status.unwrap().options;

export function isFinal(status: RunStatus): boolean {
  return status !== 'waiting_for_approval' && status !== 'queued' && status !== 'waiting_for_lock' && status !== 'running';
}

/**
 * The attempts a run has made so far. The run record counts them only once the run ends, while its log names each
 * attempt from the first line on: a running run has made as many as its log shows.
 */
export function attemptsSoFar(run: { attempts: number }, lines: readonly { attempt: number }[]): number {
  let latest = run.attempts;
  for (const line of lines) if (line.attempt > latest) latest = line.attempt;
  return latest;
}
