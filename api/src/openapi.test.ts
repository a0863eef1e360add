import { randomBytes } from 'node:crypto';
import { loadConfig } from '@drydock/core';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.ts';
import type { ApiDeps } from './context.ts';
import { openApiDocument } from './openapi.ts';

const config = loadConfig({ DRYDOCK_CODEC_KEY: randomBytes(32).toString('base64') });
// Building the router touches none of these; no request is made.
const app = createApp({ config, db: {}, temporal: {}, catalog: {}, logBus: {}, localUser: {} } as unknown as ApiDeps);
const document = openApiDocument(config.apiUrl);

const routed = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`));
const documented = new Set(
  Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)),
);

describe('the OpenAPI document', () => {
  it('documents every route the API serves', () => {
    expect([...routed].filter((r) => !documented.has(r))).toEqual([]);
  });

  it('documents no route the API does not serve', () => {
    expect([...documented].filter((r) => !routed.has(r))).toEqual([]);
  });

  it('covers the routes a user and an agent depend on', () => {
    for (const route of ['POST /api/v1/runs', 'GET /api/v1/runs/{id}/log', 'POST /api/v1/agent/runs/{runId}/logs', 'POST /api/v1/codec/decode']) {
      expect(routed).toContain(route);
      expect(documented).toContain(route);
    }
  });

  it('is OpenAPI 3.1 and points at the configured API', () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(document.servers).toEqual([{ url: config.apiUrl }]);
  });

  it('describes the body of POST /api/v1/runs: hostId required, a script or an action, an optional version', () => {
    const post = document.paths['/api/v1/runs']?.post as {
      requestBody?: { required: boolean; content: Record<string, { schema: { type: string; required?: string[]; properties?: Record<string, unknown> } }> };
    };
    const schema = post.requestBody?.content['application/json']?.schema;
    expect(post.requestBody?.required).toBe(true);
    expect(schema?.type).toBe('object');
    expect(schema?.required).toEqual(['hostId']);
    expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(['scriptId', 'actionId', 'version', 'hostId', 'params']));
  });

  it('declares every path parameter of a templated path', () => {
    for (const [path, ops] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops) as { parameters?: { name: string; in: string }[] }[]) {
        expect(op.parameters?.filter((p) => p.in === 'path').map((p) => p.name) ?? []).toEqual(names);
      }
    }
  });
});
