import type { CatalogItem, Manifest, ScriptView } from '@drydock/core';

/**
 * Why this Drydock cannot run an entry yet, or null. Host locks arrive with later work; until then such
 * entries are listed but refused, so nothing runs without what its manifest asks.
 */
export function notRunnableReason(m: Manifest): string | null {
  if (m.requires_lock) return 'it requires a host lock, and host locks are not available in this Drydock yet';
  return null;
}

export function toScriptView(item: CatalogItem, usageCount: number): ScriptView {
  const m = item.manifest;
  const reason = notRunnableReason(m);
  return {
    kind: item.kind,
    id: item.id,
    name: m.name,
    description: m.description,
    category: m.category,
    tags: m.tags,
    version: item.version,
    interpreter: m.interpreter ?? null,
    commandTemplate: m.command_template ?? null,
    runner: m.runner,
    timeout: m.timeout,
    retries: m.retries,
    requiresLock: m.requires_lock,
    hostTags: m.host_tags,
    successCriteria: m.success_criteria,
    parameters: m.parameters,
    repository: item.repository,
    file: item.file,
    usageCount,
    runnable: reason === null,
    notRunnableReason: reason,
    updatedAt: item.updatedAt.toISOString(),
  };
}
