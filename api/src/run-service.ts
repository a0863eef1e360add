import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { type Selectable, sql } from 'kysely';
import {
  type ApprovalColumns,
  type ApprovalDecisionInput,
  type ApprovalRequest,
  type ApprovalView,
  ForbiddenError,
  ConflictError,
  entryHostRefusal,
  FINAL_STATUSES,
  isId,
  type LogLineView,
  type Manifest,
  MAX_LOCK_TTL_SECONDS,
  newId,
  NotFoundError,
  type Parameter,
  type ParamValues,
  redactParams,
  type Run,
  sealRunSecrets,
  type RunListQuery,
  type RunView,
  type ScriptRunInput,
  type StartRunBody,
  type User,
  validateParams,
  ValidationError,
} from '@drydock/core';
import { CENTRAL_QUEUE, runWorkflowId, searchAttributes, temporalWebUrl } from '@drydock/temporal';
import { scriptRunWorkflowRef } from '@drydock/workflows/messages';
import { notifyApprovalRequested } from './notification-service.ts';
import { decideApprovalUpdate } from '@drydock/workflows/approval';
import { blackoutInForce } from './blackout-service.ts';
import { notRunnableReason } from './catalog-views.ts';
import type { ApiDeps } from './context.ts';
import { requireRole } from './environment-service.ts';

export function toRunView(run: Run, deps: Pick<ApiDeps, 'config'>): RunView {
  return {
    id: run.id,
    source: run.source,
    scriptId: run.script_id,
    scriptName: run.script_name,
    scriptVersion: run.script_version,
    hostId: run.host_id,
    status: run.status,
    initiator: { id: run.initiator_id, name: run.initiator_name },
    params: run.params,
    exitCode: run.exit_code,
    error: run.error,
    attempts: run.attempts,
    createdAt: run.created_at.toISOString(),
    startedAt: run.started_at?.toISOString() ?? null,
    finishedAt: run.finished_at?.toISOString() ?? null,
    durationMs: run.duration_ms,
    workflowId: run.workflow_id,
    scheduleId: run.schedule_id,
    temporalUrl: temporalWebUrl(deps.config.temporalUiUrl, deps.config.TEMPORAL_NAMESPACE, run.workflow_id, run.workflow_run_id ?? undefined),
    approval: approvalView(run),
    result: run.result,
  };
}

/** The request for approval on a run or bulk execution, and its decision; null where none was asked. */
export function approvalView(row: Selectable<ApprovalColumns>): ApprovalView | null {
  if (!row.approval_environment || !row.approval_expires_at) return null;
  return {
    environment: row.approval_environment,
    expiresAt: row.approval_expires_at.toISOString(),
    decision: row.approval_decision,
    decidedBy: row.approval_by_id && row.approval_by_name ? { id: row.approval_by_id, name: row.approval_by_name } : null,
    decidedAt: row.approval_decided_at?.toISOString() ?? null,
    comment: row.approval_comment,
  };
}

export async function getRun(deps: ApiDeps, teamId: string, id: string): Promise<Run> {
  if (!isId(id)) throw new NotFoundError('run', id);
  const run = await deps.db.selectFrom('runs').selectAll().where('id', '=', id).where('team_id', '=', teamId).executeTakeFirst();
  if (!run) throw new NotFoundError('run', id);
  return run;
}

