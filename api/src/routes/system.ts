import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { HealthSchema, ManifestSchema } from '@drydock/core';
import type { ApiDeps } from '../context.ts';
import { CALLER, json, resourceRouter } from '../contract.ts';
import { checkHealth } from '../health-service.ts';

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['system'],
  summary: 'Liveness of the API, its database and Temporal',
  description: 'Checks `select 1` on Postgres and `GetSystemInfo` on Temporal, each within 2 s: a dependency that hangs makes the answer `degraded`, never slow.',
  security: CALLER.anyone,
  responses: { 200: json(HealthSchema, 'Healthy'), 503: json(HealthSchema, 'A dependency is down: `status` is `degraded`') },
});

const manifestSchema = createRoute({
  method: 'get',
  path: '/api/v1/schemas/manifest.json',
  tags: ['catalog'],
  summary: 'The manifest format as JSON Schema, for editors that check manifests as they are written',
  security: CALLER.anyone,
  responses: { 200: json(z.record(z.string(), z.unknown()), 'ManifestSchema as JSON Schema') },
});

/** The manifest format as JSON Schema, for editors that validate manifests as they are written. */
export function manifestJsonSchema() {
  return z.toJSONSchema(ManifestSchema, { io: 'input', unrepresentable: 'any' });
}

export function systemRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(health, async (c) => {
      const health = await checkHealth(deps);
      return health.status === 'ok' ? c.json(health, 200) : c.json(health, 503);
    })
    .openapi(manifestSchema, (c) => c.json(manifestJsonSchema() as Record<string, unknown>, 200));
}
