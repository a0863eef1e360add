import type { ScriptView } from '@drydock/core/api-schemas';

/** Where an entry of the catalog lives: scripts and actions have pages of their own. */
export function entryHref(entry: Pick<ScriptView, 'kind' | 'id'>): string {
  return `/${entry.kind === 'action' ? 'actions' : 'scripts'}/${encodeURIComponent(entry.id)}`;
}

/** A script at one exact version: the page that runs it again. */
export function scriptVersionHref(scriptId: string, version: string): string {
  return `/scripts/${encodeURIComponent(scriptId)}?version=${encodeURIComponent(version)}`;
}

/** The bulk form for an entry; a script at `version` when an older one is on show. */
export function bulkNewHref(entry: Pick<ScriptView, 'kind' | 'id'>, version?: string): string {
  const query = new URLSearchParams({ [entry.kind === 'action' ? 'actionId' : 'scriptId']: entry.id });
  if (version && entry.kind !== 'action') query.set('version', version);
  return `/bulk/new?${query}`;
}

/** A GET form's fields without the empty ones, so the URL carries only the filters in use. */
export function filledFields(form: HTMLFormElement): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (typeof value === 'string' && value.trim() !== '') params.set(name, value.trim());
  return params;
}

/** A run's reproduction bundle: the API route through the web origin, which proxies /api to the API. */
export function runBundleHref(runId: string): string {
  return `/api/v1/runs/${encodeURIComponent(runId)}/bundle`;
}
