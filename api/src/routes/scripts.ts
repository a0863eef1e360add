import { Hono } from 'hono';
import { z } from 'zod';
import { ManifestSchema, paramsSchema } from '@drydock/core';
import { toScriptView } from '../catalog-views.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { validate } from '../validation.ts';

const ListQuery = z.strictObject({ q: z.string().optional(), tag: z.string().optional(), category: z.string().optional() });
const VersionQuery = z.strictObject({ version: z.string().regex(/^[0-9a-f]{4,64}$|^\d+$/, { error: 'version is a commit SHA (or its prefix)' }).optional() });

export function scriptRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/', validate('query', ListQuery), async (c) => {
      const teamId = c.get('user')!.team_id;
      const filter = c.req.valid('query');
      const [all, problems, usage] = await Promise.all([deps.catalog.list(teamId), deps.catalog.problems(teamId), deps.catalog.usage(teamId)]);
      const shown = await deps.catalog.list(teamId, filter);
      return c.json({
        scripts: shown.map((i) => toScriptView(i, usage.get(`${i.kind}:${i.id}`) ?? 0)),
        problems,
        facets: {
          tags: [...new Set(all.flatMap((i) => i.manifest.tags))].sort(),
          categories: [...new Set(all.map((i) => i.manifest.category))].sort(),
        },
      });
    })
    .get('/:id', validate('query', VersionQuery), async (c) => {
      const teamId = c.get('user')!.team_id;
      const item = await deps.catalog.getScript(teamId, c.req.param('id'), c.req.valid('query').version);
      const usage = await deps.catalog.usage(teamId);
      // The same zod schema the API validates with, as JSON Schema, for clients that build their own forms.
      const parametersJsonSchema = z.toJSONSchema(paramsSchema(item.manifest.parameters), { io: 'input', unrepresentable: 'any' });
      const scriptContent = item.script ? await deps.catalog.scriptContent(teamId, item.id, item.version) : null;
      return c.json({ ...toScriptView(item, usage.get(`script:${item.id}`) ?? 0), current: item.current, scriptContent, parametersJsonSchema });
    })
    .get('/:id/versions', async (c) => {
      const versions = await deps.catalog.versions(c.get('user')!.team_id, c.req.param('id'));
      return c.json({ versions: versions.map((v) => ({ ...v, committedAt: v.committedAt.toISOString() })) });
    });
}

/** The manifest format as JSON Schema, for editors that validate manifests as they are written. */
export function manifestJsonSchema() {
  return z.toJSONSchema(ManifestSchema, { io: 'input', unrepresentable: 'any' });
}
