import type { CatalogItem, Manifest, ScriptView } from '@drydock/core';

/**
 * Why this Drydock cannot run an entry, or null. Every manifest it parses is runnable today; a feature that a
 * manifest may ask for before Drydock has it gets its refusal here, so nothing runs without what it asks.
 */
export function notRunnableReason(_m: Manifest): string | null {
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
