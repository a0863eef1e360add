import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { EnvironmentListSchema, EnvironmentPatchSchema, EnvironmentViewSchema, NewEnvironmentBodySchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import { changeEnvironment, createEnvironment, getEnvironment, listEnvironments, removeEnvironment } from '../environment-service.ts';

const EnvironmentParams = z.object({ name: z.string().meta({ description: 'The environment name' }) });

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['environments'],
  ...access('viewer', 'read'),
  summary: "The team's environments, with their colours, whether they are protected and how many hosts each has",
  responses: { 200: json(EnvironmentListSchema, 'By name') },
});

const add = createRoute({
  method: 'post',
  path: '/',
  tags: ['environments'],
  ...access('maintainer', 'manage'),
  summary: 'Create an environment (maintainers)',
  description: 'With `requiresApproval`, every run and bulk execution on its hosts waits until another operator of the team approves it.',
  request: { body: jsonBody(NewEnvironmentBodySchema) },
  responses: {
    201: json(EnvironmentViewSchema, 'Created'),
    ...errors([400, 'The body fails the schema (a name or colour of the wrong form), or the team already has an environment of that name'], [403, 'The caller is not a maintainer of the team']),
  },
});

const read = createRoute({
  method: 'get',
  path: '/{name}',
  tags: ['environments'],
  ...access('viewer', 'read'),
  summary: 'One environment',
  request: { params: EnvironmentParams },
  responses: { 200: json(EnvironmentViewSchema, 'The environment'), ...errors(404) },
});

const change = createRoute({
  method: 'patch',
  path: '/{name}',
  tags: ['environments'],
  ...access('maintainer', 'manage'),
  summary: 'Change its colour, description or protection (maintainers)',
  description: 'A change of protection applies to runs requested after it; a run already waiting keeps its request.',
  request: { params: EnvironmentParams, body: jsonBody(EnvironmentPatchSchema) },
  responses: { 200: json(EnvironmentViewSchema, 'The environment as it is now'), ...errors(400, [403, 'The caller is not a maintainer of the team'], 404) },
});

const remove = createRoute({
  method: 'delete',
  path: '/{name}',
  tags: ['environments'],
  ...access('maintainer', 'manage'),
  summary: 'Remove an environment that has no hosts (maintainers)',
  request: { params: EnvironmentParams },
  responses: { 204: { description: 'Removed' }, ...errors([403, 'The caller is not a maintainer of the team'], 404, [409, 'Hosts are still in it']) },
});

export function environmentRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json({ environments: await listEnvironments(deps, c.get('user')!.team_id) }, 200))
    .openapi(read, async (c) => c.json(await getEnvironment(deps, c.get('user')!.team_id, c.req.valid('param').name), 200))
    .openapi(add, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'environment.create', resource: `environment:${body.name}`, detail: { colour: body.colour, requiresApproval: body.requiresApproval, approvalExpirySeconds: body.approvalExpirySeconds } });
      return c.json(await createEnvironment(deps, c.get('user'), body), 201);
    })
    .openapi(change, async (c) => {
      const { name } = c.req.valid('param');
      const body = c.req.valid('json');
      noteAudit(c, { action: 'environment.update', resource: `environment:${name}`, detail: { ...body } });
      return c.json(await changeEnvironment(deps, c.get('user'), name, body), 200);
    })
    .openapi(remove, async (c) => {
      const { name } = c.req.valid('param');
      noteAudit(c, { action: 'environment.delete', resource: `environment:${name}` });
      await removeEnvironment(deps, c.get('user'), name);
      return c.body(null, 204);
    });
}
