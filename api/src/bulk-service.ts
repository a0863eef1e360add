import { WorkflowNotFoundError } from '@temporalio/client';
import { sql } from 'kysely';
import {
  type BulkCounts,
  type BulkExecution,
  type BulkExecutionInput,
  type BulkHostView,
  bulkHostState,
  type BulkOptions,
  type BulkPreview,
  type BulkSelector,
  type BulkView,
  ConflictError,
  emptyCounts,
  failureLimit,
  FINAL_BULK_STATUSES,
  isId,
  MAX_BULK_HOSTS,
  newId,
  NotFoundError,
  planWaves,
  redactParams,
  sealRunSecrets,
  type StartBulkBody,
  type User,
  validateParams,
  ValidationError,
} from '@drydock/core';
import { bulkHostWorkflowId, bulkWorkflowId, CENTRAL_QUEUE, searchAttributes, temporalWebUrl } from '@drydock/temporal';
import { bulkExecutionWorkflowRef, pauseSignal, resumeSignal } from '@drydock/workflows/messages';
import { notRunnableReason } from './catalog-views.ts';
import type { ApiDeps } from './context.ts';
import { ONLINE_WINDOW_MS } from './host-status.ts';
import { approvalRequest, approvalView, checkApprover, checkHostParams, hostRefusal, runLockTtlSeconds, runSecretsExpiry, sendDecision } from './run-service.ts';

const INSERT_CHUNK = 1_000;

interface EntryRef {
  scriptId?: string;
  actionId?: string;
  version?: string;
}

async function entryOf(deps: ApiDeps, teamId: string, ref: EntryRef) {
  const source = ref.actionId !== undefined ? ('action' as const) : ('script' as const);
  const entry = await deps.catalog.get(teamId, source, (ref.actionId ?? ref.scriptId)!, ref.version);
  const reason = notRunnableReason(entry.manifest);
  if (reason) throw new ValidationError(`${entry.manifest.name} cannot run here: ${reason}`);
  return { source, entry, manifest: entry.manifest };
}

/** The selected hosts in start order (as named, or by id), each either eligible or excluded with the reason. */
async function selectHosts(deps: ApiDeps, teamId: string, selector: BulkSelector, entry: Awaited<ReturnType<typeof entryOf>>) {
  let q = deps.db.selectFrom('hosts').select(['id', 'name', 'transport', 'tags', 'environment', 'host_group', 'last_seen_at']).where('team_id', '=', teamId);
  if (selector.hostIds) q = q.where('id', 'in', [...new Set(selector.hostIds)]);
  if (selector.environment) q = q.where('environment', '=', selector.environment);
  if (selector.group) q = q.where('host_group', '=', selector.group);
  if (selector.tags && selector.tags.length > 0) q = q.where(sql<boolean>`tags @> ${sql.val(selector.tags)}::text[]`);
  const rows = await q.orderBy('id').execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered = selector.hostIds ? [...new Set(selector.hostIds)].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])) : rows;
  const excluded: BulkPreview['excluded'] = [];
  if (selector.hostIds) {
    for (const id of new Set(selector.hostIds)) {
      if (!byId.has(id)) excluded.push({ id, reason: selector.environment || selector.group || selector.tags ? 'not a registered host matching the selector' : 'not a registered host' });
    }
  }
  const now = Date.now();
  const hosts: BulkPreview['hosts'] = [];
  for (const h of ordered) {
    const refusal = hostRefusal(entry.manifest, h, entry.source);
    if (refusal) {
      excluded.push({ id: h.id, reason: refusal });
      continue;
    }
    const seen = h.last_seen_at !== null && (h.transport !== 'agent' || now - h.last_seen_at.getTime() < ONLINE_WINDOW_MS);
    hosts.push({ id: h.id, name: h.name, transport: h.transport, environment: h.environment, group: h.host_group, online: seen });
  }
  return { hosts, excluded };
}

/** What a bulk execution would do, before anything starts: "this will run on 142 hosts". */
export async function previewBulk(deps: ApiDeps, user: User, body: EntryRef & { selector: BulkSelector; options: BulkOptions }): Promise<BulkPreview> {
  const entry = await entryOf(deps, user.team_id, body);
  const { hosts, excluded } = await selectHosts(deps, user.team_id, body.selector, entry);
  return { hosts, excluded, waves: planWaves(hosts.length, body.options) };
}

