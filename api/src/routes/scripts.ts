import { Hono } from 'hono';
import { z } from 'zod';
import { type CatalogEntry, paramsSchema, type ScriptView } from '@drydock/core';
import type { ApiDeps, ApiEnv } from '../context.ts';

export function toScriptView(entry: CatalogEntry): ScriptView {
  const m = entry.manifest;
  return {
    id: m.id,
    name: m.name,
    description: m.description,
    category: m.category,
    tags: m.tags,
    version: entry.version,
    interpreter: m.interpreter,
    timeout: m.timeout,
    retries: m.retries,
    parameters: m.parameters,
  };
}

export function scriptRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/', async (c) => {
      const snapshot = await deps.catalog.snapshot();
      return c.json({ scripts: snapshot.entries.map(toScriptView), problems: snapshot.problems });
    })
    .get('/:id', async (c) => {
      const entry = await deps.catalog.get(c.req.param('id'));
      // The same zod schema the API validates with, as JSON Schema, for clients that build their own forms.
      const parametersJsonSchema = z.toJSONSchema(paramsSchema(entry.manifest.parameters), { io: 'input', unrepresentable: 'any' });
      return c.json({ ...toScriptView(entry), parametersJsonSchema });
    });
}
