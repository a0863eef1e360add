import { data, redirect } from 'react-router';
import type { ActionView, BulkPreview, HostView, ScriptView } from '@drydock/core/api-schemas';
import { answer, api, result } from '../lib/api.server.ts';
import { checkBulkForm, fieldsFromApi, readSettings, type BulkFormResult, type BulkTarget } from '../lib/bulk-form.ts';
import { echoParamFields, loadHosts } from '../lib/start-run.server.ts';
import { loadAction } from './action-editor.server.ts';

export interface BulkEntry {
  entry: ScriptView;
  target: BulkTarget;
  /** A script at a version other than the current one. */
  olderVersion: string | null;
}

/** The script (`?scriptId=`, with `?version=` for an older one) or action (`?actionId=`) the page runs. */
async function loadEntry(request: Request): Promise<BulkEntry> {
  const search = new URL(request.url).searchParams;
  const scriptId = search.get('scriptId')?.trim();
  const actionId = search.get('actionId')?.trim();
  const version = search.get('version')?.trim() || undefined;
  if (actionId && !scriptId) {
    const action: ActionView = await loadAction(request, actionId);
    return { entry: action, target: { actionId: action.id }, olderVersion: null };
  }
  if (scriptId && !actionId) {
    const script = await answer(api(request).scripts[':id'].$get({ param: { id: scriptId }, query: version ? { version } : {} }));
    return {
      entry: script,
      target: { scriptId: script.id, ...(version ? { version: script.version } : {}) },
      olderVersion: script.current ? null : script.version,
    };
  }
  throw data(
    { code: 'invalid', message: 'This page runs one script or one action: open it from the "Run on many hosts" link on a script or action page.' },
    { status: 400 },
  );
}

export async function loadBulkForm(request: Request): Promise<BulkEntry & { hosts: HostView[] }> {
  const found = await loadEntry(request);
  return { ...found, hosts: await loadHosts(request, found.entry) };
}

/** Preview asks the API who it would run on; start (Confirm) starts it. Both re-check what the browser checked. */
export async function previewOrStart(request: Request) {
  const form = await request.formData();
  const sent = form.get('_intent');
  if (sent !== 'preview' && sent !== 'start') throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
  const intent: BulkFormResult['intent'] = sent;
  const { entry, target } = await loadEntry(request);
  const settings = readSettings(form);
  const reply = (status: number, message: string | null, fields: BulkFormResult['fields'], preview: BulkPreview | null = null) =>
    data<BulkFormResult>({ intent, message, fields, values: echoParamFields(entry, form), settings, preview }, { status });

  if (!entry.runnable) return reply(400, entry.notRunnableReason ?? `This ${entry.kind} cannot run.`, {});
  const { body, fields } = checkBulkForm(entry.parameters, form, target);
  if (!body) return reply(400, 'Some fields need attention.', fields);

  const refused = (status: number, error: { message: string; fields?: Record<string, string[]> }) => {
    const apiFields = fieldsFromApi(error.fields ?? {}, settings.selectBy);
    return reply(status, Object.keys(apiFields).length > 0 ? 'Some fields need attention.' : error.message, apiFields);
  };

  if (intent === 'preview') {
    const preview = await result(api(request).bulk.preview.$post({ json: { ...target, selector: body.selector, options: body.options } }));
    return preview.ok ? reply(200, null, {}, preview.body) : refused(preview.status, preview.error);
  }
  const started = await result(api(request).bulk.$post({ json: body }));
  if (started.ok) return redirect(`/bulk/${encodeURIComponent(started.body.id)}`);
  return refused(started.status, started.error);
}