/** Validates everything, writes the execution and one queued run per host, then starts `bulk/<id>`. */
export async function startBulk(deps: ApiDeps, user: User, body: StartBulkBody, rerunOf: string | null = null): Promise<BulkExecution> {
  const entry = await entryOf(deps, user.team_id, body);
  const { manifest } = entry;
  const checked = validateParams(manifest.parameters, body.params);
  if (!checked.ok) throw new ValidationError(`parameters of ${manifest.id} are invalid`, checked.fields);
  const hostFields = await checkHostParams(deps, user.team_id, manifest.parameters, checked.values, manifest.host_tags);
  if (Object.keys(hostFields).length > 0) throw new ValidationError(`parameters of ${manifest.id} name hosts that cannot be used`, hostFields);

  const { hosts, excluded } = await selectHosts(deps, user.team_id, body.selector, entry);
  if (hosts.length === 0) {
    const why = excluded.slice(0, 5).map((e) => `${e.id}: ${e.reason}`);
    throw new ValidationError(`no selected host can run ${manifest.id}`, { selector: why.length > 0 ? why : ['no host matches the selector'] });
  }
  if (hosts.length > MAX_BULK_HOSTS) {
    throw new ValidationError(`${hosts.length} hosts are more than one execution takes`, { selector: [`select at most ${MAX_BULK_HOSTS} hosts`] });
  }
  const { options } = body;
  const waves = planWaves(hosts.length, options);
  const bulkId = newId();
  const params = redactParams(manifest.parameters, checked.values);
  // Sealed once for the execution, before anything is written; every wave's runs resolve the same rows.
  const perHost = { ...manifest, timeout: options.timeoutSeconds ?? manifest.timeout, retries: options.retries ?? manifest.retries };
  const sealed = sealRunSecrets(deps.secrets, manifest.parameters, checked.values, { teamId: user.team_id, bulkId }, runSecretsExpiry(perHost, deps.config, waves.length));
  const waveOf: number[] = waves.flatMap((size, w) => Array<number>(size).fill(w));
  const members = hosts.map((h) => ({ hostId: h.id, runId: newId() }));
  const approval = await approvalRequest(deps, user, hosts.flatMap((h) => (h.environment ? [h.environment] : [])));

  await deps.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('bulk_executions')
      .values({
        id: bulkId,
        team_id: user.team_id,
        source: entry.source,
        script_id: manifest.id,
        script_name: manifest.name,
        script_version: entry.entry.version,
        status: approval ? 'waiting_for_approval' : 'running',
        approval_environment: approval?.environment ?? null,
        approval_expires_at: approval ? new Date(approval.expiresAt) : null,
        selector: body.selector,
        options,
        params,
        initiator_id: user.id,
        initiator_name: user.email,
        total: hosts.length,
        waves,
        rerun_of: rerunOf,
        workflow_id: bulkWorkflowId(bulkId),
      })
      .execute();
    for (let i = 0; i < members.length; i += INSERT_CHUNK) {
      await tx
        .insertInto('runs')
        .values(
          members.slice(i, i + INSERT_CHUNK).map((m, j) => ({
            id: m.runId,
            team_id: user.team_id,
            source: entry.source,
            script_id: manifest.id,
            script_name: manifest.name,
            script_version: entry.entry.version,
            host_id: m.hostId,
            status: 'queued' as const,
            initiator_id: user.id,
            initiator_name: user.email,
            params,
            workflow_id: bulkHostWorkflowId(bulkId, m.hostId),
            bulk_id: bulkId,
            bulk_position: i + j,
            bulk_wave: waveOf[i + j]!,
          })),
        )
        .execute();
    }
    if (sealed.rows.length > 0) await tx.insertInto('run_secrets').values(sealed.rows).execute();
  });

  const locked = manifest.requires_lock || options.takeLocks;
  const input: BulkExecutionInput = {
    bulkId,
    teamId: user.team_id,
    source: entry.source,
    scriptId: manifest.id,
    version: entry.entry.version,
    params: sealed.params,
    ...(sealed.rows.length > 0 ? { secretRefs: sealed.secretRefs } : {}),
    initiator: { id: user.id, name: user.email },
    hosts: members,
    waves,
    options,
    failureLimit: failureLimit(hosts.length, options.failureThreshold),
    hostsPerRun: deps.config.DRYDOCK_BULK_HOSTS_PER_RUN,
    offlineTimeoutMs: deps.config.DRYDOCK_AGENT_OFFLINE_TIMEOUT * 1000,
    heartbeatTimeoutMs: deps.config.DRYDOCK_AGENT_HEARTBEAT_TIMEOUT * 1000,
    ...(locked ? { lock: { ttlSeconds: runLockTtlSeconds(perHost, deps.config), waitTimeoutMs: deps.config.DRYDOCK_LOCK_WAIT_TIMEOUT * 1000 } } : {}),
    ...(approval ? { approval } : {}),
  };
  try {
    const handle = await deps.temporal.workflow.start(bulkExecutionWorkflowRef, {
      taskQueue: CENTRAL_QUEUE,
      workflowId: bulkWorkflowId(bulkId),
      args: [input],
      typedSearchAttributes: searchAttributes({ kind: 'bulk-execution', script: manifest.id, initiator: user.email, team: user.team_id, status: approval ? 'waiting_for_approval' : 'running' }),
    });
    await deps.db.updateTable('bulk_executions').set({ workflow_run_id: handle.firstExecutionRunId }).where('id', '=', bulkId).execute();
  } catch (err) {
    const message = `could not start the execution in Temporal: ${err instanceof Error ? err.message : String(err)}`;
    const now = new Date();
    await deps.db.updateTable('runs').set({ status: 'failed', error: message, finished_at: now }).where('bulk_id', '=', bulkId).execute();
    await deps.db.updateTable('bulk_executions').set({ status: 'failed', stop_reason: message, finished_at: now }).where('id', '=', bulkId).execute();
    await deps.db.deleteFrom('run_secrets').where('bulk_id', '=', bulkId).execute();
    throw err;
  }
  return getBulk(deps, user.team_id, bulkId);
}