/** Validates everything before anything starts: a bad request never leaves a run behind. */
/** `onBlackoutOverride` hears the name of the blackout window a run overrides, for the audit row. */
export async function startRun(deps: ApiDeps, user: User, body: StartRunBody, onBlackoutOverride?: (windowName: string) => void): Promise<Run> {
  const source = body.actionId !== undefined ? 'action' : 'script';
  const entry = await deps.catalog.get(user.team_id, source, (body.actionId ?? body.scriptId)!, body.version);
  const manifest = entry.manifest;
  const reason = notRunnableReason(manifest);
  if (reason) throw new ValidationError(`${manifest.name} cannot run here: ${reason}`);

  const host = await deps.db.selectFrom('hosts').select(['id', 'tags', 'transport', 'environment']).where('id', '=', body.hostId).where('team_id', '=', user.team_id).executeTakeFirst();
  if (!host) throw new NotFoundError('host', body.hostId);
  const refusal = hostRefusal(manifest, host, source);
  if (refusal) throw new ValidationError(`host ${host.id} cannot run ${manifest.id}`, { hostId: [refusal] });
  const blackout = await blackoutInForce(deps, user.team_id, host.environment, new Date());
  if (blackout && body.overrideBlackout !== true) {
    throw new ValidationError(`${host.environment} is inside blackout window "${blackout.name}" until ${blackout.end}`, {
      overrideBlackout: [`send overrideBlackout: true to run on ${host.id} during blackout window "${blackout.name}" anyway; the override is audited`],
    });
  }
  if (blackout) onBlackoutOverride?.(blackout.name);
  const checked = validateParams(manifest.parameters, body.params);
  if (!checked.ok) throw new ValidationError(`parameters of ${manifest.id} are invalid`, checked.fields);
  const hostFields = await checkHostParams(deps, user.team_id, manifest.parameters, checked.values, manifest.host_tags);
  if (Object.keys(hostFields).length > 0) throw new ValidationError(`parameters of ${manifest.id} name hosts that cannot be used`, hostFields);

  const approval = await approvalRequest(deps, user, host.environment ? [host.environment] : []);
  const runId = newId();
  const workflowId = runWorkflowId(runId);
  // Sealed before anything is written: a malformed vault: reference or a missing master key leaves no run behind.
  const sealed = sealRunSecrets(deps.secrets, manifest.parameters, checked.values, { teamId: user.team_id, runId }, runSecretsExpiry(manifest, deps.config));
  await deps.db
    .insertInto('runs')
    .values({
      id: runId,
      team_id: user.team_id,
      source,
      script_id: manifest.id,
      script_name: manifest.name,
      script_version: entry.version,
      host_id: host.id,
      status: approval ? 'waiting_for_approval' : 'queued',
      initiator_id: user.id,
      initiator_name: user.email,
      params: redactParams(manifest.parameters, checked.values),
      workflow_id: workflowId,
      approval_environment: approval?.environment ?? null,
      approval_expires_at: approval ? new Date(approval.expiresAt) : null,
    })
    .execute();
  if (sealed.rows.length > 0) await deps.db.insertInto('run_secrets').values(sealed.rows).execute();

  const input: ScriptRunInput = {
    runId,
    teamId: user.team_id,
    source,
    scriptId: manifest.id,
    version: entry.version,
    hostId: host.id,
    params: sealed.params,
    ...(sealed.rows.length > 0 ? { secretRefs: sealed.secretRefs } : {}),
    initiator: { id: user.id, name: user.email },
    offlineTimeoutMs: deps.config.DRYDOCK_AGENT_OFFLINE_TIMEOUT * 1000,
    heartbeatTimeoutMs: deps.config.DRYDOCK_AGENT_HEARTBEAT_TIMEOUT * 1000,
    ...(manifest.requires_lock ? { lock: { ttlSeconds: runLockTtlSeconds(manifest, deps.config), waitTimeoutMs: deps.config.DRYDOCK_LOCK_WAIT_TIMEOUT * 1000 } } : {}),
    ...(approval ? { approval } : {}),
  };
  try {
    const handle = await deps.temporal.workflow.start(scriptRunWorkflowRef, {
      taskQueue: CENTRAL_QUEUE,
      workflowId,
      args: [input],
      typedSearchAttributes: searchAttributes({
        kind: source === 'action' ? 'action-run' : 'script-run',
        script: manifest.id,
        hosts: [host.id],
        initiator: user.email,
        team: user.team_id,
        status: approval ? 'waiting_for_approval' : 'queued',
      }),
    });
    await deps.db.updateTable('runs').set({ workflow_run_id: handle.firstExecutionRunId }).where('id', '=', runId).execute();
    if (approval) await notifyApprovalRequested(deps, runId);
  } catch (err) {
    const message = `could not start the run in Temporal: ${err instanceof Error ? err.message : String(err)}`;
    await deps.db.updateTable('runs').set({ status: 'failed', error: message, finished_at: new Date() }).where('id', '=', runId).execute();
    await deps.db.deleteFrom('run_secrets').where('run_id', '=', runId).execute();
    throw err;
  }
  return getRun(deps, user.team_id, runId);
}

/**
 * A requires_lock run's lease: every attempt at its full timeout, the delays between them and the wait for an
 * agent, with five minutes to spare. It only matters if the run never releases the lock (its workflow terminated).
 */
export function runLockTtlSeconds(manifest: Manifest, config: ApiDeps['config']): number {
  const attempts = manifest.retries + 1;
  const worst = attempts * (manifest.timeout + 60) + manifest.retries * manifest.retry_delay + config.DRYDOCK_AGENT_OFFLINE_TIMEOUT + 300;
  return Math.min(Math.ceil(worst), MAX_LOCK_TTL_SECONDS);
}

