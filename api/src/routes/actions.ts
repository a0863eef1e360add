import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { ActionListSchema, ActionManifestSchema, ActionValidationSchema, ActionViewSchema } from '@drydock/core';
import { actionView, createAction, deleteAction, invalidAction, listActions, replaceAction, validateAction } from '../action-service.ts';
import { noteAudit } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, jsonBody, resourceRouter } from '../contract.ts';

const ActionParams = z.object({ id: z.string().meta({ description: 'The action id' }) });
const invalidTemplate = [400, 'The manifest fails its schema, or has a `script`: `the action template is invalid`, one entry per field'] as const;

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['actions'],
  ...access('viewer', 'read'),
  summary: 'Action templates',
  responses: { 200: json(ActionListSchema, 'Every action template, by id') },
});

const create = createRoute({
  method: 'post',
  path: '/',
  tags: ['actions'],
  ...access('maintainer', 'manage'),
  summary: 'Create an action template (a manifest with a command template or a host operation)',
  request: { body: jsonBody(ActionManifestSchema) },
  responses: { 201: json(ActionViewSchema, 'Created, revision 1'), ...errors(invalidTemplate, [409, 'An action with this id exists']) },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['actions'],
  ...access('viewer', 'read'),
  summary: 'One action template',
  request: { params: ActionParams },
  responses: { 200: json(ActionViewSchema, 'The action'), ...errors(404) },
});

const replace = createRoute({
  method: 'put',
  path: '/{id}',
  tags: ['actions'],
  ...access('maintainer', 'manage'),
  summary: 'Replace an action template; its revision goes up by one',
  description: 'The whole manifest is replaced; its id cannot change (400 `the id of an action cannot change`).',
  request: { params: ActionParams, body: jsonBody(ActionManifestSchema) },
  responses: { 200: json(ActionViewSchema, 'The action at its new revision'), ...errors(invalidTemplate, 404) },
});

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['actions'],
  ...access('maintainer', 'manage'),
  summary: 'Delete an action template',
  request: { params: ActionParams },
  responses: { 204: { description: 'Deleted' }, ...errors(404) },
});

const validate = createRoute({
  method: 'get',
  path: '/{id}/validate',
  tags: ['actions'],
  ...access('viewer', 'read'),
  summary: 'What is wrong with a stored action template',
  request: { params: ActionParams },
  responses: { 200: json(ActionValidationSchema, 'Whether it is valid, and its problems'), ...errors(404) },
});

/** A template that fails its schema says so in its own words, not as a generic invalid body. */
const templateHook = (result: { success: boolean; error?: z.ZodError }): undefined => {
  if (!result.success && result.error) throw invalidAction(result.error);
  return undefined;
};

export function actionRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => c.json({ actions: await listActions(deps, c.get('user')!.team_id) }, 200))
    .openapi(
      create,
      async (c) => {
        const manifest = c.req.valid('json');
        noteAudit(c, { action: 'action.create', resource: `action:${manifest.id}` });
        return c.json(await createAction(deps, c.get('user')!, manifest), 201);
      },
      templateHook,
    )
    .openapi(read, async (c) => c.json(await actionView(deps, c.get('user')!.team_id, c.req.valid('param').id), 200))
    .openapi(
      replace,
      async (c) => {
        const { id } = c.req.valid('param');
        noteAudit(c, { action: 'action.update', resource: `action:${id}` });
        return c.json(await replaceAction(deps, c.get('user')!.team_id, id, c.req.valid('json')), 200);
      },
      templateHook,
    )
    .openapi(remove, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'action.delete', resource: `action:${id}` });
      await deleteAction(deps, c.get('user')!.team_id, id);
      return c.body(null, 204);
    })
    .openapi(validate, async (c) => c.json(await validateAction(deps, c.get('user')!.team_id, c.req.valid('param').id), 200));
}
