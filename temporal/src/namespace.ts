import Long from 'long';
import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from './search-attributes.ts';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/** Creates the namespace if it is missing and waits until the server serves it. */
export async function ensureNamespace(connection: Connection, namespace: string, retentionDays = 30): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return;
  } catch {
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(retentionDays * 86_400) } })
      .catch((err: { code?: number }) => {
        if (err.code !== 6) throw err; // ALREADY_EXISTS: another process won the race
      });
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Registers Drydock's search attributes on the namespace; the ones already there are left alone. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await untilNamespaceKnown(() => connection.operatorService.listSearchAttributes({ namespace }));
  const missing: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {};
  for (const key of SEARCH_ATTRIBUTE_KEYS) {
    if (existing.customAttributes?.[key.name] !== undefined) continue;
    missing[key.name] = key.type === SearchAttributeType.KEYWORD_LIST ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  }
  if (Object.keys(missing).length === 0) return;
  await untilNamespaceKnown(() => connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing }));
}

/** A new namespace reaches every service's cache a moment after it is registered; NOT_FOUND until then. */
async function untilNamespaceKnown<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if ((err as { code?: number }).code !== 5 || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