/**
 * When sealed secrets are swept if their run never ends (its workflow terminated or lost): the worst case of
 * `runsInSeries` runs one after another (a bulk execution's waves), each with every attempt and the waits for an
 * agent and a lock, and a day to spare. A run that ends deletes its secrets at once.
 */
export function runSecretsExpiry(manifest: Pick<Manifest, 'retries' | 'timeout' | 'retry_delay'>, config: ApiDeps['config'], runsInSeries = 1): Date {
  const attempts = manifest.retries + 1;
  const worst = attempts * (manifest.timeout + 60) + manifest.retries * manifest.retry_delay + config.DRYDOCK_AGENT_OFFLINE_TIMEOUT + config.DRYDOCK_LOCK_WAIT_TIMEOUT;
  return new Date(Date.now() + (runsInSeries * worst + 86_400) * 1000);
}

/** Why this host cannot run the entry (kept in core: a schedule's bulk firing picks its hosts with it too). */
export const hostRefusal = entryHostRefusal;

/** Host and host-list parameters must name registered hosts of the team that carry the entry's host tags. */
export async function checkHostParams(deps: ApiDeps, teamId: string, parameters: Parameter[], values: ParamValues, tags: string[]) {
  const fields: Record<string, string[]> = {};
  for (const p of parameters) {
    if (p.type !== 'host' && p.type !== 'host_list') continue;
    const value = values[p.name];
    const ids = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    if (ids.length === 0) continue;
    const rows = await deps.db.selectFrom('hosts').select(['id', 'tags']).where('team_id', '=', teamId).where('id', 'in', ids).execute();
    const unknown = ids.filter((id) => !rows.some((r) => r.id === id));
    const untagged = rows.filter((r) => tags.some((t) => !r.tags.includes(t))).map((r) => r.id);
    const label = p.title ?? p.name;
    if (unknown.length > 0) fields[p.name] = [`${label}: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a registered host`];
    else if (untagged.length > 0) fields[p.name] = [`${label}: ${untagged.join(', ')} lack${untagged.length === 1 ? 's' : ''} the tags ${tags.join(', ')}`];
  }
  return fields;
}

export async function cancelRun(deps: ApiDeps, user: User, id: string): Promise<Run> {
  const run = await getRun(deps, user.team_id, id);
  if (FINAL_STATUSES.includes(run.status)) throw new ConflictError(`run ${id} has already ended (${run.status})`);
  try {
    await deps.temporal.workflow.getHandle(run.workflow_id).cancel();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    throw new ConflictError(`run ${id} has no live workflow to cancel`);
  }
  return run;
}

interface Cursor {
  v: string | number;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** The position a cursor holds, checked as closely as the query will use it: a forged cursor is a 400, never a failed query. */
function decodeCursor(raw: string, sort: RunListQuery['sort']): { value: Date | number; id: string } {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Partial<Cursor> | null;
    if (c && typeof c.id === 'string' && isId(c.id)) {
      const value = sort === 'created_at' ? (typeof c.v === 'string' ? new Date(c.v) : undefined) : typeof c.v === 'number' ? c.v : undefined;
      if (value instanceof Date ? !Number.isNaN(value.getTime()) : Number.isSafeInteger(value)) return { value: value!, id: c.id };
    }
  } catch {
    // reported below
  }
  throw new ValidationError('cursor is not one this API handed out', { cursor: ['start again from the first page'] });
}

/** Keyset pagination over (sort column, id): every page costs the same, page 1 or page 2,000. */
export async function listRuns(deps: ApiDeps, teamId: string, q: RunListQuery) {
  let base = deps.db.selectFrom('runs').where('team_id', '=', teamId);
  if (q.script) base = base.where('script_id', '=', q.script);
  if (q.host) base = base.where('host_id', '=', q.host);
  if (q.status) base = base.where('status', '=', q.status);
  if (q.initiator) base = isId(q.initiator) ? base.where('initiator_id', '=', q.initiator) : base.where('initiator_name', '=', q.initiator);
  if (q.from) base = base.where('created_at', '>=', new Date(q.from));
  if (q.to) base = base.where('created_at', '<', new Date(q.to));
  // Unfinished runs have no duration yet; a duration sort lists finished runs only.
  if (q.sort === 'duration_ms') base = base.where('duration_ms', 'is not', null);

  let page = base.selectAll();
  if (q.cursor) {
    const c = decodeCursor(q.cursor, q.sort);
    page = page.where((eb) => eb(eb.refTuple(q.sort, 'id'), q.order === 'desc' ? '<' : '>', eb.tuple(c.value, c.id)));
  }
  // Both queries awaited together: a count left pending while the page fails would reject with nobody listening.
  const [count, rows] = await Promise.all([
    base.select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    page.orderBy(q.sort, q.order).orderBy('id', q.order).limit(q.limit + 1).execute(),
  ]);
  const more = rows.length > q.limit;
  const runs = rows.slice(0, q.limit);
  const last = runs.at(-1);
  const nextCursor =
    more && last ? encodeCursor({ v: q.sort === 'created_at' ? last.created_at.toISOString() : (last.duration_ms ?? 0), id: last.id }) : null;
  return { runs, nextCursor, total: Number(count.n) };
}

