import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { sql } from 'kysely';
import { ConflictError, NotFoundError, type ScriptRepository, ValidationError } from '@drydock/core';
import { CENTRAL_QUEUE, SearchAttr, syncScheduleId, syncWorkflowId, temporalWebUrl } from '@drydock/temporal';
import type { ApiDeps } from './context.ts';

export interface RepositoryView {
  id: string;
  name: string;
  kind: 'git' | 'directory';
  url: string;
  branch: string;
  path: string;
  provider: ScriptRepository['provider'];
  credential: { id: string; name: string } | null;
  hasWebhookSecret: boolean;
  webhookUrl: string;
  syncIntervalSeconds: number;
  status: ScriptRepository['status'];
  head: string | null;
  lastSyncAt: string | null;
  lastSyncError: string | null;
  scriptCount: number;
  problemCount: number;
}

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

export async function syncHistory(deps: ApiDeps, id: string) {
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
  await deps.temporal.workflow.signalWithStart('repositorySyncWorkflow', {
    taskQueue: CENTRAL_QUEUE,
    workflowId,
    args: [{ repositoryId: repo.id, reason }],
    signal: 'syncRequested',
    signalArgs: [{ reason }],
    typedSearchAttributes: [
      { key: SearchAttr.Kind, value: 'repository-sync' },
      { key: SearchAttr.Team, value: repo.team_id },
    ],
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
        workflowType: 'repositorySyncWorkflow',
        taskQueue: CENTRAL_QUEUE,
        workflowId: syncWorkflowId(repo.id),
        args: [{ repositoryId: repo.id, reason: 'schedule' }],
        typedSearchAttributes: [
          { key: SearchAttr.Kind, value: 'repository-sync' },
          { key: SearchAttr.Team, value: repo.team_id },
        ],
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

export async function assertNewRepository(deps: ApiDeps, id: string): Promise<void> {
  const existing = await deps.db.selectFrom('script_repositories').select('id').where('id', '=', id).executeTakeFirst();
  if (existing) throw new ConflictError(`a repository with id ${id} already exists`);
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