export async function getBulk(deps: ApiDeps, teamId: string, id: string): Promise<BulkExecution> {
  if (!isId(id)) throw new NotFoundError('bulk execution', id);
  const row = await deps.db.selectFrom('bulk_executions').selectAll().where('id', '=', id).where('team_id', '=', teamId).executeTakeFirst();
  if (!row) throw new NotFoundError('bulk execution', id);
  return row;
}

export async function bulkCounts(deps: ApiDeps, bulkIds: string[]): Promise<Map<string, BulkCounts>> {
  const out = new Map(bulkIds.map((id) => [id, emptyCounts()]));
  if (bulkIds.length === 0) return out;
  const rows = await deps.db
    .selectFrom('runs')
    .select(['bulk_id', 'status', sql<string>`count(*)`.as('n')])
    .where('bulk_id', 'in', bulkIds)
    .groupBy(['bulk_id', 'status'])
    .execute();
  for (const r of rows) out.get(r.bulk_id!)![bulkHostState(r.status)] += Number(r.n);
  return out;
}

export function toBulkView(row: BulkExecution, counts: BulkCounts, deps: Pick<ApiDeps, 'config'>, now = Date.now()): BulkView {
  const end = row.finished_at?.getTime() ?? now;
  const elapsedMs = Math.max(0, end - row.created_at.getTime());
  const finished = counts.succeeded + counts.failed + counts.cancelled + counts.skipped;
  const left = row.total - finished;
  return {
    id: row.id,
    source: row.source,
    scriptId: row.script_id,
    scriptName: row.script_name,
    scriptVersion: row.script_version,
    status: row.status,
    stopReason: row.stop_reason,
    selector: row.selector,
    options: row.options,
    params: row.params,
    initiator: { id: row.initiator_id, name: row.initiator_name },
    total: row.total,
    counts,
    waves: row.waves,
    currentWave: row.current_wave,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    elapsedMs,
    // The pace so far, over the hosts still to go; paused executions have none.
    etaMs: row.finished_at ? 0 : finished > 0 && row.status !== 'paused' ? Math.round((elapsedMs / finished) * left) : null,
    rerunOf: row.rerun_of,
    approval: approvalView(row),
    workflowId: row.workflow_id,
    temporalUrl: temporalWebUrl(deps.config.temporalUiUrl, deps.config.TEMPORAL_NAMESPACE, row.workflow_id, row.workflow_run_id ?? undefined),
  };
}

export async function bulkView(deps: ApiDeps, row: BulkExecution): Promise<BulkView> {
  const counts = await bulkCounts(deps, [row.id]);
  return toBulkView(row, counts.get(row.id)!, deps);
}