export async function logLinesAfter(deps: ApiDeps, runId: string, after: { attempt: number; seq: number }, limit: number): Promise<LogLineView[]> {
  const rows = await deps.db
    .selectFrom('run_logs')
    .select(['attempt', 'seq', 'stream', 'ts', 'line'])
    .where('run_id', '=', runId)
    .where((eb) => eb(eb.refTuple('attempt', 'seq'), '>', eb.tuple(after.attempt, after.seq)))
    .orderBy('attempt')
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ attempt: r.attempt, seq: r.seq, stream: r.stream, ts: r.ts.toISOString(), line: r.line }));
}

/**
 * The request for approval that the given environments call for, or null when none is protected. Several
 * protected ones (a bulk execution's hosts) make one request, expiring with the shortest of their expiries.
 */
export async function approvalRequest(deps: ApiDeps, user: User, environments: string[]): Promise<ApprovalRequest | null> {
  if (environments.length === 0) return null;
  const protectedOnes = await deps.db
    .selectFrom('environments')
    .select(['name', 'approval_expiry_seconds'])
    .where('team_id', '=', user.team_id)
    .where('name', 'in', [...new Set(environments)])
    .where('requires_approval', '=', true)
    .orderBy('name')
    .execute();
  if (protectedOnes.length === 0) return null;
  const seconds = Math.min(...protectedOnes.map((e) => e.approval_expiry_seconds));
  return {
    environment: protectedOnes.map((e) => e.name).join(', '),
    expiresAt: new Date(Date.now() + seconds * 1000).toISOString(),
    requester: { id: user.id, name: user.email },
  };
}

/** Who may decide on a request: an operator of the team who did not make it. */
export function checkApprover(user: User | undefined, initiatorId: string, what: string): User {
  const approver = requireRole(user, 'operator', `approving or rejecting ${what}`);
  if (approver.id === initiatorId) {
    throw new ForbiddenError(`you requested this ${what}, so you cannot approve or reject it; another operator of team ${approver.team_id} must decide`);
  }
  return approver;
}

/** Sends the decision to the waiting workflow, which records it; a decision it refuses is a 409 with its reason. */
export async function sendDecision(deps: ApiDeps, workflowId: string, input: ApprovalDecisionInput, what: string): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(workflowId).executeUpdate(decideApprovalUpdate, { args: [input] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ConflictError(`${what} has no live workflow waiting for a decision`);
    if (err instanceof WorkflowUpdateFailedError) throw new ConflictError(`${what} cannot be ${input.decision}: ${err.cause?.message ?? err.message}`);
    throw err;
  }
}

export async function decideRun(deps: ApiDeps, user: User | undefined, id: string, decision: ApprovalDecisionInput['decision'], comment: string | null): Promise<Run> {
  const run = await getRun(deps, user?.team_id ?? '', id);
  const approver = checkApprover(user, run.initiator_id, 'run');
  if (run.bulk_id) throw new ConflictError(`run ${id} belongs to bulk execution ${run.bulk_id}; approve or reject the execution (POST /api/v1/bulk/${run.bulk_id}/${decision === 'approved' ? 'approve' : 'reject'})`);
  if (run.status !== 'waiting_for_approval') throw new ConflictError(`run ${id} is not waiting for approval (it is ${run.status})`);
  await sendDecision(deps, run.workflow_id, { decision, by: { id: approver.id, name: approver.email }, comment }, `run ${id}`);
  return getRun(deps, approver.team_id, id);
}

/** Runs of the team waiting for a decision, oldest first: what an approver works through. */
export async function runsWaitingForApproval(deps: ApiDeps, teamId: string): Promise<Run[]> {
  return deps.db.selectFrom('runs').selectAll().where('team_id', '=', teamId).where('status', '=', 'waiting_for_approval').where('bulk_id', 'is', null).orderBy('created_at').limit(500).execute();
}
