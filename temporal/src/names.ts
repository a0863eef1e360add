// The one place Temporal names are spelled. Workflows import this file, so it stays free of Node built-ins.

export const CENTRAL_QUEUE = 'central';
export const agentQueue = (hostId: string): string => `agent-${hostId}`;
export const runWorkflowId = (runId: string): string => `run/${runId}`;
export const bulkWorkflowId = (bulkId: string): string => `bulk/${bulkId}`;
/** A schedule's Temporal Schedule, and the prefix of its firings' workflow ids (Temporal appends the fire time). */
export const scheduleWorkflowId = (scheduleId: string): string => `schedule/${scheduleId}`;
export const bulkHostWorkflowId = (bulkId: string, hostId: string): string => `bulk/${bulkId}/${hostId}`;

export { SEARCH_ATTRIBUTE_FLAGS, SearchAttr } from './search-attributes.ts';

export function temporalWebUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

export function temporalScheduleUrl(uiUrl: string, namespace: string, scheduleId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/schedules/${encodeURIComponent(scheduleId)}`;
}

export const syncWorkflowId = (repositoryId: string): string => `sync/${repositoryId}`;
export const syncScheduleId = (repositoryId: string): string => `sync-schedule/${repositoryId}`;

export const lockWorkflowId = (hostId: string): string => `lock/${hostId}`;

/** A notification's delivery to one channel: `key` is `<eventId>/<channelId>`, the delivery's idempotency key. */
export const notifyWorkflowId = (key: string): string => `notify/${key}`;
/** The delivery workflow's type name, for activity code that cannot import workflow references (a package cycle). */
export const NOTIFICATION_DELIVERY_WORKFLOW = 'notificationDeliveryWorkflow';

/** The one watcher for events without a moment of their own (a host gone silent, a lock held too long). */
export const NOTIFICATION_WATCH_WORKFLOW_ID = 'watch/notifications';
/** Its type name: the temporal package starts it without importing the workflows (as the delivery workflow). */
export const NOTIFICATION_WATCH_WORKFLOW = 'notificationWatchWorkflow';
