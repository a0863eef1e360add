import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// The one place Temporal names are spelled. Workflows import this file, so it stays free of Node built-ins.

export const CENTRAL_QUEUE = 'central';
export const agentQueue = (hostId: string): string => `agent-${hostId}`;
export const runWorkflowId = (runId: string): string => `run/${runId}`;
export const bulkWorkflowId = (bulkId: string): string => `bulk/${bulkId}`;
/** A schedule's Temporal Schedule, and the prefix of its firings' workflow ids (Temporal appends the fire time). */
export const scheduleWorkflowId = (scheduleId: string): string => `schedule/${scheduleId}`;
export const bulkHostWorkflowId = (bulkId: string, hostId: string): string => `bulk/${bulkId}/${hostId}`;

export const SearchAttr = {
  Kind: defineSearchAttributeKey('DrydockKind', SearchAttributeType.KEYWORD),
  Script: defineSearchAttributeKey('DrydockScript', SearchAttributeType.KEYWORD),
  Hosts: defineSearchAttributeKey('DrydockHosts', SearchAttributeType.KEYWORD_LIST),
  Initiator: defineSearchAttributeKey('DrydockInitiator', SearchAttributeType.KEYWORD),
  Environment: defineSearchAttributeKey('DrydockEnvironment', SearchAttributeType.KEYWORD),
  Team: defineSearchAttributeKey('DrydockTeam', SearchAttributeType.KEYWORD),
  Status: defineSearchAttributeKey('DrydockStatus', SearchAttributeType.KEYWORD),
} as const;

/** `--search-attribute` values for the dev server, in the CLI's type names. */
export const SEARCH_ATTRIBUTE_FLAGS: string[] = Object.values(SearchAttr).map(
  (k) => `${k.name}=${k.type === SearchAttributeType.KEYWORD_LIST ? 'KeywordList' : 'Keyword'}`,
);

export function temporalWebUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

export function temporalScheduleUrl(uiUrl: string, namespace: string, scheduleId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/schedules/${encodeURIComponent(scheduleId)}`;
}

export const syncWorkflowId = (repositoryId: string): string => `sync/${repositoryId}`;
export const syncScheduleId = (repositoryId: string): string => `sync-schedule/${repositoryId}`;

export const HOST_LOCK_WORKFLOW = 'hostLockWorkflow';
export const lockWorkflowId = (hostId: string): string => `lock/${hostId}`;
/** hostLockWorkflow's messages by name: the API and the central activity that starts it send them by name. */
export const LockMessage = {
  acquireUpdate: 'acquire',
  acquireSignal: 'acquireSignal',
  releaseSignal: 'release',
  extendUpdate: 'extend',
  forceReleaseUpdate: 'forceRelease',
  stateQuery: 'lockState',
  /** Sent by the lock to a requesting workflow. */
  grantedSignal: 'lockGranted',
  revokedSignal: 'lockRevoked',
} as const;
