import type { Parameter } from '@drydock/core/manifest';
import { data, redirect } from 'react-router';
import { callApi, getFromApi } from '../lib/api.server.ts';
import type { BulkHostView, BulkView, ScriptView } from '../lib/api-views.ts';
import { BULK_INTENTS, type BulkIntent } from '../lib/bulk-view.ts';

function bulkPath(id: string): string {
  return `/api/v1/bulk/${encodeURIComponent(id)}`;
}

/** The secret parameters of the version that ran: they are not kept, so a re-run asks for them again. */
async function secretParameters(request: Request, bulk: BulkView): Promise<Parameter[]> {
  const path =
    bulk.source === 'action'
      ? `/api/v1/actions/${encodeURIComponent(bulk.scriptId)}`
      : `/api/v1/scripts/${encodeURIComponent(bulk.scriptId)}?version=${encodeURIComponent(bulk.scriptVersion)}`;
  const entry = await callApi<ScriptView>(request, path);
  return entry.ok ? entry.body.parameters.filter((p) => p.type === 'secret') : [];
}

export async function loadBulk(request: Request, id: string) {
  const [bulk, { hosts }] = await Promise.all([getFromApi<BulkView>(request, bulkPath(id)), getFromApi<{ hosts: BulkHostView[] }>(request, `${bulkPath(id)}/hosts`)]);
  return { bulk, hosts, secrets: await secretParameters(request, bulk) };
}


const DONE: Record<Exclude<BulkIntent, 'rerun-failed'>, string> = {
  pause: 'Pause requested: no new host starts until you resume; hosts already running carry on.',
  resume: 'Resumed: hosts start again.',
  cancel: 'Cancellation requested.',
};

export interface BulkActionResult {
  intent: BulkIntent;
  ok: boolean;
  message: string;
}

/** Pause, resume, cancel; re-running the failed hosts is a new execution, whose page opens. */
export async function actOnBulk(request: Request, id: string) {
  const form = await request.formData();
  const intent = form.get('_intent');
  const known = BULK_INTENTS.find((i) => i === intent);
  if (!known) throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
  let body = {};
  if (known === 'rerun-failed') {
    const secrets = await secretParameters(request, await getFromApi<BulkView>(request, bulkPath(id)));
    const params: Record<string, string> = {};
    for (const p of secrets) {
      const value = form.get(p.name);
      if (typeof value === 'string' && value !== '') params[p.name] = value;
    }
    body = { params };
  }
  const result = await callApi<BulkView>(request, `${bulkPath(id)}/${known}`, { method: 'POST', body });
  if (!result.ok) {
    const fields = Object.entries(result.error.fields ?? {}).map(([name, messages]) => `${name}: ${messages.join(' ')}`);
    const message = fields.length > 0 ? `${result.error.message} (${fields.join('; ')})` : result.error.message;
    return data<BulkActionResult>({ intent: known, ok: false, message }, { status: result.status });
  }
  if (known === 'rerun-failed') return redirect(`/bulk/${encodeURIComponent(result.body.id)}`);
  return { intent: known, ok: true, message: DONE[known] } satisfies BulkActionResult;
}
