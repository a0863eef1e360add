import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@drydock/core';
import { API_DOC, declaredApiDocument, referenceMarkdown } from './reference/api-document.ts';

// What a reader of the OpenAPI document relies on, checked on the document the API serves.

const document = declaredApiDocument(loadConfig({ DRYDOCK_CODEC_KEY: randomBytes(32).toString('base64') }));
type Media = Record<string, { schema?: { $ref?: string } }>;
type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  'x-drydock-access'?: { role: string; scope: string };
  parameters?: { name: string; in: string }[];
  responses: Record<string, { description: string; content?: Media }>;
};
const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  (['get', 'post', 'put', 'patch', 'delete'] as const).flatMap((method) => {
    const op = (item as Record<string, Operation | undefined>)[method];
    return op ? [{ route: `${method.toUpperCase()} ${path}`, path, op }] : [];
  }),
);

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, with every route of the API', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(operations.length).toBeGreaterThan(60);
    expect(operations.map((o) => o.route)).toEqual(
      expect.arrayContaining(['POST /api/v1/runs', 'GET /api/v1/runs/{id}/log', 'POST /api/v1/agent/runs/{runId}/logs', 'POST /api/v1/codec/decode', 'GET /api/v1/docs']),
    );
  });

  it('says for every route what it does, in which section, and what its success answer carries', () => {
    for (const { route, op } of operations) {
      expect(op.summary, route).toBeTruthy();
      expect(op.tags?.length, route).toBe(1);
      // A sign-in that ends in the web UI succeeds with a redirect (303) and no body.
      const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2') || status === '303');
      expect(success.length, route).toBeGreaterThan(0);
      for (const [status, answer] of success) {
        if (status === '204' || status === '303') expect(answer.content, route).toBeUndefined();
        else expect(Object.values(answer.content ?? {})[0]?.schema, `${route} ${status}`).toBeDefined();
      }
    }
  });

  it('answers every refusal in the one ErrorBody shape', () => {
    for (const { route, op } of operations) {
      for (const [status, answer] of Object.entries(op.responses).filter(([s]) => s.startsWith('4'))) {
        expect(answer.content?.['application/json']?.schema, `${route} ${status}`).toEqual({ $ref: '#/components/schemas/ErrorBody' });
      }
    }
  });

  it('declares every path parameter of a templated path', () => {
    for (const { route, path, op } of operations) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(op.parameters?.filter((p) => p.in === 'path').map((p) => p.name) ?? [], route).toEqual(names);
    }
  });

  it('declares who may call: agent tokens on agent routes, signatures on webhooks, nothing on public routes, a role and a scope on user routes', () => {
    expect(Object.keys(document.components?.securitySchemes ?? {}).sort()).toEqual(['agentToken', 'apiToken', 'bitbucketSignature', 'githubSignature', 'gitlabToken', 'sessionCookie']);
    // User routes take the document's default: a session or an API token.
    expect(document.security).toEqual([{ sessionCookie: [] }, { apiToken: [] }]);
    for (const { route, path, op } of operations) {
      if (path.startsWith('/api/v1/agent/')) expect(op.security, route).toEqual([{ agentToken: [] }]);
      else if (path.startsWith('/api/v1/webhooks/')) expect(op.security?.flatMap((r) => Object.keys(r)), route).toEqual(['githubSignature', 'gitlabToken', 'bitbucketSignature']);
      else if (op.security === undefined) {
        expect(Object.keys(op.responses), route).toEqual(expect.arrayContaining(['401', '403']));
        expect(op['x-drydock-access'], route).toEqual({ role: expect.stringMatching(/^(viewer|operator|maintainer|admin)$/), scope: expect.stringMatching(/^(read|run|manage)$/) });
        // Reading is the read scope, but for the agents' registration secret, which is the manage scope's.
        if (route.startsWith('GET ') && route !== 'GET /api/v1/agents/install') expect(op['x-drydock-access']?.scope, route).toBe('read');
      } else expect(op.security, route).toEqual([]);
    }
    const anyone = operations.filter((o) => o.op.security?.length === 0).map((o) => o.route);
    expect(anyone.sort()).toEqual(
      [
        'GET /api/v1/docs',
        'GET /api/v1/openapi.json',
        'GET /api/v1/schemas/manifest.json',
        'GET /health',
        'POST /api/v1/agents/register',
        'GET /api/v1/auth/status',
        'GET /api/v1/auth/negotiate',
        'POST /api/v1/auth/sign-in',
        'POST /api/v1/auth/setup',
        'POST /api/v1/auth/reset',
      ].sort(),
    );
  });

  it('documents the request body of POST /api/v1/runs: hostId required, a script or an action, an optional version', () => {
    const schema = document.components?.schemas?.StartRunBody as { required?: string[]; properties?: Record<string, unknown> };
    expect(schema.required).toEqual(['hostId']);
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['scriptId', 'actionId', 'version', 'hostId', 'params']));
  });

  it('declares the live streams as event streams and a download as bytes', () => {
    const content = (route: string) => Object.keys(operations.find((o) => o.route === route)!.op.responses['200']?.content ?? {});
    expect(content('GET /api/v1/runs/{id}/log')).toEqual(['text/event-stream']);
    expect(content('GET /api/v1/bulk/{id}/events')).toEqual(['text/event-stream']);
    expect(content('GET /api/v1/runs/{id}/artifacts/{artifactId}')).toEqual(['application/octet-stream']);
  });
});

describe('docs/api.md', () => {
  it('is what the document gives (npm run docs:api writes it)', async () => {
    expect(await readFile(API_DOC, 'utf8')).toBe(referenceMarkdown());
  });
});
