import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { sql } from 'kysely';
import {
  ConflictError,
  type CredentialView,
  newId,
  NotFoundError,
  type RepositoryBody,
  type RepositoryDetail,
  type RepositoryPatch,
  type RepositorySyncView,
  type RepositoryView,
  type ScriptRepository,
  type User,
  ValidationError,
  isVaultReference,
  VaultReferenceSchema,
} from '@drydock/core';
import { CENTRAL_QUEUE, searchAttributes, syncScheduleId, syncWorkflowId, temporalWebUrl } from '@drydock/temporal';
import { repositorySyncWorkflowRef, syncRequestedSignal } from '@drydock/workflows/messages';
import type { ApiDeps } from './context.ts';

export async function repositoryViews(deps: ApiDeps, teamId: string, id?: string): Promise<RepositoryView[]> {
  let q = deps.db
    .selectFrom('script_repositories as r')
    .leftJoin('credentials as c', 'c.id', 'r.credential_id')
    .selectAll('r')
    .select(['c.name as credential_name'])
    .select((eb) => [
      eb.selectFrom('catalog_scripts').select(sql<number>`count(*)::int`.as('n')).whereRef('repository_id', '=', 'r.id').as('script_count'),
      eb.selectFrom('catalog_problems').select(sql<number>`count(*)::int`.as('n')).whereRef('repository_id', '=', 'r.id').as('problem_count'),
    ])
    .where('r.team_id', '=', teamId)
    .orderBy('r.name');
  if (id) q = q.where('r.id', '=', id);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    kind: r.kind,
    url: r.url,
    branch: r.branch,
    path: r.path,
    provider: r.provider,
    credential: r.credential_id ? { id: r.credential_id, name: r.credential_name ?? r.credential_id } : null,
    hasWebhookSecret: r.webhook_secret_enc !== null,
    webhookUrl: `${deps.config.publicUrl}/api/v1/webhooks/${r.id}`,
    syncIntervalSeconds: r.sync_interval_seconds,
    status: r.status,
    head: r.head,
    lastSyncAt: r.last_sync_at?.toISOString() ?? null,
    lastSyncError: r.last_sync_error,
    scriptCount: r.script_count ?? 0,
    problemCount: r.problem_count ?? 0,
  }));
}

export async function repositoryView(deps: ApiDeps, teamId: string, id: string): Promise<RepositoryView> {
  const [view] = await repositoryViews(deps, teamId, id);
  if (!view) throw new NotFoundError('repository', id);
  return view;
}

export async function syncHistory(deps: ApiDeps, id: string): Promise<RepositorySyncView[]> {
  const rows = await deps.db.selectFrom('repository_syncs').selectAll().where('repository_id', '=', id).orderBy('started_at', 'desc').limit(50).execute();
  return rows.map((s) => ({
    id: s.id,
    reason: s.reason,
    status: s.status,
    head: s.head,
    added: s.added,
    updated: s.updated,
    removed: s.removed,
    problems: s.problems,
    error: s.error,
    startedAt: s.started_at.toISOString(),
    finishedAt: s.finished_at?.toISOString() ?? null,
    workflowId: s.workflow_id,
    temporalUrl: temporalWebUrl(deps.config.temporalUiUrl, deps.config.TEMPORAL_NAMESPACE, s.workflow_id),
  }));
}

/** Starts `sync/<id>`, or signals it when a sync is already waiting or running: bursts coalesce. */
export async function requestSync(deps: ApiDeps, repo: { id: string; team_id: string }, reason: string): Promise<string> {
  const workflowId = syncWorkflowId(repo.id);
  await deps.temporal.workflow.signalWithStart(repositorySyncWorkflowRef, {
    taskQueue: CENTRAL_QUEUE,
    workflowId,
    args: [{ repositoryId: repo.id, reason }],
    signal: syncRequestedSignal,
    signalArgs: [{ reason }],
    typedSearchAttributes: searchAttributes({ kind: 'repository-sync', team: repo.team_id }),
  });
  return workflowId;
}

