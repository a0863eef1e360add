import { Hono } from 'hono';
import type { CatalogEntry, ScriptView } from '@drydock/core';
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
    .get('/:id', async (c) => c.json(toScriptView(await deps.catalog.get(c.req.param('id')))));
}
