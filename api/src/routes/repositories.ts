import { Hono } from 'hono';
import { CredentialBodySchema, newId, NotFoundError, RepositoryBodySchema, RepositoryPatchSchema, ConflictError } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import {
  assertNewRepository,
  credentialOfTeam,
  deleteSyncSchedule,
  repositoryView,
  repositoryViews,
  requestSync,
  syncHistory,
  upsertSyncSchedule,
} from '../repository-service.ts';
import { validate } from '../validation.ts';

export function repositoryRoutes(deps: ApiDeps) {
  const load = async (teamId: string, id: string) => {
    const repo = await deps.db.selectFrom('script_repositories').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
    if (!repo) throw new NotFoundError('repository', id);
    return repo;
  };
  return new Hono<ApiEnv>()
    .get('/', async (c) => c.json({ repositories: await repositoryViews(deps, c.get('user')!.team_id) }))
    .post('/', validate('json', RepositoryBodySchema), async (c) => {
      const body = c.req.valid('json');
      const teamId = c.get('user')!.team_id;
      noteAudit(c, { action: 'repository.create', resource: `repository:${body.id}`, detail: { url: body.url, branch: body.branch } });
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
      return c.json(await repositoryView(deps, teamId, row.id), 201);
    })
    .get('/:id', async (c) => {
      const teamId = c.get('user')!.team_id;
      const view = await repositoryView(deps, teamId, c.req.param('id'));
      const problems = await deps.db.selectFrom('catalog_problems').select(['file', 'line', 'message']).where('repository_id', '=', view.id).orderBy('file').execute();
      return c.json({
        ...view,
        syncs: await syncHistory(deps, view.id),
        problems: problems.map((p) => ({ file: p.file, ...(p.line === null ? {} : { line: p.line }), message: p.message })),
      });
    })
    .patch('/:id', validate('json', RepositoryPatchSchema), async (c) => {
      const teamId = c.get('user')!.team_id;
      const repo = await load(teamId, c.req.param('id'));
      const body = c.req.valid('json');
      noteAudit(c, { action: 'repository.update', resource: `repository:${repo.id}`, detail: { fields: Object.keys(body) } });
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
      return c.json(await repositoryView(deps, teamId, repo.id));
    })
    .delete('/:id', async (c) => {
      const repo = await load(c.get('user')!.team_id, c.req.param('id'));
      noteAudit(c, { action: 'repository.delete', resource: `repository:${repo.id}` });
      await deleteSyncSchedule(deps, repo.id);
      await deps.db.deleteFrom('script_repositories').where('id', '=', repo.id).execute();
      return c.body(null, 204);
    })
    .post('/:id/sync', async (c) => {
      const repo = await load(c.get('user')!.team_id, c.req.param('id'));
      noteAudit(c, { action: 'repository.sync', resource: `repository:${repo.id}` });
      return c.json({ workflowId: await requestSync(deps, repo, `sync now by ${c.get('user')!.email}`) }, 202);
    });
}

/** Credentials are write-only: the secret goes in sealed and never comes back out of the API. */
export function credentialRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/', async (c) => {
      const rows = await deps.db.selectFrom('credentials').select(['id', 'name', 'kind', 'username', 'created_at']).where('team_id', '=', c.get('user')!.team_id).orderBy('name').execute();
      return c.json({ credentials: rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, username: r.username, createdAt: r.created_at.toISOString() })) });
    })
    .post('/', validate('json', CredentialBodySchema), async (c) => {
      const body = c.req.valid('json');
      const teamId = c.get('user')!.team_id;
      noteAudit(c, { action: 'credential.create', resource: `credential:${body.name}`, detail: { kind: body.kind } });
      const existing = await deps.db.selectFrom('credentials').select('id').where('team_id', '=', teamId).where('name', '=', body.name).executeTakeFirst();
      if (existing) throw new ConflictError(`a credential named ${body.name} already exists`);
      const row = await deps.db
        .insertInto('credentials')
        .values({ id: newId(), team_id: teamId, name: body.name, kind: body.kind, username: body.username ?? null, secret_enc: deps.secrets.seal(body.secret) })
        .returning(['id', 'name', 'kind', 'username', 'created_at'])
        .executeTakeFirstOrThrow();
      return c.json({ id: row.id, name: row.name, kind: row.kind, username: row.username, createdAt: row.created_at.toISOString() }, 201);
    })
    .delete('/:id', async (c) => {
      const teamId = c.get('user')!.team_id;
      const id = c.req.param('id');
      noteAudit(c, { action: 'credential.delete', resource: `credential:${id}` });
      const cred = await deps.db.selectFrom('credentials').select('id').where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst().catch(() => undefined);
      if (!cred) throw new NotFoundError('credential', id);
      const user = await deps.db.selectFrom('script_repositories').select('name').where('credential_id', '=', id).executeTakeFirst();
      if (user) throw new ConflictError(`repository ${user.name} uses this credential; change it first`);
      const host = await deps.db.selectFrom('hosts').select('id').where('credential_id', '=', id).executeTakeFirst();
      if (host) throw new ConflictError(`host ${host.id} uses this credential; change it first`);
      await deps.db.deleteFrom('credentials').where('id', '=', id).execute();
      return c.body(null, 204);
    });
}
