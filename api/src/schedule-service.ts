import { ScheduleNotFoundError } from '@temporalio/client';
import {
  BulkOptionsSchema,
  isVaultReference,
  VaultReferenceSchema,
  ConflictError,
  type CreateScheduleBody,
  isId,
  newId,
  NotFoundError,
  type Schedule,
  type ScheduleFiringView,
  type ScheduleView,
  type User,
  validateParams,
  ValidationError,
} from '@drydock/core';
import { type ScheduleSpecSettings, toTemporalSchedule } from '@drydock/core/schedule-spec';
import { CENTRAL_QUEUE, scheduleWorkflowId, searchAttributes, temporalScheduleUrl } from '@drydock/temporal';
import { scheduledRunWorkflowRef } from '@drydock/workflows/messages';
import { previewBulk } from './bulk-service.ts';
import { notRunnableReason } from './catalog-views.ts';
import type { ApiDeps } from './context.ts';
import { checkHostParams, hostRefusal } from './run-service.ts';

// Schedules: a row per schedule (what runs, on which host or host selector, with which parameters) and a Temporal Schedule `schedule/<id>`
// (when). A firing carries ids only; the run workflow it starts reads the parameters from the row (decision 021).

const NEXT_FIRE_TIMES = 10;

export async function getScheduleRow(deps: ApiDeps, teamId: string, id: string): Promise<Schedule> {
  if (!isId(id)) throw new NotFoundError('schedule', id);
  const row = await deps.db.selectFrom('schedules').selectAll().where('id', '=', id).where('team_id', '=', teamId).executeTakeFirst();
  if (!row) throw new NotFoundError('schedule', id);
  return row;
}

