import { createRunActivities, type RunActivityDeps } from './runs.activities.ts';

export * from './runs.activities.ts';

/** Everything the central worker serves on the `central` queue. */
export function createCentralActivities(deps: RunActivityDeps) {
  return { ...createRunActivities(deps) };
}

export type CentralActivities = ReturnType<typeof createCentralActivities>;
