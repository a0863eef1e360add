import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { BlackoutListSchema, BlackoutViewSchema, CreateBlackoutBodySchema } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import { createBlackout, deleteBlackout, listBlackouts } from '../blackout-service.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';

const BlackoutParams = z.object({ id: z.string().meta({ description: 'The blackout window id (UUIDv7)' }) });

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['schedules'],
  ...access('viewer', 'read'),
  summary: "The team's blackout windows by environment, each saying whether it is in force now",
  responses: { 200: json(BlackoutListSchema, 'The windows') },
});

const create = createRoute({
  method: 'post',
  path: '/',
  tags: ['schedules'],
  ...access('maintainer', 'manage'),
  summary: 'Add a blackout window to an environment: scheduled firings inside it are skipped, manual runs need an override',
  request: { body: jsonBody(CreateBlackoutBodySchema) },
  responses: { 201: json(BlackoutViewSchema, 'The window'), ...errors([400, 'Invalid window, a name taken in the environment, or a window overlapping another of the environment']) },
});

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['schedules'],
  ...access('maintainer', 'manage'),
  summary: 'Remove a blackout window',
  request: { params: BlackoutParams },
  responses: { 204: { description: 'Deleted' }, ...errors(404) },
});

/** `/api/v1/blackouts`: blackout windows per environment. */
export function blackoutRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json({ blackouts: await listBlackouts(deps, c.get('user')!.team_id) }, 200))
    .openapi(create, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'blackout.create', detail: { name: body.name, scope: body.scope } });
      const view = await createBlackout(deps, c.get('user')!, body);
      noteAudit(c, { action: 'blackout.create', resource: `blackout:${view.id}`, detail: { name: body.name, scope: body.scope } });
      return c.json(view, 201);
    })
    .openapi(remove, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'blackout.delete', resource: `blackout:${id}` });
      await deleteBlackout(deps, c.get('user')!.team_id, id);
      return c.body(null, 204);
    });
}