/** Checked as a manual run (or bulk execution) is, before anything is stored: a schedule that could never start one is refused. */
export async function createSchedule(deps: ApiDeps, user: User, body: CreateScheduleBody): Promise<ScheduleView> {
  const source = body.actionId !== undefined ? 'action' : 'script';
  const entry = await deps.catalog.get(user.team_id, source, (body.actionId ?? body.scriptId)!);
  const manifest = entry.manifest;
  const reason = notRunnableReason(manifest);
  if (reason) throw new ValidationError(`${manifest.name} cannot run here: ${reason}`);
  let hostId: string | null = null;
  if (body.hostId !== undefined) {
    const host = await deps.db.selectFrom('hosts').select(['id', 'tags', 'transport']).where('id', '=', body.hostId).where('team_id', '=', user.team_id).executeTakeFirst();
    if (!host) throw new NotFoundError('host', body.hostId);
    const refusal = hostRefusal(manifest, host, source);
    if (refusal) throw new ValidationError(`host ${host.id} cannot run ${manifest.id}`, { hostId: [refusal] });
    hostId = host.id;
  } else {
    // The hosts are selected again at every firing; today's selection must find one, as a manual execution's must.
    const preview = await previewBulk(deps, user, { ...(source === 'action' ? { actionId: manifest.id } : { scriptId: manifest.id }), selector: body.selector!, options: body.options ?? BulkOptionsSchema.parse({}) });
    if (preview.hosts.length === 0) {
      const why = preview.excluded.slice(0, 5).map((e) => `${e.id}: ${e.reason}`);
      throw new ValidationError(`no selected host can run ${manifest.id}`, { selector: why.length > 0 ? why : ['no host matches the selector'] });
    }
  }

  // A schedule's parameters are stored and read at every firing: a secret may be there only as a Vault reference, resolved when its run executes.
  const secretFields: Record<string, string[]> = {};
  for (const p of manifest.parameters.filter((p) => p.type === 'secret')) {
    const given = body.params[p.name];
    const reference = typeof given === 'string' && isVaultReference(given) ? VaultReferenceSchema.safeParse(given) : null;
    if (given !== undefined && !reference) secretFields[`params.${p.name}`] = [`${p.name} is a secret: a schedule cannot store a secret value; give a Vault reference (vault:<mount>/<path>#<key>) or leave it out`];
    else if (reference && !reference.success) secretFields[`params.${p.name}`] = reference.error.issues.map((i) => i.message);
    else if (given === undefined && p.required && !(typeof p.default === 'string' && isVaultReference(p.default))) {
      secretFields[`params.${p.name}`] = [`${manifest.id} needs the secret ${p.name}: give it as a Vault reference (vault:<mount>/<path>#<key>); a schedule cannot store a secret value`];
    }
  }
  if (Object.keys(secretFields).length > 0) throw new ValidationError(`a schedule of ${manifest.id} cannot hold its secret parameters as given`, secretFields);
  const checked = validateParams(manifest.parameters, body.params);
  if (!checked.ok) throw new ValidationError(`parameters of ${manifest.id} are invalid`, prefixed(checked.fields));
  const hostFields = await checkHostParams(deps, user.team_id, manifest.parameters, checked.values, manifest.host_tags);
  if (Object.keys(hostFields).length > 0) throw new ValidationError(`parameters of ${manifest.id} name hosts that cannot be used`, prefixed(hostFields));

  const taken = await deps.db.selectFrom('schedules').select('id').where('team_id', '=', user.team_id).where('name', '=', body.name).executeTakeFirst();
  if (taken) throw new ConflictError(`a schedule named "${body.name}" exists already; choose another name`);

  const id = newId();
  await deps.db
    .insertInto('schedules')
    .values({
      id,
      team_id: user.team_id,
      name: body.name,
      source,
      script_id: manifest.id,
      target: hostId === null ? 'bulk' : 'run',
      host_id: hostId,
      selector: body.selector ?? null,
      bulk_options: body.selector ? (body.options ?? BulkOptionsSchema.parse({})) : null,
      params: checked.values,
      spec: body.spec as unknown as Record<string, unknown>,
      time_zone: body.spec.timeZone,
      created_by_id: user.id,
      created_by_name: user.email,
    })
    .execute();

  const { spec, policies } = toTemporalSchedule(body.spec);
  try {
    await deps.temporal.schedule.create({
      scheduleId: scheduleWorkflowId(id),
      spec,
      policies,
      action: {
        type: 'startWorkflow',
        workflowType: scheduledRunWorkflowRef,
        taskQueue: CENTRAL_QUEUE,
        workflowId: scheduleWorkflowId(id),
        args: [
          {
            scheduleId: id,
            teamId: user.team_id,
            offlineTimeoutMs: deps.config.DRYDOCK_AGENT_OFFLINE_TIMEOUT * 1000,
            heartbeatTimeoutMs: deps.config.DRYDOCK_AGENT_HEARTBEAT_TIMEOUT * 1000,
            lockWaitTimeoutMs: deps.config.DRYDOCK_LOCK_WAIT_TIMEOUT * 1000,
            ...(hostId === null ? { hostsPerRun: deps.config.DRYDOCK_BULK_HOSTS_PER_RUN } : {}),
          },
        ],
        typedSearchAttributes: searchAttributes({ kind: 'schedule-firing', script: manifest.id, ...(hostId ? { hosts: [hostId] } : {}), initiator: user.email, team: user.team_id }),
      },
      state: { paused: body.paused, ...(body.note ? { note: body.note } : {}) },
    });
  } catch (err) {
    await deps.db.deleteFrom('schedules').where('id', '=', id).execute();
    throw err;
  }
  return getSchedule(deps, user.team_id, id);
}

function prefixed(fields: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [`params.${k}`, v]));
}

function handleOf(deps: ApiDeps, id: string) {
  return deps.temporal.schedule.getHandle(scheduleWorkflowId(id));
}

/** The row with Temporal's state: paused, its note, and the next fire times. */
export async function getSchedule(deps: ApiDeps, teamId: string, id: string): Promise<ScheduleView> {
  const row = await getScheduleRow(deps, teamId, id);
  let state: { paused: boolean; note: string };
  let next: Date[] = [];
  try {
    const described = await handleOf(deps, id).describe();
    state = { paused: described.state.paused, note: described.state.note ?? '' };
    next = described.info.nextActionTimes;
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    state = { paused: true, note: 'its Temporal Schedule is missing; delete this schedule and create it again' };
  }
  return {
    id: row.id,
    name: row.name,
    source: row.source,
    scriptId: row.script_id,
    target: row.target,
    hostId: row.host_id,
    selector: row.selector,
    options: row.bulk_options,
    params: row.params,
    spec: row.spec,
    timeZone: row.time_zone,
    paused: state.paused,
    note: state.note,
    nextFireTimes: next.slice(0, NEXT_FIRE_TIMES).map((d) => d.toISOString()),
    createdBy: row.created_by_name,
    createdAt: row.created_at.toISOString(),
    workflowId: scheduleWorkflowId(row.id),
    temporalUrl: temporalScheduleUrl(deps.config.temporalUiUrl, deps.config.TEMPORAL_NAMESPACE, scheduleWorkflowId(row.id)),
  };
}

