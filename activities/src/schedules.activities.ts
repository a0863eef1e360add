import { type Insertable, sql } from 'kysely';
import { activeWindow, type ActiveBlackout, BlackoutWindowSchema } from '@drydock/core/blackout';
import {
  type ApprovalRequest,
  type BulkExecutionInput,
  type BulkOptions,
  BulkOptionsSchema,
  type BulkSelector,
  CatalogStore,
  type Db,
  isVaultReference,
  type RunSecretTable,
  type SecretRefs,
  entryHostRefusal,
  failureLimit,
  type Manifest,
  MAX_BULK_HOSTS,
  MAX_LOCK_TTL_SECONDS,
  newId,
  NotFoundError,
  type ParamValues,
  planWaves,
  redactParams,
  type Schedule,
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
  /** A bulk schedule's DRYDOCK_BULK_HOSTS_PER_RUN; absent on schedules made before bulk schedules existed. */
  hostsPerRun?: number;
}

export type FiringDecision =
  | { outcome: 'started'; target: 'run'; run: ScriptRunInput; scheduleName: string }
  | { outcome: 'started'; target: 'bulk'; bulk: BulkExecutionInput; scheduleName: string }
  | { outcome: 'skipped'; blackoutName: string; reason: string }
  | { outcome: 'failed'; reason: string };

type NotStarted = Extract<FiringDecision, { outcome: 'skipped' | 'failed' }>;

/** What a firing needs before it writes anything: the schedule, the entry as the catalog has it now, the checked parameters. */
interface Checked {
  schedule: Schedule;
  manifest: Manifest;
  version: string;
  /** Every parameter, secrets included (as their Vault references): the run row shows them masked. */
  params: ParamValues;
  /** Every parameter but the secrets: what the workflow input carries. */
  plainParams: ParamValues;
  /** The secret parameters' Vault references (the API refuses values), each a run_secrets row of the run or execution. */
  vaultRefs: Record<string, string>;
}

/** A run's lease or a bulk host's: its worst case (every attempt, the delays, the wait for an agent) plus five minutes. */
function lockTtlSeconds(manifest: { retries: number; timeout: number; retry_delay: number }, offlineTimeoutMs: number): number {
  const worst = (manifest.retries + 1) * (manifest.timeout + 60) + manifest.retries * manifest.retry_delay + offlineTimeoutMs / 1000 + 300;
  return Math.min(Math.ceil(worst), MAX_LOCK_TTL_SECONDS);
}

/** When the sweep deletes a firing's secret rows if its run never ends: every run in series at its worst, and a day. */
function secretsExpiry(manifest: { retries: number; timeout: number; retry_delay: number }, input: ScheduledRunInput, runsInSeries: number, now: Date): Date {
  const worst = (manifest.retries + 1) * (manifest.timeout + 60) + manifest.retries * manifest.retry_delay + (input.offlineTimeoutMs + input.lockWaitTimeoutMs) / 1000;
  return new Date(now.getTime() + (runsInSeries * worst + 86_400) * 1000);
}

function skipped(active: ActiveBlackout, environment: string): NotStarted {
  return { outcome: 'skipped', blackoutName: active.name, reason: `inside blackout window "${active.name}" on ${environment} (${active.start} to ${active.end})` };
}

