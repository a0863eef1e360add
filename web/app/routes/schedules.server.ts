import type { HostView, ScheduleFiringView, ScheduleView, ScriptView } from '@drydock/core/api-schemas';
import { data, redirect } from 'react-router';
import { zonedInstant } from '@drydock/core/time-zone';
import { answer, api, result } from '../lib/api.server.ts';
import { hasFieldErrors, type FieldErrors } from '../lib/form-errors.ts';
import { checkParams, checkRunForm, type StartRunFailure } from '../lib/run-form.ts';
import { checkBulkForm, formField, readSettings, type BulkSettings, type BulkTarget, type SelectBy } from '../lib/bulk-form.ts';
import { echoParamFields, loadHosts } from '../lib/start-run.server.ts';
import { loadAction } from './action-editor.server.ts';

// The schedules pages' server side: the list, the new-schedule form (the run form with the spec's fields), one schedule.

export async function loadSchedules(request: Request) {
  const client = api(request);
  const [{ schedules }, { scripts }] = await Promise.all([answer(client.schedules.$get()), answer(client.scripts.$get({ query: {} }))]);
  return { schedules, entries: scripts.map((s) => ({ id: s.id, name: s.name, kind: s.kind })) };
}

export type ScheduleTarget = 'run' | 'bulk';

export interface NewSchedulePage {
  entry: ScriptView;
  /** One run on a host, or a bulk execution over a host selector, at each firing. */
  target: ScheduleTarget;
  hosts: HostView[];
}

/** `?entry=script:<id>` or `action:<id>` (the list page's picker), or `?script=<id>` / `?action=<id>`; `&target=bulk` for a bulk schedule. */
export async function loadNewSchedule(request: Request): Promise<NewSchedulePage> {
  const search = new URL(request.url).searchParams;
  const picked = search.get('entry')?.trim() ?? '';
  const [kind, id] = picked.includes(':') ? [picked.slice(0, picked.indexOf(':')), picked.slice(picked.indexOf(':') + 1)] : search.has('action') ? ['action', search.get('action')!.trim()] : ['script', search.get('script')?.trim() ?? ''];
  const entry = kind === 'action' ? await loadAction(request, id) : await answer(api(request).scripts[':id'].$get({ param: { id }, query: {} }));
  const target: ScheduleTarget = search.get('target') === 'bulk' ? 'bulk' : 'run';
  return { entry, target, hosts: await loadHosts(request, entry) };
}

/** The API names spec fields `spec.cron.0` and parameters `params.count`; the form names them `cron` and `count`. */
function formFields(fields: Record<string, string[]>, selectBy: SelectBy): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, messages] of Object.entries(fields)) {
    const name = key.startsWith('spec.') ? key.slice('spec.'.length).split('.')[0]! : key === 'name' ? 'scheduleName' : formField(key, selectBy).field;
    out[name] = [...(out[name] ?? []), ...messages];
  }
  return out;
}

export interface ScheduleSpecFields {
  scheduleName: string;
  cron: string;
  timeZone: string;
}

export type ScheduleFormFailure = StartRunFailure & { schedule: ScheduleSpecFields; settings?: BulkSettings };

/** A schedule stores no secret: an empty secret field is left out rather than sent as "". */
function withoutEmptySecrets(entry: ScriptView, params: Record<string, unknown>): Record<string, unknown> {
  const out = { ...params };
  for (const p of entry.parameters) if (p.type === 'secret' && (out[p.name] === '' || out[p.name] === undefined)) delete out[p.name];
  return out;
}

export async function createScheduleAction(request: Request) {
  const form = await request.formData();
  const { entry, target } = await loadNewSchedule(request);
  const hostId = String(form.get('hostId') ?? '');
  const schedule: ScheduleSpecFields = { scheduleName: String(form.get('scheduleName') ?? '').trim(), cron: String(form.get('cron') ?? '').trim(), timeZone: String(form.get('timeZone') ?? 'UTC') };
  const settings = target === 'bulk' ? readSettings(form) : undefined;
  const failure = (status: number, message: string, fields: FieldErrors) =>
    data<ScheduleFormFailure>({ intent: 'run', message, fields, values: echoParamFields(entry, form), hostId, schedule, ...(settings ? { settings } : {}) }, { status });
  const ref: BulkTarget = entry.kind === 'action' ? { actionId: entry.id } : { scriptId: entry.id };
  const spec = { cron: [schedule.cron], timeZone: schedule.timeZone };
  let json;
  if (target === 'bulk') {
    const checked = checkBulkForm(entry.parameters, form, ref);
    const fields = { ...checked.fields };
    if (!schedule.scheduleName) fields.scheduleName = ['name the schedule'];
    if (!schedule.cron) fields.cron = ['say when it fires: a cron expression such as 30 2 * * *'];
    if (!checked.body || hasFieldErrors(fields)) return failure(400, 'Some fields need attention.', fields);
    json = { name: schedule.scheduleName, ...ref, selector: checked.body.selector, options: checked.body.options, params: withoutEmptySecrets(entry, checked.body.params), spec };
  } else {
    const fields = checkRunForm(entry.parameters, form);
    if (!schedule.scheduleName) fields.scheduleName = ['name the schedule'];
    if (!schedule.cron) fields.cron = ['say when it fires: a cron expression such as 30 2 * * *'];
    if (hasFieldErrors(fields)) return failure(400, 'Some fields need attention.', fields);
    const { coerced } = checkParams(entry.parameters, form);
    json = { name: schedule.scheduleName, ...ref, hostId, params: withoutEmptySecrets(entry, coerced), spec };
  }
  const created = await result(api(request).schedules.$post({ json }));
  if (created.ok) return redirect(`/schedules/${encodeURIComponent(created.body.id)}`);
  return failure(created.status, created.error.message, formFields(created.error.fields ?? {}, settings?.selectBy ?? 'hosts'));
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
  if (intent === 'backfill') {
    const zone = String(form.get('zone') ?? 'UTC');
    const start = instantOf(String(form.get('start') ?? ''), zone);
    const end = instantOf(String(form.get('end') ?? ''), zone);
    if (!start || !end) return data({ intent, ok: false, message: `Give the start and end of the range, as dates and times in ${zone}.` }, { status: 400 });
    const res = await result(client.backfill.$post({ param, json: { start, end } }));
    return res.ok
      ? { intent, ok: true, message: 'Backfill asked of Temporal: its firings show below as they run.' }
      : data({ intent, ok: false, message: Object.values(res.error.fields ?? {}).flat()[0] ?? res.error.message }, { status: res.status });
  }
  if (intent === 'delete') {
    const res = await result(client.$delete({ param }));
    return res.ok ? redirect('/schedules') : data({ intent, ok: false, message: res.error.message }, { status: res.status });
  }
  return data({ intent, ok: false, message: `unknown action ${intent}` }, { status: 400 });
}

/** `2025-03-30T02:30` (a datetime-local field) read as a wall clock in `zone`; null when it is not one. */
function instantOf(local: string, zone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  return new Date(zonedInstant({ year, month, day, hour, minute }, zone)).toISOString();
}
