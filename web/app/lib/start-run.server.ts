import { data, redirect } from 'react-router';
import type { HostView, ScriptView } from '@drydock/core/api-schemas';
import { answer, api, result } from './api.server.ts';
import { hasFieldErrors } from './form-errors.ts';
import { checkParams, checkRunForm, readParamFields, type RawFields, type StartRunFailure } from './run-form.ts';

/** The hosts an entry can run on: those with its host tags, reached the way its runner needs. */
export async function loadHosts(request: Request, entry: Pick<ScriptView, 'hostTags' | 'runner'>): Promise<HostView[]> {
  const query = entry.hostTags.length > 0 ? { tags: entry.hostTags.join(',') } : {};
  const { hosts } = await answer(api(request).hosts.$get({ query }));
  return hosts.filter((h) => (entry.runner === 'agent' ? h.transport !== 'docker' : h.transport === entry.runner));
}

/** What goes back into the form after a failure; secrets are never echoed into the page. */
export function echoParamFields(entry: ScriptView, form: FormData): RawFields {
  const raw = readParamFields(entry.parameters, form);
  for (const p of entry.parameters) {
    if (p.type === 'secret') delete raw[p.name];
    else if (p.type === 'boolean') raw[p.name] ??= 'false';
  }
  return raw;
}

export type RunTarget = { scriptId: string; version?: string } | { actionId: string };

/** Re-validates exactly as the browser did (a request may come without JS), then asks the API to start the run. */
export async function startRun(request: Request, form: FormData, entry: ScriptView, target: RunTarget) {
  const hostId = String(form.get('hostId') ?? '');
  const failure = (status: number, message: string, fields: StartRunFailure['fields']) =>
    data<StartRunFailure>({ intent: 'run', message, fields, values: echoParamFields(entry, form), hostId }, { status });

  if (!entry.runnable) return failure(400, entry.notRunnableReason ?? `This ${entry.kind} cannot run.`, {});
  const fields = checkRunForm(entry.parameters, form);
  if (hasFieldErrors(fields)) return failure(400, 'Some fields need attention.', fields);
  const { coerced } = checkParams(entry.parameters, form);

  const created = await result(api(request).runs.$post({ json: { ...target, hostId, params: coerced } }));
  if (created.ok) return redirect(`/runs/${encodeURIComponent(created.body.id)}`);
  return failure(created.status, created.error.message, created.error.fields ?? {});
}
