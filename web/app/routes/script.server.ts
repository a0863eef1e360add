import type { RunView, ScriptView } from '@drydock/core/api-schemas';
import { data, redirect } from 'react-router';
import { callApi, getFromApi } from '../lib/api.server.ts';
import { checkHost, checkParams, readParamFields, type FieldErrors } from '../lib/run-form.ts';

export interface HostView {
  id: string;
  name: string;
  online: boolean;
  lastSeenAt: string | null;
  os: string | null;
  agentVersion: string | null;
}

export interface StartRunFailure {
  message: string;
  fields: FieldErrors;
  values: Record<string, string | undefined>;
  hostId: string;
}

export function loadScript(request: Request, id: string): Promise<ScriptView> {
  return getFromApi<ScriptView>(request, `/api/v1/scripts/${encodeURIComponent(id)}`);
}

export async function loadHosts(request: Request): Promise<HostView[]> {
  const { hosts } = await getFromApi<{ hosts: HostView[] }>(request, '/api/v1/hosts');
  return hosts;
}

/** What goes back into the form after a failure; secrets are never echoed into the page. */
function echo(script: ScriptView, form: FormData): Record<string, string | undefined> {
  const raw = readParamFields(script.parameters, form);
  for (const p of script.parameters) {
    if (p.type === 'secret') delete raw[p.name];
    else if (p.type === 'boolean') raw[p.name] ??= 'false';
  }
  return raw;
}

/** Re-validates exactly as the browser did (a request may come without JS), then asks the API to start the run. */
export async function startRun(request: Request, scriptId: string) {
  const form = await request.formData();
  const script = await loadScript(request, scriptId);
  const hostId = String(form.get('hostId') ?? '');
  const { coerced, result } = checkParams(script.parameters, form);
  const fields = { ...checkHost(form), ...(result.ok ? {} : result.fields) };
  if (Object.keys(fields).length > 0) {
    return data<StartRunFailure>(
      { message: 'Some fields need attention.', fields, values: echo(script, form), hostId },
      { status: 400 },
    );
  }

  const created = await callApi<RunView>(request, '/api/v1/runs', {
    method: 'POST',
    body: { scriptId: script.id, hostId, params: coerced },
  });
  if (created.ok) return redirect(`/runs/${encodeURIComponent(created.body.id)}`);
  return data<StartRunFailure>(
    { message: created.error.message, fields: created.error.fields ?? {}, values: echo(script, form), hostId },
    { status: created.status },
  );
}
