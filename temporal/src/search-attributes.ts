import { defineSearchAttributeKey, type SearchAttributePair, SearchAttributeType } from '@temporalio/common';
import type { BulkStatus, RunStatus } from '@drydock/core';

// Drydock's custom search attributes: the keys, the values they take, and the one builder every workflow start and
// upsert goes through. Workflows import this file, so it stays free of Node built-ins.

export const SearchAttr = {
  Kind: defineSearchAttributeKey('DrydockKind', SearchAttributeType.KEYWORD),
  Script: defineSearchAttributeKey('DrydockScript', SearchAttributeType.KEYWORD),
  Hosts: defineSearchAttributeKey('DrydockHosts', SearchAttributeType.KEYWORD_LIST),
  Initiator: defineSearchAttributeKey('DrydockInitiator', SearchAttributeType.KEYWORD),
  Environment: defineSearchAttributeKey('DrydockEnvironment', SearchAttributeType.KEYWORD),
  Team: defineSearchAttributeKey('DrydockTeam', SearchAttributeType.KEYWORD),
  Status: defineSearchAttributeKey('DrydockStatus', SearchAttributeType.KEYWORD),
} as const;

/** What a workflow is, for `DrydockKind = '…'` in Temporal Web's filter. */
export type WorkflowKind = 'script-run' | 'action-run' | 'bulk-execution' | 'bulk-host-run' | 'repository-sync' | 'host-lock' | 'schedule-firing' | 'notification';

/** Drydock's search attributes by meaning; a field left out is not set (or, in an upsert, left as it is). */
export interface DrydockSearchAttributes {
  kind?: WorkflowKind;
  script?: string;
  hosts?: string[];
  /** The email of who started it. */
  initiator?: string;
  environment?: string;
  team?: string;
  status?: RunStatus | BulkStatus;
}

/**
 * The pairs for `typedSearchAttributes` (workflow starts, children, schedules) and `upsertSearchAttributes`, always in
 * the order of SearchAttr: an upsert's command stays the same from one deploy to the next, so histories replay.
 */
export function searchAttributes(a: DrydockSearchAttributes): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [];
  if (a.kind !== undefined) pairs.push({ key: SearchAttr.Kind, value: a.kind });
  if (a.script !== undefined) pairs.push({ key: SearchAttr.Script, value: a.script });
  if (a.hosts !== undefined) pairs.push({ key: SearchAttr.Hosts, value: a.hosts });
  if (a.initiator !== undefined) pairs.push({ key: SearchAttr.Initiator, value: a.initiator });
  if (a.environment !== undefined) pairs.push({ key: SearchAttr.Environment, value: a.environment });
  if (a.team !== undefined) pairs.push({ key: SearchAttr.Team, value: a.team });
  if (a.status !== undefined) pairs.push({ key: SearchAttr.Status, value: a.status });
  return pairs;
}

/** Every key, for registering them on a namespace. */
export const SEARCH_ATTRIBUTE_KEYS = Object.values(SearchAttr);

/** `--search-attribute` values for the dev server, in the CLI's type names. */
export const SEARCH_ATTRIBUTE_FLAGS: string[] = SEARCH_ATTRIBUTE_KEYS.map((k) => `${k.name}=${k.type === SearchAttributeType.KEYWORD_LIST ? 'KeywordList' : 'Keyword'}`);
