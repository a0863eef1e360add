import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  CredentialBodySchema,
  CredentialListSchema,
  CredentialViewSchema,
  RepositoryBodySchema,
  RepositoryDetailSchema,
  RepositoryListSchema,
  RepositoryPatchSchema,
  RepositoryViewSchema,
  SyncRequestedSchema,
} from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import {
  addCredential,
  addRepository,
  changeRepository,
  credentialViews,
  removeCredential,
  removeRepository,
  repositoryDetail,
  repositoryOfTeam,
  repositoryViews,
  requestSync,
} from '../repository-service.ts';

const RepositoryParams = z.object({ id: z.string().meta({ description: 'The repository id' }) });
const badReference = [400, 'The body fails the schema; an unknown credential; a webhook secret without `DRYDOCK_MASTER_KEY`'] as const;

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['repositories'],
  ...access('viewer', 'read'),
  summary: 'Scripts repositories and their sync state',
  responses: { 200: json(RepositoryListSchema, 'The repositories') },
});

const add = createRoute({
  method: 'post',
  path: '/',
  tags: ['repositories'],
  ...access('maintainer', 'manage'),
  summary: 'Add a git repository; its schedule is created and its first sync starts at once',
  request: { body: jsonBody(RepositoryBodySchema) },
  responses: { 201: json(RepositoryViewSchema, 'Added, `status` new'), ...errors(badReference, [409, 'A repository with this id exists']) },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['repositories'],
  ...access('viewer', 'read'),
  summary: 'One repository, its last 50 syncs and its current manifest problems',
  request: { params: RepositoryParams },
  responses: { 200: json(RepositoryDetailSchema, 'The repository'), ...errors(404) },
});

const change = createRoute({
  method: 'patch',
  path: '/{id}',
  tags: ['repositories'],
  ...access('maintainer', 'manage'),
  summary: 'Change a repository; a new URL, branch, path or credential syncs at once',
  description: '`webhookSecret: null` removes the secret and `credentialId: null` the credential; a new `syncIntervalSeconds` updates the schedule.',
  request: { params: RepositoryParams, body: jsonBody(RepositoryPatchSchema) },
  responses: { 200: json(RepositoryViewSchema, 'The repository as it is now'), ...errors(badReference, 404) },
});

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['repositories'],
  ...access('maintainer', 'manage'),
  summary: 'Remove a repository: its schedule, scripts, versions, problems and sync history; runs of its scripts stay',
  request: { params: RepositoryParams },
  responses: { 204: { description: 'Removed' }, ...errors(404) },
});

const sync = createRoute({
  method: 'post',
  path: '/{id}/sync',
  tags: ['repositories'],
  ...access('maintainer', 'manage'),
  summary: 'Sync now; requests close together become one sync',
  request: { params: RepositoryParams },
  responses: { 202: json(SyncRequestedSchema, 'Requested, with reason `sync now by <email>`'), ...errors(404) },
});

export function repositoryRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json({ repositories: await repositoryViews(deps, c.get('user')!.team_id) }, 200))
    .openapi(add, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'repository.create', resource: `repository:${body.id}`, detail: { url: body.url, branch: body.branch } });
      return c.json(await addRepository(deps, c.get('user')!.team_id, body), 201);
    })
    .openapi(read, async (c) => c.json(await repositoryDetail(deps, c.get('user')!.team_id, c.req.valid('param').id), 200))
    .openapi(change, async (c) => {
      const teamId = c.get('user')!.team_id;
      const repo = await repositoryOfTeam(deps, teamId, c.req.valid('param').id);
      const body = c.req.valid('json');
      noteAudit(c, { action: 'repository.update', resource: `repository:${repo.id}`, detail: { fields: Object.keys(body) } });
      return c.json(await changeRepository(deps, teamId, repo, body), 200);
    })
    .openapi(remove, async (c) => {
      const repo = await repositoryOfTeam(deps, c.get('user')!.team_id, c.req.valid('param').id);
      noteAudit(c, { action: 'repository.delete', resource: `repository:${repo.id}` });
      await removeRepository(deps, repo);
      return c.body(null, 204);
    })
    .openapi(sync, async (c) => {
      const repo = await repositoryOfTeam(deps, c.get('user')!.team_id, c.req.valid('param').id);
      noteAudit(c, { action: 'repository.sync', resource: `repository:${repo.id}` });
      return c.json({ workflowId: await requestSync(deps, repo, `sync now by ${c.get('user')!.email}`) }, 202);
    });
}

const credentialList = createRoute({
  method: 'get',
  path: '/',
  tags: ['repositories'],
  ...access('maintainer', 'read'),
  summary: 'Stored credentials, without their secrets',
  responses: { 200: json(CredentialListSchema, 'The credentials') },
});

const credentialAdd = createRoute({
  method: 'post',
  path: '/',
  tags: ['repositories'],
  ...access('maintainer', 'manage'),
  summary: 'Store an HTTPS token, an SSH key or a password, sealed with AES-256-GCM under the master key',
  request: { body: jsonBody(CredentialBodySchema) },
  responses: {
    201: json(CredentialViewSchema, 'Stored; the secret is never returned'),
    ...errors([400, 'The body fails the schema, or the API has no `DRYDOCK_MASTER_KEY`'], [409, 'A credential with this name exists']),
  },
});

const credentialRemove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['repositories'],
  ...access('maintainer', 'manage'),
  summary: 'Delete a credential that no repository or host uses',
  request: { params: z.object({ id: z.string().meta({ description: 'The credential id' }) }) },
  responses: { 204: { description: 'Deleted' }, ...errors(404, [409, 'A repository or a host uses it: the message names it']) },
});

/** Credentials are write-only: the secret goes in sealed and never comes back out of the API. */
export function credentialRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(credentialList, async (c) => c.json({ credentials: await credentialViews(deps, c.get('user')!.team_id) }, 200))
    .openapi(credentialAdd, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'credential.create', resource: `credential:${body.name}`, detail: { kind: body.kind } });
      return c.json(await addCredential(deps, c.get('user')!, body), 201);
    })
    .openapi(credentialRemove, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'credential.delete', resource: `credential:${id}` });
      await removeCredential(deps, c.get('user')!.team_id, id);
      return c.body(null, 204);
    });
}