function firingsQuery(deps: ApiDeps, teamId: string) {
  return deps.db
    .selectFrom('schedule_firings as f')
    .leftJoin('runs as r', 'r.id', 'f.run_id')
    .leftJoin('bulk_executions as b', 'b.id', 'f.bulk_id')
    .select(['f.id', 'f.schedule_id', 'f.scheduled_at', 'f.fired_at', 'f.outcome', 'f.reason', 'f.blackout_name', 'f.run_id', 'r.status as run_status', 'f.bulk_id', 'b.status as bulk_status'])
    .where('f.team_id', '=', teamId);
}

type FiringRow = Awaited<ReturnType<ReturnType<typeof firingsQuery>['execute']>>[number];

function toFiringView(f: FiringRow): ScheduleFiringView {
  return {
    id: f.id,
    scheduledAt: f.scheduled_at.toISOString(),
    firedAt: f.fired_at.toISOString(),
    outcome: f.outcome,
    reason: f.reason,
    blackoutName: f.blackout_name,
    runId: f.run_id,
    runStatus: f.run_status ?? null,
    bulkId: f.bulk_id,
    bulkStatus: f.bulk_status ?? null,
  };
}

export async function listSchedules(deps: ApiDeps, teamId: string) {
  const rows = await deps.db.selectFrom('schedules').selectAll().where('team_id', '=', teamId).orderBy('name').execute();
  const last = rows.length === 0 ? [] : await firingsQuery(deps, teamId).distinctOn('f.schedule_id').where('f.schedule_id', 'in', rows.map((r) => r.id)).orderBy('f.schedule_id').orderBy('f.fired_at', 'desc').execute();
  return rows.map((r) => {
    const firing = last.find((f) => f.schedule_id === r.id);
    return {
      id: r.id,
      name: r.name,
      source: r.source,
      scriptId: r.script_id,
      target: r.target,
      hostId: r.host_id,
      selector: r.selector,
      timeZone: r.time_zone,
      createdAt: r.created_at.toISOString(),
      lastFiring: firing ? toFiringView(firing) : null,
    };
  });
}

/** Past firings, newest first, each with its run's status now. */
export async function listFirings(deps: ApiDeps, teamId: string, id: string): Promise<ScheduleFiringView[]> {
  await getScheduleRow(deps, teamId, id);
  const rows = await firingsQuery(deps, teamId).where('f.schedule_id', '=', id).orderBy('f.fired_at', 'desc').orderBy('f.id', 'desc').limit(100).execute();
  return rows.map(toFiringView);
}

export async function pauseSchedule(deps: ApiDeps, teamId: string, id: string, note: string): Promise<ScheduleView> {
  await getScheduleRow(deps, teamId, id);
  await handleOf(deps, id).pause(note);
  return getSchedule(deps, teamId, id);
}

export async function unpauseSchedule(deps: ApiDeps, teamId: string, id: string, note: string | undefined): Promise<ScheduleView> {
  await getScheduleRow(deps, teamId, id);
  await handleOf(deps, id).unpause(note ?? 'unpaused');
  return getSchedule(deps, teamId, id);
}

/** Fires once now, whatever the spec and the pause say; the overlap policy still applies (a run in progress may make it skip). */
export async function triggerSchedule(deps: ApiDeps, teamId: string, id: string): Promise<void> {
  const row = await getScheduleRow(deps, teamId, id);
  // The SDK's trigger allows all overlaps unless told otherwise: pass the schedule's own policy.
  await handleOf(deps, id).trigger(overlapOf(row));
}

function overlapOf(row: Schedule) {
  return toTemporalSchedule(row.spec as unknown as ScheduleSpecSettings).policies.overlap;
}

/** Fires every time the spec names in a past range, as if the schedule had run then; the runs start now. */
export async function backfillSchedule(deps: ApiDeps, teamId: string, id: string, range: { start: string; end: string }): Promise<void> {
  const row = await getScheduleRow(deps, teamId, id);
  await handleOf(deps, id).backfill({ start: new Date(range.start), end: new Date(range.end), overlap: overlapOf(row) });
}

export async function deleteSchedule(deps: ApiDeps, teamId: string, id: string): Promise<void> {
  await getScheduleRow(deps, teamId, id);
  try {
    await handleOf(deps, id).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  await deps.db.deleteFrom('schedules').where('id', '=', id).where('team_id', '=', teamId).execute();
}
