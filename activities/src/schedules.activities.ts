import { activeWindow, BlackoutWindowSchema } from '@drydock/core/blackout';
import {
  CatalogStore,
  type Db,
  MAX_LOCK_TTL_SECONDS,
  newId,
  NotFoundError,
  type Parameter,
  redactParams,
  type ScriptRunInput,
  validateParams,
} from '@drydock/core';
import type { Notifier } from './notifications.activities.ts';

/** What a schedule's firing carries: ids and the run settings the API had when it created the schedule, never parameters. */
export interface ScheduledRunInput {
  scheduleId: string;
  teamId: string;
  offlineTimeoutMs: number;
  heartbeatTimeoutMs: number;
  lockWaitTimeoutMs: number;
}

export type FiringDecision =
  | { outcome: 'started'; run: ScriptRunInput; scheduleName: string }
  | { outcome: 'skipped'; blackoutName: string; reason: string }
  | { outcome: 'failed'; reason: string };

interface Started {
  outcome: 'started';
  run: Omit<ScriptRunInput, 'runId'>;
  scheduleName: string;
  scriptName: string;
  parameters: Parameter[];
}

/** A requires_lock run's lease: its worst case (every attempt, the delays, the wait for an agent) plus five minutes. */
function lockTtlSeconds(manifest: { retries: number; timeout: number; retry_delay: number }, offlineTimeoutMs: number): number {
  const worst = (manifest.retries + 1) * (manifest.timeout + 60) + manifest.retries * manifest.retry_delay + offlineTimeoutMs / 1000 + 300;
  return Math.min(Math.ceil(worst), MAX_LOCK_TTL_SECONDS);
}

export function createScheduleActivities({ db, notifier }: { db: Db; notifier?: Notifier | undefined }) {
  const catalog = new CatalogStore(db);

  async function decide(input: ScheduledRunInput, now: Date): Promise<Exclude<FiringDecision, { outcome: 'started' }> | Started> {
    const schedule = await db.selectFrom('schedules').selectAll().where('id', '=', input.scheduleId).where('team_id', '=', input.teamId).executeTakeFirst();
    if (!schedule) return { outcome: 'failed', reason: `schedule ${input.scheduleId} no longer exists` };
    let entry;
    try {
      entry = await catalog.get(schedule.team_id, schedule.source, schedule.script_id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      return { outcome: 'failed', reason: `${schedule.source} ${schedule.script_id} was removed from the catalog; edit or delete schedule "${schedule.name}"` };
    }
    const host = await db.selectFrom('hosts').select(['id', 'environment']).where('id', '=', schedule.host_id).where('team_id', '=', schedule.team_id).executeTakeFirst();
    if (!host) return { outcome: 'failed', reason: `host ${schedule.host_id} is no longer registered; edit or delete schedule "${schedule.name}"` };
    const checked = validateParams(entry.manifest.parameters, schedule.params);
    if (!checked.ok) {
      const problems = Object.entries(checked.fields).map(([k, v]) => `${k}: ${v.join(', ')}`);
      return { outcome: 'failed', reason: `the schedule's parameters no longer fit ${entry.manifest.id} (${problems.join('; ')}); edit schedule "${schedule.name}"` };
    }
    if (host.environment) {
      const rows = await db.selectFrom('blackout_windows').select('definition').where('team_id', '=', schedule.team_id).where('environment', '=', host.environment).execute();
      const windows = rows.map((r) => BlackoutWindowSchema.parse(r.definition));
      const active = activeWindow(windows, now, { environment: host.environment });
      if (active) {
        return { outcome: 'skipped', blackoutName: active.name, reason: `inside blackout window "${active.name}" on ${host.environment} (${active.start} to ${active.end})` };
      }
    }
    const manifest = entry.manifest;
    return {
      outcome: 'started',
      scheduleName: schedule.name,
      scriptName: manifest.name,
      parameters: manifest.parameters,
      run: {
        teamId: schedule.team_id,
        source: schedule.source,
        scriptId: manifest.id,
        version: entry.version,
        hostId: host.id,
        params: checked.values,
        initiator: { id: schedule.created_by_id, name: schedule.created_by_name },
        offlineTimeoutMs: input.offlineTimeoutMs,
        heartbeatTimeoutMs: input.heartbeatTimeoutMs,
        ...(manifest.requires_lock ? { lock: { ttlSeconds: lockTtlSeconds(manifest, input.offlineTimeoutMs), waitTimeoutMs: input.lockWaitTimeoutMs } } : {}),
      },
    };
  }

  return {
    /**
     * Decides a firing once and records it: a run row (with the schedule's id) for the run workflow to start,
     * or a skipped or failed firing with its reason. Retried after a crash, it returns what it recorded.
     */
    async beginScheduledFiring(input: ScheduledRunInput & { workflowId: string; scheduledAt: string }): Promise<FiringDecision> {
      const recorded = await db.selectFrom('schedule_firings').selectAll().where('workflow_id', '=', input.workflowId).executeTakeFirst();
      if (recorded && recorded.outcome !== 'started') {
        return recorded.outcome === 'skipped'
          ? { outcome: 'skipped', blackoutName: recorded.blackout_name ?? '', reason: recorded.reason ?? '' }
          : { outcome: 'failed', reason: recorded.reason ?? '' };
      }
      const decision = await decide(input, new Date());
      if (decision.outcome !== 'started') {
        if (recorded) return decision;
        await db
          .insertInto('schedule_firings')
          .values({
            id: newId(),
            schedule_id: input.scheduleId,
            team_id: input.teamId,
            workflow_id: input.workflowId,
            scheduled_at: input.scheduledAt,
            outcome: decision.outcome,
            reason: decision.reason,
            blackout_name: decision.outcome === 'skipped' ? decision.blackoutName : null,
          })
          .onConflict((oc) => oc.column('workflow_id').doNothing())
          .execute();
        if (decision.outcome === 'skipped') await notifier?.firingSkipped(input.workflowId);
        return decision;
      }
      const run: ScriptRunInput = { ...decision.run, runId: recorded?.run_id ?? newId() };
      if (!recorded) {
        await db.transaction().execute(async (tx) => {
          await tx
            .insertInto('runs')
            .values({
              id: run.runId,
              team_id: run.teamId,
              source: run.source,
              script_id: run.scriptId,
              script_name: decision.scriptName,
              script_version: run.version,
              host_id: run.hostId,
              status: 'queued',
              initiator_id: run.initiator.id,
              initiator_name: run.initiator.name,
              params: redactParams(decision.parameters, run.params),
              workflow_id: `run/${run.runId}`,
              schedule_id: input.scheduleId,
            })
            .execute();
          await tx
            .insertInto('schedule_firings')
            .values({ id: newId(), schedule_id: input.scheduleId, team_id: input.teamId, workflow_id: input.workflowId, scheduled_at: input.scheduledAt, outcome: 'started', run_id: run.runId })
            .execute();
        });
      }
      return { outcome: 'started', run, scheduleName: decision.scheduleName };
    },
  };
}

export type ScheduleActivities = ReturnType<typeof createScheduleActivities>;
