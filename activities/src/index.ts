import { createApprovalActivities } from './approval.activities.ts';
import { createBulkActivities } from './bulk.activities.ts';
import { type CatalogSyncDeps, createCatalogSyncActivities } from './catalog-sync.activities.ts';
import { type AgentlessActivityDeps, createAgentlessActivities } from './agentless.activities.ts';
import { createHostLockActivities } from './host-lock.activities.ts';
import { createRunActivities, type RunActivityDeps } from './runs.activities.ts';
import { createScheduleActivities } from './schedules.activities.ts';
import { createNotificationWatcherActivities, type WatcherDeps } from './notification-watchers.activities.ts';
import { activityNotifier, createNotificationActivities } from './notifications.activities.ts';

export * from './runs.activities.ts';
export * from './catalog-sync.activities.ts';
export * from './db-log-sink.ts';
export * from './agentless.activities.ts';
export * from './host-lock.activities.ts';
export * from './bulk.activities.ts';
export * from './run-secrets.ts';
export * from './approval.activities.ts';
export * from './schedules.activities.ts';
export * from './notifications.activities.ts';
export * from './notification-watchers.activities.ts';
export type { NotificationDeliveryInput } from './notify/events.ts';

/** Everything the central worker serves on the `central` queue. */
export function createCentralActivities(deps: RunActivityDeps & CatalogSyncDeps & AgentlessActivityDeps & { notifications: WatcherDeps }) {
  const notifier = activityNotifier(deps.notifications);
  return {
    ...createRunActivities({ ...deps, notifier }),
    ...createHostLockActivities(deps),
    ...createCatalogSyncActivities(deps),
    ...createAgentlessActivities(deps),
    ...createBulkActivities({ ...deps, notifier }),
    ...createApprovalActivities(deps),
    ...createScheduleActivities({ ...deps, notifier }),
    ...createNotificationActivities(deps.notifications),
    ...createNotificationWatcherActivities(deps.notifications),
  };
}

export type CentralActivities = ReturnType<typeof createCentralActivities>;