export function createScheduleActivities({ db, notifier }: { db: Db; notifier?: Notifier | undefined }) {
  const catalog = new CatalogStore(db);

  async function check(input: ScheduledRunInput): Promise<NotStarted | Checked> {
    const schedule = await db.selectFrom('schedules').selectAll().where('id', '=', input.scheduleId).where('team_id', '=', input.teamId).executeTakeFirst();
    if (!schedule) return { outcome: 'failed', reason: `schedule ${input.scheduleId} no longer exists` };
    let entry;
    try {
      entry = await catalog.get(schedule.team_id, schedule.source, schedule.script_id);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      return { outcome: 'failed', reason: `${schedule.source} ${schedule.script_id} was removed from the catalog; edit or delete schedule "${schedule.name}"` };
    }
    const checked = validateParams(entry.manifest.parameters, schedule.params);
    if (!checked.ok) {
      const problems = Object.entries(checked.fields).map(([k, v]) => `${k}: ${v.join(', ')}`);
      return { outcome: 'failed', reason: `the schedule's parameters no longer fit ${entry.manifest.id} (${problems.join('; ')}); edit schedule "${schedule.name}"` };
    }
    const plainParams: ParamValues = {};
    const vaultRefs: Record<string, string> = {};
    for (const [name, value] of Object.entries(checked.values)) {
      if (entry.manifest.parameters.find((p) => p.name === name)?.type !== 'secret' || typeof value !== 'string') plainParams[name] = value;
      else if (isVaultReference(value)) vaultRefs[name] = value;
      else return { outcome: 'failed', reason: `the secret parameter ${name} of schedule "${schedule.name}" is not a Vault reference; delete the schedule and create it with one` };
    }
    return { schedule, manifest: entry.manifest, version: entry.version, params: checked.values, plainParams, vaultRefs };
  }

  /** The first window in force now in any of the environments, with the environment it covers. */
  async function blackoutIn(teamId: string, environments: string[], now: Date): Promise<NotStarted | undefined> {
    if (environments.length === 0) return undefined;
    const rows = await db.selectFrom('blackout_windows').select(['environment', 'definition']).where('team_id', '=', teamId).where('environment', 'in', environments).orderBy('environment').orderBy('name').execute();
    for (const environment of [...new Set(environments)].sort()) {
      const windows = rows.filter((r) => r.environment === environment).map((r) => BlackoutWindowSchema.parse(r.definition));
      const active = activeWindow(windows, now, { environment });
      if (active) return skipped(active, environment);
    }
    return undefined;
  }

  /** As a manual run's: the protected environments among the hosts' make one request, requested by the schedule's creator. */
  async function approvalFor(schedule: Schedule, environments: string[], now: Date): Promise<ApprovalRequest | undefined> {
    if (environments.length === 0) return undefined;
    const guarded = await db
      .selectFrom('environments')
      .select(['name', 'approval_expiry_seconds'])
      .where('team_id', '=', schedule.team_id)
      .where('name', 'in', [...new Set(environments)])
      .where('requires_approval', '=', true)
      .orderBy('name')
      .execute();
    if (guarded.length === 0) return undefined;
    const seconds = Math.min(...guarded.map((e) => e.approval_expiry_seconds));
    return {
      environment: guarded.map((e) => e.name).join(', '),
      expiresAt: new Date(now.getTime() + seconds * 1000).toISOString(),
      requester: { id: schedule.created_by_id, name: schedule.created_by_name },
    };
  }

  function firingRow(input: FiringInput, outcome: 'started' | 'skipped' | 'failed') {
    return { id: newId(), schedule_id: input.scheduleId, team_id: input.teamId, workflow_id: input.workflowId, workflow_run_id: input.workflowRunId, scheduled_at: input.scheduledAt, outcome };
  }

  async function recordNotStarted(input: FiringInput, decision: NotStarted): Promise<NotStarted> {
    await db
      .insertInto('schedule_firings')
      .values({ ...firingRow(input, decision.outcome), reason: decision.reason, blackout_name: decision.outcome === 'skipped' ? decision.blackoutName : null })
      .onConflict((oc) => oc.columns(['workflow_id', 'workflow_run_id']).doNothing())
      .execute();
    if (decision.outcome === 'skipped') await notifier?.firingSkipped(input.workflowId, input.workflowRunId);
    return decision;
  }

  function scriptRunInput(input: ScheduledRunInput, c: Checked, runId: string, hostId: string, approval: ApprovalRequest | undefined, secretRefs: SecretRefs): ScriptRunInput {
    return {
      runId,
      teamId: c.schedule.team_id,
      source: c.schedule.source,
      scriptId: c.manifest.id,
      version: c.version,
      hostId,
      params: c.plainParams,
      ...(Object.keys(secretRefs).length > 0 ? { secretRefs } : {}),
      initiator: { id: c.schedule.created_by_id, name: c.schedule.created_by_name },
      offlineTimeoutMs: input.offlineTimeoutMs,
      heartbeatTimeoutMs: input.heartbeatTimeoutMs,
      ...(c.manifest.requires_lock ? { lock: { ttlSeconds: lockTtlSeconds(c.manifest, input.offlineTimeoutMs), waitTimeoutMs: input.lockWaitTimeoutMs } } : {}),
      ...(approval ? { approval } : {}),
    };
  }

  function recordedApproval(row: { approval_environment: string | null; approval_expires_at: Date | null }, schedule: Schedule): ApprovalRequest | undefined {
    if (!row.approval_environment || !row.approval_expires_at) return undefined;
    return { environment: row.approval_environment, expiresAt: row.approval_expires_at.toISOString(), requester: { id: schedule.created_by_id, name: schedule.created_by_name } };
  }

  /** The rows of the firing's secret references, and the references the workflow input carries. */
  function secretRows(c: Checked, owner: { runId: string } | { bulkId: string }, expiresAt: Date) {
    const rows: Insertable<RunSecretTable>[] = Object.entries(c.vaultRefs).map(([name, ref]) => ({
      id: newId(),
      team_id: c.schedule.team_id,
      run_id: 'runId' in owner ? owner.runId : null,
      bulk_id: 'bulkId' in owner ? owner.bulkId : null,
      name,
      value_enc: null,
      vault_ref: ref,
      expires_at: expiresAt,
    }));
    return { rows, refs: refsOf(rows.map((r) => ({ id: r.id!, name: r.name }))) };
  }

  async function recordedRefs(owner: { runId: string } | { bulkId: string }): Promise<SecretRefs> {
    const q = db.selectFrom('run_secrets').select(['id', 'name']);
    return refsOf(await ('runId' in owner ? q.where('run_id', '=', owner.runId) : q.where('bulk_id', '=', owner.bulkId)).execute());
  }

  async function fireRun(input: FiringInput, c: Checked, recordedRunId: string | null, now: Date): Promise<FiringDecision> {
    const host = await db.selectFrom('hosts').select(['id', 'environment']).where('id', '=', c.schedule.host_id ?? '').where('team_id', '=', c.schedule.team_id).executeTakeFirst();
    if (recordedRunId) {
      const run = await db.selectFrom('runs').select(['host_id', 'approval_environment', 'approval_expires_at']).where('id', '=', recordedRunId).executeTakeFirstOrThrow();
      return { outcome: 'started', target: 'run', run: scriptRunInput(input, c, recordedRunId, run.host_id, recordedApproval(run, c.schedule), await recordedRefs({ runId: recordedRunId })), scheduleName: c.schedule.name };
    }
    if (!host) return recordNotStarted(input, { outcome: 'failed', reason: `host ${c.schedule.host_id} is no longer registered; edit or delete schedule "${c.schedule.name}"` });
    const environments = host.environment ? [host.environment] : [];
    const blackout = await blackoutIn(c.schedule.team_id, environments, now);
    if (blackout) return recordNotStarted(input, blackout);
    const approval = await approvalFor(c.schedule, environments, now);
    const runId = newId();
    const secrets = secretRows(c, { runId }, secretsExpiry(c.manifest, input, 1, now));
    const run = scriptRunInput(input, c, runId, host.id, approval, secrets.refs);
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('runs')
        .values({
          id: run.runId,
          team_id: run.teamId,
          source: run.source,
          script_id: run.scriptId,
          script_name: c.manifest.name,
          script_version: run.version,
          host_id: run.hostId,
          status: approval ? 'waiting_for_approval' : 'queued',
          initiator_id: run.initiator.id,
          initiator_name: run.initiator.name,
          params: redactParams(c.manifest.parameters, c.params),
          workflow_id: `run/${run.runId}`,
          schedule_id: input.scheduleId,
          approval_environment: approval?.environment ?? null,
          approval_expires_at: approval ? new Date(approval.expiresAt) : null,
        })
        .execute();
      if (secrets.rows.length > 0) await tx.insertInto('run_secrets').values(secrets.rows).execute();
      await tx.insertInto('schedule_firings').values({ ...firingRow(input, 'started'), run_id: run.runId }).execute();
    });
    return { outcome: 'started', target: 'run', run, scheduleName: c.schedule.name };
  }

  function bulkInput(input: ScheduledRunInput, c: Checked, bulkId: string, hosts: { hostId: string; runId: string }[], waves: number[], options: BulkOptions, approval: ApprovalRequest | undefined, secretRefs: SecretRefs): BulkExecutionInput {
    const perHost = { ...c.manifest, timeout: options.timeoutSeconds ?? c.manifest.timeout, retries: options.retries ?? c.manifest.retries };
    const locked = c.manifest.requires_lock || options.takeLocks;
    return {
      bulkId,
      teamId: c.schedule.team_id,
      source: c.schedule.source,
      scriptId: c.manifest.id,
      version: c.version,
      params: c.plainParams,
      ...(Object.keys(secretRefs).length > 0 ? { secretRefs } : {}),
      initiator: { id: c.schedule.created_by_id, name: c.schedule.created_by_name },
      hosts,
      waves,
      options,
      failureLimit: failureLimit(hosts.length, options.failureThreshold),
      offlineTimeoutMs: input.offlineTimeoutMs,
      heartbeatTimeoutMs: input.heartbeatTimeoutMs,
      ...(input.hostsPerRun ? { hostsPerRun: input.hostsPerRun } : {}),
      ...(locked ? { lock: { ttlSeconds: lockTtlSeconds(perHost, input.offlineTimeoutMs), waitTimeoutMs: input.lockWaitTimeoutMs } } : {}),
      ...(approval ? { approval } : {}),
    };
  }

  /** The selector read now, as a manual bulk execution reads it: the hosts that can run the entry, in id order (named ones as named). */
  async function selectHosts(teamId: string, selector: BulkSelector, c: Checked) {
    let q = db.selectFrom('hosts').select(['id', 'transport', 'tags', 'environment']).where('team_id', '=', teamId);
    if (selector.hostIds) q = q.where('id', 'in', [...new Set(selector.hostIds)]);
    if (selector.environment) q = q.where('environment', '=', selector.environment);
    if (selector.group) q = q.where('host_group', '=', selector.group);
    if (selector.tags && selector.tags.length > 0) q = q.where(sql<boolean>`tags @> ${sql.val(selector.tags)}::text[]`);
    const rows = await q.orderBy('id').execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const ordered = selector.hostIds ? [...new Set(selector.hostIds)].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])) : rows;
    const refused = ordered.map((h) => ({ id: h.id, reason: entryHostRefusal(c.manifest, h, c.schedule.source) }));
    return { hosts: ordered.filter((_, i) => refused[i]!.reason === null), refused: refused.filter((r) => r.reason !== null) };
  }

  async function fireBulk(input: FiringInput, c: Checked, recordedBulkId: string | null, now: Date): Promise<FiringDecision> {
    const options = BulkOptionsSchema.parse(c.schedule.bulk_options ?? {});
    if (recordedBulkId) {
      const row = await db.selectFrom('bulk_executions').selectAll().where('id', '=', recordedBulkId).executeTakeFirstOrThrow();
      const members = await db.selectFrom('runs').select(['host_id as hostId', 'id as runId']).where('bulk_id', '=', recordedBulkId).orderBy('bulk_position').execute();
      return { outcome: 'started', target: 'bulk', bulk: bulkInput(input, c, recordedBulkId, members, row.waves, options, recordedApproval(row, c.schedule), await recordedRefs({ bulkId: recordedBulkId })), scheduleName: c.schedule.name };
    }
    const { hosts, refused } = await selectHosts(c.schedule.team_id, c.schedule.selector ?? {}, c);
    if (hosts.length === 0) {
      const why = refused.slice(0, 5).map((r) => `${r.id}: ${r.reason}`);
      return recordNotStarted(input, { outcome: 'failed', reason: `no selected host can run ${c.manifest.id} (${why.length > 0 ? why.join('; ') : 'no host matches the selector'}); edit or delete schedule "${c.schedule.name}"` });
    }
    if (hosts.length > MAX_BULK_HOSTS) return recordNotStarted(input, { outcome: 'failed', reason: `the selector matches ${hosts.length} hosts, more than one execution takes (${MAX_BULK_HOSTS})` });
    // A fleet half-run because part of it is in a blackout would surprise more than a skipped firing: any window skips it all.
    const environments = [...new Set(hosts.flatMap((h) => (h.environment ? [h.environment] : [])))];
    const blackout = await blackoutIn(c.schedule.team_id, environments, now);
    if (blackout) return recordNotStarted(input, blackout);
    const approval = await approvalFor(c.schedule, environments, now);

    const bulkId = newId();
    const waves = planWaves(hosts.length, options);
    const perHost = { ...c.manifest, timeout: options.timeoutSeconds ?? c.manifest.timeout, retries: options.retries ?? c.manifest.retries };
    const secrets = secretRows(c, { bulkId }, secretsExpiry(perHost, input, waves.length, now));
    const waveOf: number[] = waves.flatMap((size, w) => Array<number>(size).fill(w));
    const members = hosts.map((h) => ({ hostId: h.id, runId: newId() }));
    const params = redactParams(c.manifest.parameters, c.params);
    const initiator = { initiator_id: c.schedule.created_by_id, initiator_name: c.schedule.created_by_name };
    const entry = { team_id: c.schedule.team_id, source: c.schedule.source, script_id: c.manifest.id, script_name: c.manifest.name, script_version: c.version };
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('bulk_executions')
        .values({
          id: bulkId,
          ...entry,
          ...initiator,
          status: approval ? 'waiting_for_approval' : 'running',
          approval_environment: approval?.environment ?? null,
          approval_expires_at: approval ? new Date(approval.expiresAt) : null,
          selector: c.schedule.selector ?? {},
          options,
          params,
          total: hosts.length,
          waves,
          rerun_of: null,
          schedule_id: input.scheduleId,
          workflow_id: `bulk/${bulkId}`,
          workflow_run_id: null,
          finished_at: null,
        })
        .execute();
      for (let i = 0; i < members.length; i += 1_000) {
        await tx
          .insertInto('runs')
          .values(
            members.slice(i, i + 1_000).map((m, j) => ({
              id: m.runId,
              ...entry,
              ...initiator,
              host_id: m.hostId,
              status: 'queued' as const,
              params,
              workflow_id: `bulk/${bulkId}/${m.hostId}`,
              bulk_id: bulkId,
              bulk_position: i + j,
              bulk_wave: waveOf[i + j]!,
              schedule_id: input.scheduleId,
            })),
          )
          .execute();
      }
      if (secrets.rows.length > 0) await tx.insertInto('run_secrets').values(secrets.rows).execute();
      await tx.insertInto('schedule_firings').values({ ...firingRow(input, 'started'), bulk_id: bulkId }).execute();
    });
    return { outcome: 'started', target: 'bulk', bulk: bulkInput(input, c, bulkId, members, waves, options, approval, secrets.refs), scheduleName: c.schedule.name };
  }

  return {
    /**
     * Decides a firing once and records it: a run row (or a bulk execution and its hosts' runs), with the schedule's
     * id, for the workflow to start; or a skipped or failed firing with its reason. Retried after a crash, it
     * returns what it recorded.
     */
    async beginScheduledFiring(input: FiringInput): Promise<FiringDecision> {
      const recorded = await db
        .selectFrom('schedule_firings')
        .selectAll()
        .where('workflow_id', '=', input.workflowId)
        // A firing recorded before migration 026 has no run id; it is this one, retried after the upgrade.
        .where((eb) => eb.or([eb('workflow_run_id', '=', input.workflowRunId), eb('workflow_run_id', 'is', null)]))
        .executeTakeFirst();
      if (recorded && recorded.outcome !== 'started') return notStartedOf(recorded);
      const now = new Date();
      const checked = await check(input);
      if ('outcome' in checked) return recorded ? checked : recordNotStarted(input, checked);
      return checked.schedule.target === 'bulk' ? fireBulk(input, checked, recorded?.bulk_id ?? null, now) : fireRun(input, checked, recorded?.run_id ?? null, now);
    },
  };
}

/** The firing's workflow id and run id: a Schedule gives firings within one second the same workflow id. */
type FiringInput = ScheduledRunInput & { workflowId: string; workflowRunId: string; scheduledAt: string };

function refsOf(rows: { id: string; name: string }[]): SecretRefs {
  return Object.fromEntries(rows.map((r) => [r.name, { secretRef: r.id }]));
}

function notStartedOf(recorded: { outcome: string; blackout_name: string | null; reason: string | null }): NotStarted {
  return recorded.outcome === 'skipped' ? { outcome: 'skipped', blackoutName: recorded.blackout_name ?? '', reason: recorded.reason ?? '' } : { outcome: 'failed', reason: recorded.reason ?? '' };
}

export type ScheduleActivities = ReturnType<typeof createScheduleActivities>;
