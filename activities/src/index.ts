import { createBulkActivities } from './bulk.activities.ts';
import { type CatalogSyncDeps, createCatalogSyncActivities } from './catalog-sync.activities.ts';
import { createDockerActivities, type DockerActivityDeps } from './docker.activities.ts';
import { createHostLockActivities } from './host-lock.activities.ts';
import { createRunActivities, type RunActivityDeps } from './runs.activities.ts';
import { createScheduleActivities } from './schedules.activities.ts';
import { createSshActivities } from './ssh.activities.ts';
import { createWinrmActivities } from './winrm.activities.ts';

export * from './runs.activities.ts';
export * from './catalog-sync.activities.ts';
export * from './db-log-sink.ts';
export * from './ssh.activities.ts';
export * from './winrm.activities.ts';
export * from './host-lock.activities.ts';
export * from './docker.activities.ts';
export * from './bulk.activities.ts';
export * from './schedules.activities.ts';

/** Everything the central worker serves on the `central` queue. */
export function createCentralActivities(deps: RunActivityDeps & CatalogSyncDeps & DockerActivityDeps) {
  return {
    ...createRunActivities(deps),
    ...createHostLockActivities(deps),
    ...createCatalogSyncActivities(deps),
    ...createSshActivities(deps),
    ...createWinrmActivities(deps),
    ...createDockerActivities(deps),
    ...createBulkActivities(deps),
    ...createScheduleActivities(deps),
  };
}

export type CentralActivities = ReturnType<typeof createCentralActivities>;
