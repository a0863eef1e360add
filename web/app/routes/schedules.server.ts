import type { HostView, ScheduleFiringView, ScheduleView, ScriptView } from '@drydock/core/api-schemas';
import { data, redirect } from 'react-router';
import { answer, api, result } from '../lib/api.server.ts';
import { hasFieldErrors, type FieldErrors } from '../lib/form-errors.ts';
import { checkParams, checkRunForm, type StartRunFailure } from '../lib/run-form.ts';
import { echoParamFields, loadHosts } from '../lib/start-run.server.ts';

// The schedules pages' server side: the list, the new-schedule form (the run form with the spec's fields), one schedule.

export async function loadSchedules(request: Request) {
  const client = api(request);
  const [{ schedules }, { scripts }] = await Promise.all([answer(client.schedules.$get()), answer(client.scripts.$get({ query: {} }))]);
  return { schedules, scripts: scripts.filter((s) => s.kind === 'script').map((s) => ({ id: s.id, name: s.name })) };
}

export interface NewSchedulePage {
  script: ScriptView;
  hosts: HostView[];
}

export async function loadNewSchedule(request: Request): Promise<NewSchedulePage> {
  const id = new URL(request.url).searchParams.get('script')?.trim() ?? '';
  const script = await answer(api(request).scripts[':id'].$get({ param: { id }, query: {} }));
  return { script, hosts: await loadHosts(request, script) };
}

/** The API names spec fields `spec.cron.0` and parameters `params.count`; the form names them `cron` and `count`. */
function formFields(fields: Record<string, string[]>): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, messages] of Object.entries(fields)) {
    const name = key.startsWith('params.') ? key.slice('params.'.length) : key.startsWith('spec.') ? key.slice('spec.'.length).split('.')[0]! : key === 'name' ? 'scheduleName' : key;
    out[name] = [...(out[name] ?? []), ...messages];
  }
  return out;
}

export type ScheduleFormFailure = StartRunFailure & { schedule: { scheduleName: string; cron: string; timeZone: string } };

export async function createScheduleAction(request: Request) {
  const form = await request.formData();
  const { script } = await loadNewSchedule(request);
  const hostId = String(form.get('hostId') ?? '');
  const schedule = { scheduleName: String(form.get('scheduleName') ?? '').trim(), cron: String(form.get('cron') ?? '').trim(), timeZone: String(form.get('timeZone') ?? 'UTC') };
  const failure = (status: number, message: string, fields: FieldErrors) =>
    data<ScheduleFormFailure>({ intent: 'run', message, fields, values: echoParamFields(script, form), hostId, schedule }, { status });
  const fields = checkRunForm(script.parameters, form);
  if (!schedule.scheduleName) fields.scheduleName = ['name the schedule'];
  if (!schedule.cron) fields.cron = ['say when it fires: a cron expression such as 30 2 * * *'];
  if (hasFieldErrors(fields)) return failure(400, 'Some fields need attention.', fields);
  const { coerced } = checkParams(script.parameters, form);
  // A schedule stores no secret: an empty secret field is left out rather than sent as "".
  for (const p of script.parameters) if (p.type === 'secret' && (coerced[p.name] === '' || coerced[p.name] === undefined)) delete coerced[p.name];
  const created = await result(
    api(request).schedules.$post({ json: { name: schedule.scheduleName, scriptId: script.id, hostId, params: coerced, spec: { cron: [schedule.cron], timeZone: schedule.timeZone } } }),
  );
  if (created.ok) return redirect(`/schedules/${encodeURIComponent(created.body.id)}`);
  return failure(created.status, created.error.message, formFields(created.error.fields ?? {}));
}

export interface SchedulePage {
  schedule: ScheduleView;
  firings: ScheduleFiringView[];
}

export async function loadSchedule(request: Request, id: string): Promise<SchedulePage> {
  const client = api(request);
  const [schedule, { firings }] = await Promise.all([answer(client.schedules[':id'].$get({ param: { id } })), answer(client.schedules[':id'].firings.$get({ param: { id } }))]);
  return { schedule, firings };
}

export async function scheduleAction(request: Request, id: string) {
  const form = await request.formData();
  const intent = String(form.get('_intent') ?? '');
  const client = api(request).schedules[':id'];
  const param = { id };
  if (intent === 'pause') {
    const res = await result(client.pause.$post({ param, json: { note: String(form.get('note') ?? '') } }));
    return res.ok ? { intent, ok: true, message: 'Paused.' } : data({ intent, ok: false, message: res.error.message }, { status: res.status });
  }
  if (intent === 'unpause') {
    const res = await result(client.unpause.$post({ param, json: {} }));
    return res.ok ? { intent, ok: true, message: 'Unpaused.' } : data({ intent, ok: false, message: res.error.message }, { status: res.status });
  }
  if (intent === 'trigger') {
    const res = await result(client.trigger.$post({ param }));
    return res.ok ? { intent, ok: true, message: 'Fired once now: the firing shows below in a moment.' } : data({ intent, ok: false, message: res.error.message }, { status: res.status });
  }
  if (intent === 'delete') {
    const res = await result(client.$delete({ param }));
    return res.ok ? redirect('/schedules') : data({ intent, ok: false, message: res.error.message }, { status: res.status });
  }
  return data({ intent, ok: false, message: `unknown action ${intent}` }, { status: 400 });
}