/** The repository's periodic sync, as a Temporal Schedule; overlapping syncs are skipped. */
export async function upsertSyncSchedule(deps: ApiDeps, repo: { id: string; team_id: string; sync_interval_seconds: number }): Promise<void> {
  const scheduleId = syncScheduleId(repo.id);
  const spec = { intervals: [{ every: repo.sync_interval_seconds * 1000 }] };
  const handle = deps.temporal.schedule.getHandle(scheduleId);
  try {
    await handle.update((prev) => ({ ...prev, spec }));
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await deps.temporal.schedule.create({
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: repositorySyncWorkflowRef,
        taskQueue: CENTRAL_QUEUE,
        workflowId: syncWorkflowId(repo.id),
        args: [{ repositoryId: repo.id, reason: 'schedule' }],
        typedSearchAttributes: searchAttributes({ kind: 'repository-sync', team: repo.team_id }),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
  }
}

export async function deleteSyncSchedule(deps: ApiDeps, id: string): Promise<void> {
  try {
    await deps.temporal.schedule.getHandle(syncScheduleId(id)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

export async function credentialOfTeam(deps: ApiDeps, teamId: string, credentialId: string | null | undefined): Promise<string | null> {
  if (credentialId === undefined || credentialId === null) return null;
  const cred = await deps.db.selectFrom('credentials').select('id').where('team_id', '=', teamId).where('id', '=', credentialId).executeTakeFirst();
  if (!cred) throw new ValidationError('unknown credential', { credentialId: [`credential ${credentialId} does not exist`] });
  return cred.id;
}

async function assertNewRepository(deps: ApiDeps, id: string): Promise<void> {
  const existing = await deps.db.selectFrom('script_repositories').select('id').where('id', '=', id).executeTakeFirst();
  if (existing) throw new ConflictError(`a repository with id ${id} already exists`);
}

export async function repositoryOfTeam(deps: ApiDeps, teamId: string, id: string): Promise<ScriptRepository> {
  const repo = await deps.db.selectFrom('script_repositories').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
  if (!repo) throw new NotFoundError('repository', id);
  return repo;
}

/** A repository, its last syncs and its current manifest problems. */
export async function repositoryDetail(deps: ApiDeps, teamId: string, id: string): Promise<RepositoryDetail> {
  const view = await repositoryView(deps, teamId, id);
  const problems = await deps.db.selectFrom('catalog_problems').select(['file', 'line', 'message']).where('repository_id', '=', view.id).orderBy('file').execute();
  return {
    ...view,
    syncs: await syncHistory(deps, view.id),
    problems: problems.map((p) => ({ file: p.file, ...(p.line === null ? {} : { line: p.line }), message: p.message })),
  };
}

/** Stores a git repository, schedules its syncs and requests the first one. */
export async function addRepository(deps: ApiDeps, teamId: string, body: RepositoryBody): Promise<RepositoryView> {
  await assertNewRepository(deps, body.id);
  const credentialId = await credentialOfTeam(deps, teamId, body.credentialId);
  const row = await deps.db
    .insertInto('script_repositories')
    .values({
      id: body.id,
      team_id: teamId,
      name: body.name,
      // Directory catalogs are server configuration (DRYDOCK_CATALOG_DIR), never an API call away.
      kind: 'git',
      url: body.url,
      branch: body.branch,
      path: body.path,
      provider: body.provider,
      credential_id: credentialId,
      webhook_secret_enc: body.webhookSecret ? deps.secrets.seal(body.webhookSecret) : null,
      sync_interval_seconds: body.syncIntervalSeconds,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await upsertSyncSchedule(deps, row);
  await requestSync(deps, row, 'repository added');
  return repositoryView(deps, teamId, row.id);
}

/** Only what is sent changes; a new source (URL, branch, path, credential) syncs at once. */
export async function changeRepository(deps: ApiDeps, teamId: string, repo: ScriptRepository, body: RepositoryPatch): Promise<RepositoryView> {
  const credentialId = body.credentialId === undefined ? repo.credential_id : await credentialOfTeam(deps, teamId, body.credentialId);
  const updated = await deps.db
    .updateTable('script_repositories')
    .set({
      name: body.name ?? repo.name,
      url: body.url ?? repo.url,
      branch: body.branch ?? repo.branch,
      path: body.path ?? repo.path,
      provider: body.provider ?? repo.provider,
      credential_id: credentialId,
      webhook_secret_enc: body.webhookSecret === undefined ? repo.webhook_secret_enc : body.webhookSecret === null ? null : deps.secrets.seal(body.webhookSecret),
      sync_interval_seconds: body.syncIntervalSeconds ?? repo.sync_interval_seconds,
    })
    .where('id', '=', repo.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (updated.sync_interval_seconds !== repo.sync_interval_seconds) await upsertSyncSchedule(deps, updated);
  if (updated.url !== repo.url || updated.branch !== repo.branch || updated.path !== repo.path || updated.credential_id !== repo.credential_id) {
    await requestSync(deps, updated, 'settings changed');
  }
  return repositoryView(deps, teamId, repo.id);
}

/** Its scripts, versions, problems and sync history go with it; runs of its scripts stay. */
export async function removeRepository(deps: ApiDeps, repo: ScriptRepository): Promise<void> {
  await deleteSyncSchedule(deps, repo.id);
  await deps.db.deleteFrom('script_repositories').where('id', '=', repo.id).execute();
}

/** The repository a webhook names, whatever the team: the provider knows only its id. */
/** Providers redeliver within hours; a week covers any retry and keeps the table small. */
const DELIVERY_RETENTION = sql`interval '7 days'`;

/** Records a webhook delivery id; false when it was received before (a replay or a provider's retry of a delivery that acted). */
export async function claimWebhookDelivery(deps: ApiDeps, repositoryId: string, delivery: string, provider: string): Promise<boolean> {
  await deps.db.deleteFrom('webhook_deliveries').where('repository_id', '=', repositoryId).where('received_at', '<', sql<Date>`now() - ${DELIVERY_RETENTION}`).execute();
  const claimed = await deps.db
    .insertInto('webhook_deliveries')
    .values({ repository_id: repositoryId, delivery_id: delivery, provider })
    .onConflict((oc) => oc.columns(['repository_id', 'delivery_id']).doNothing())
    .returning('delivery_id')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** Forgets a delivery whose action failed, so the provider's retry is not taken for a replay. */
export async function releaseWebhookDelivery(deps: ApiDeps, repositoryId: string, delivery: string): Promise<void> {
  await deps.db.deleteFrom('webhook_deliveries').where('repository_id', '=', repositoryId).where('delivery_id', '=', delivery).execute();
}

export async function webhookRepository(deps: ApiDeps, id: string): Promise<ScriptRepository | undefined> {
  return deps.db.selectFrom('script_repositories').selectAll().where('id', '=', id).executeTakeFirst();
}

function toCredentialView(r: { id: string; name: string; kind: CredentialView['kind']; username: string | null; created_at: Date }): CredentialView {
  return { id: r.id, name: r.name, kind: r.kind, username: r.username, createdAt: r.created_at.toISOString() };
}

export async function credentialViews(deps: ApiDeps, teamId: string): Promise<CredentialView[]> {
  const rows = await deps.db.selectFrom('credentials').select(['id', 'name', 'kind', 'username', 'created_at']).where('team_id', '=', teamId).orderBy('name').execute();
  return rows.map(toCredentialView);
}

/** Credentials are write-only: the secret goes in sealed and never comes back out of the API. */
export async function addCredential(
  deps: ApiDeps,
  user: User,
  body: { name: string; kind: CredentialView['kind']; username?: string | undefined; secret: string },
): Promise<CredentialView> {
  const existing = await deps.db.selectFrom('credentials').select('id').where('team_id', '=', user.team_id).where('name', '=', body.name).executeTakeFirst();
  if (existing) throw new ConflictError(`a credential named ${body.name} already exists`);
  // A vault: reference is stored as the reference (sealed like any value) and read from Vault where it is used.
  if (isVaultReference(body.secret)) {
    const parsed = VaultReferenceSchema.safeParse(body.secret);
    if (!parsed.success) throw new ValidationError('the credential names a Vault reference that is not one', { secret: parsed.error.issues.map((i) => i.message) });
  }
  const row = await deps.db
    .insertInto('credentials')
    .values({ id: newId(), team_id: user.team_id, name: body.name, kind: body.kind, username: body.username ?? null, secret_enc: deps.secrets.seal(body.secret) })
    .returning(['id', 'name', 'kind', 'username', 'created_at'])
    .executeTakeFirstOrThrow();
  return toCredentialView(row);
}

/** Only a credential that no repository or host uses. */
export async function removeCredential(deps: ApiDeps, teamId: string, id: string): Promise<void> {
  const cred = await deps.db.selectFrom('credentials').select('id').where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst().catch(() => undefined);
  if (!cred) throw new NotFoundError('credential', id);
  const repository = await deps.db.selectFrom('script_repositories').select('name').where('credential_id', '=', id).executeTakeFirst();
  if (repository) throw new ConflictError(`repository ${repository.name} uses this credential; change it first`);
  const host = await deps.db.selectFrom('hosts').select('id').where('credential_id', '=', id).executeTakeFirst();
  if (host) throw new ConflictError(`host ${host.id} uses this credential; change it first`);
  await deps.db.deleteFrom('credentials').where('id', '=', id).execute();
}

export const LOCAL_CATALOG_ID = 'local-catalog';

/**
 * With DRYDOCK_CATALOG_DIR set (npm start sets the sample repository), that directory is a repository of
 * its own, synced at start-up and on its schedule, so a local catalog needs no git server.
 */
export async function ensureLocalCatalog(deps: ApiDeps): Promise<void> {
  const dir = deps.config.DRYDOCK_CATALOG_DIR;
  if (!dir) return;
  const teamId = deps.config.DRYDOCK_TEAM;
  const repo = await deps.db
    .insertInto('script_repositories')
    .values({ id: LOCAL_CATALOG_ID, team_id: teamId, name: 'Local catalog', kind: 'directory', url: dir, branch: '-', sync_interval_seconds: 60 })
    .onConflict((oc) => oc.column('id').doUpdateSet({ url: dir }))
    .returningAll()
    .executeTakeFirstOrThrow();
  await upsertSyncSchedule(deps, repo);
  await requestSync(deps, repo, 'start-up');
}