export async function listBulk(deps: ApiDeps, teamId: string, limit: number): Promise<BulkView[]> {
  const rows = await deps.db.selectFrom('bulk_executions').selectAll().where('team_id', '=', teamId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  const counts = await bulkCounts(deps, rows.map((r) => r.id));
  return rows.map((r) => toBulkView(r, counts.get(r.id)!, deps));
}

export async function bulkHosts(deps: ApiDeps, bulkId: string): Promise<BulkHostView[]> {
  const rows = await deps.db
    .selectFrom('runs')
    .select(['id', 'host_id', 'bulk_position', 'bulk_wave', 'status', 'exit_code', 'error', 'started_at', 'finished_at', 'duration_ms'])
    .where('bulk_id', '=', bulkId)
    .orderBy('bulk_position')
    .execute();
  return rows.map((r) => ({
    hostId: r.host_id,
    position: r.bulk_position ?? 0,
    wave: r.bulk_wave ?? 0,
    state: bulkHostState(r.status),
    runId: r.id,
    exitCode: r.exit_code,
    error: r.error,
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    durationMs: r.duration_ms,
  }));
}

async function live(deps: ApiDeps, row: BulkExecution) {
  if (FINAL_BULK_STATUSES.includes(row.status)) throw new ConflictError(`bulk execution ${row.id} has already ended (${row.status})`);
  return deps.temporal.workflow.getHandle(row.workflow_id);
}

/** Nothing runs before the decision: pausing or resuming it would say otherwise on the page. */
function notWaitingForApproval(row: BulkExecution): void {
  if (row.status === 'waiting_for_approval') throw new ConflictError(`bulk execution ${row.id} waits for approval: no host has started; approve, reject or cancel it`);
}

async function signalled(deps: ApiDeps, row: BulkExecution, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ConflictError(`bulk execution ${row.id} has no live workflow`);
    throw err;
  }
}

/** Pause: no host starts until resumed; hosts already running finish. */
export async function pauseBulk(deps: ApiDeps, teamId: string, id: string): Promise<BulkExecution> {
  const row = await getBulk(deps, teamId, id);
  notWaitingForApproval(row);
  const handle = await live(deps, row);
  await signalled(deps, row, () => handle.signal(pauseSignal));
  return row;
}

export async function resumeBulk(deps: ApiDeps, teamId: string, id: string): Promise<BulkExecution> {
  const row = await getBulk(deps, teamId, id);
  notWaitingForApproval(row);
  const handle = await live(deps, row);
  await signalled(deps, row, () => handle.signal(resumeSignal));
  return row;
}

/** Cancel: running hosts are cancelled (their process trees killed), the rest never start. */
export async function cancelBulk(deps: ApiDeps, teamId: string, id: string): Promise<BulkExecution> {
  const row = await getBulk(deps, teamId, id);
  const handle = await live(deps, row);
  await signalled(deps, row, async () => {
    await handle.cancel();
  });
  return row;
}

/**
 * A new execution on the hosts that failed (or timed out) in this one, with its options and parameters. Secret
 * parameters are never stored, so they come in `params` again; anything else given there replaces the stored value.
 */
export async function rerunFailed(deps: ApiDeps, user: User, id: string, params: Record<string, unknown>): Promise<BulkExecution> {
  const row = await getBulk(deps, user.team_id, id);
  const failed = await deps.db
    .selectFrom('runs')
    .select('host_id')
    .where('bulk_id', '=', id)
    .where('status', 'in', ['failed', 'timed_out'])
    .orderBy('bulk_position')
    .execute();
  if (failed.length === 0) throw new ConflictError(`no host failed in bulk execution ${id}`);
  const entry = await deps.catalog.get(user.team_id, row.source, row.script_id, row.source === 'script' ? row.script_version : undefined);
  const secrets = new Set(entry.manifest.parameters.filter((p) => p.type === 'secret').map((p) => p.name));
  const stored = Object.fromEntries(Object.entries(row.params).filter(([name]) => !secrets.has(name)));
  const body: StartBulkBody = {
    ...(row.source === 'action' ? { actionId: row.script_id } : { scriptId: row.script_id, version: row.script_version }),
    selector: { hostIds: failed.map((f) => f.host_id) },
    params: { ...stored, ...params },
    options: row.options,
  };
  return startBulk(deps, user, body, row.id);
}

/** One decision for the whole execution: approved, its hosts start; rejected, none does. */
export async function decideBulk(deps: ApiDeps, user: User | undefined, id: string, decision: 'approved' | 'rejected', comment: string | null): Promise<BulkExecution> {
  const row = await getBulk(deps, user?.team_id ?? '', id);
  const approver = checkApprover(user, row.initiator_id, 'bulk execution');
  if (row.status !== 'waiting_for_approval') throw new ConflictError(`bulk execution ${id} is not waiting for approval (it is ${row.status})`);
  await sendDecision(deps, row.workflow_id, { decision, by: { id: approver.id, name: approver.email }, comment }, `bulk execution ${id}`);
  return getBulk(deps, approver.team_id, id);
}

export async function bulkWaitingForApproval(deps: ApiDeps, teamId: string): Promise<BulkView[]> {
  const rows = await deps.db.selectFrom('bulk_executions').selectAll().where('team_id', '=', teamId).where('status', '=', 'waiting_for_approval').orderBy('created_at').limit(500).execute();
  const counts = await bulkCounts(deps, rows.map((r) => r.id));
  return rows.map((r) => toBulkView(r, counts.get(r.id)!, deps));
}
