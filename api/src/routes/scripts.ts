import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { CatalogViewSchema, paramsSchema, ScriptDetailSchema, ScriptListQuerySchema, ScriptVersionListSchema, ScriptVersionQuerySchema } from '@drydock/core';
import { toScriptView } from '../catalog-views.ts';
import type { ApiDeps } from '../context.ts';
import { access, errors, json, resourceRouter } from '../contract.ts';

const ScriptParams = z.object({ id: z.string().meta({ description: 'The script id' }) });

const list = createRoute({
  method: 'get',
  path: '/',
  tags: ['catalog'],
  ...access('viewer', 'read'),
  summary: 'The catalog (scripts and actions), searchable by words, tag and category, with manifest problems and facets',
  request: { query: ScriptListQuerySchema },
  responses: { 200: json(CatalogViewSchema, 'The entries that match, every problem and the facets'), ...errors(400) },
});

const read = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['catalog'],
  ...access('viewer', 'read'),
  summary: 'One script at its current version, or at `?version=`, with its text and its parameters as JSON Schema',
  description: 'Scripts only: an action is at `/actions/{id}`.',
  request: { params: ScriptParams, query: ScriptVersionQuerySchema },
  responses: { 200: json(ScriptDetailSchema, 'The script'), ...errors(400, [404, 'No such script, or no such version of it']) },
});

const versions = createRoute({
  method: 'get',
  path: '/{id}/versions',
  tags: ['catalog'],
  ...access('viewer', 'read'),
  summary: "A script's versions by commit: author, message, what changed",
  request: { params: ScriptParams },
  responses: { 200: json(ScriptVersionListSchema, 'Every stored version, newest commit first'), ...errors([404, 'The script is not in the catalog now']) },
});

export function scriptRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(list, async (c) => {
      const teamId = c.get('user')!.team_id;
      const filter = c.req.valid('query');
      const [all, problems, usage] = await Promise.all([deps.catalog.list(teamId), deps.catalog.problems(teamId), deps.catalog.usage(teamId)]);
      const shown = await deps.catalog.list(teamId, filter);
      return c.json(
        {
          scripts: shown.map((i) => toScriptView(i, usage.get(`${i.kind}:${i.id}`) ?? 0)),
          problems,
          facets: {
            tags: [...new Set(all.flatMap((i) => i.manifest.tags))].sort(),
            categories: [...new Set(all.map((i) => i.manifest.category))].sort(),
          },
        },
        200,
      );
    })
    .openapi(read, async (c) => {
      const teamId = c.get('user')!.team_id;
      const item = await deps.catalog.getScript(teamId, c.req.valid('param').id, c.req.valid('query').version);
      const usage = await deps.catalog.usage(teamId);
      // The same zod schema the API validates with, as JSON Schema, for clients that build their own forms.
      const parametersJsonSchema = z.toJSONSchema(paramsSchema(item.manifest.parameters), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      const scriptContent = item.script ? await deps.catalog.scriptContent(teamId, item.id, item.version) : null;
      return c.json({ ...toScriptView(item, usage.get(`script:${item.id}`) ?? 0), current: item.current, scriptContent, parametersJsonSchema }, 200);
    })
    .openapi(versions, async (c) => {
      const versions = await deps.catalog.versions(c.get('user')!.team_id, c.req.valid('param').id);
      return c.json({ versions: versions.map((v) => ({ ...v, committedAt: v.committedAt.toISOString() })) }, 200);
    });
}
