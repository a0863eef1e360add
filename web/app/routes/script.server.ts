import type { HostView, ScriptDetail, ScriptVersionView } from '@drydock/core/api-schemas';
import { answer, api, result } from '../lib/api.server.ts';
import { loadHosts, startRun } from '../lib/start-run.server.ts';

export interface ScriptPageData {
  script: ScriptDetail;
  /** Newest first; null when the history could not be read (the page still runs the script). */
  versions: ScriptVersionView[] | null;
  versionsProblem: string | null;
  hosts: HostView[];
}

function loadScript(request: Request, id: string, version: string | undefined) {
  return answer(api(request).scripts[':id'].$get({ param: { id }, query: version ? { version } : {} }));
}

/** The script at the version in the URL (`?version=`, a SHA or its prefix; the current one when absent). */
export async function loadScriptPage(request: Request, id: string): Promise<ScriptPageData> {
  const version = new URL(request.url).searchParams.get('version')?.trim() || undefined;
  const [script, history] = await Promise.all([
    loadScript(request, id, version),
    result(api(request).scripts[':id'].versions.$get({ param: { id } })),
  ]);
  const hosts = await loadHosts(request, script);
  return {
    script,
    versions: history.ok ? history.body.versions : null,
    versionsProblem: history.ok ? null : history.error.message,
    hosts,
  };
}

/** Runs the version the form was showing: an older one only when the form says so. */
export async function runScript(request: Request, id: string) {
  const form = await request.formData();
  const version = String(form.get('scriptVersion') ?? '') || undefined;
  const script = await loadScript(request, id, version);
  return startRun(request, form, script, { scriptId: script.id, ...(version ? { version: script.version } : {}) });
}
