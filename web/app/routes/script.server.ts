import { callApi, getFromApi } from '../lib/api.server.ts';
import type { HostView, ScriptDetail, ScriptVersionView } from '../lib/api-views.ts';
import { loadHosts, startRun } from '../lib/start-run.server.ts';

export interface ScriptPageData {
  script: ScriptDetail;
  /** Newest first; null when the history could not be read (the page still runs the script). */
  versions: ScriptVersionView[] | null;
  versionsProblem: string | null;
  hosts: HostView[];
}

function scriptPath(id: string, version?: string): string {
  const path = `/api/v1/scripts/${encodeURIComponent(id)}`;
  return version ? `${path}?version=${encodeURIComponent(version)}` : path;
}

/** The script at the version in the URL (`?version=`, a SHA or its prefix; the current one when absent). */
export async function loadScriptPage(request: Request, id: string): Promise<ScriptPageData> {
  const version = new URL(request.url).searchParams.get('version')?.trim() || undefined;
  const [script, history] = await Promise.all([
    getFromApi<ScriptDetail>(request, scriptPath(id, version)),
    callApi<{ versions: ScriptVersionView[] }>(request, `/api/v1/scripts/${encodeURIComponent(id)}/versions`),
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
  const script = await getFromApi<ScriptDetail>(request, scriptPath(id, version));
  return startRun(request, form, script, { scriptId: script.id, ...(version ? { version: script.version } : {}) });
}
