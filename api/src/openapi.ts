import { z } from 'zod';
import { AgentRegisterBodySchema, LogBatchBodySchema, RunListQuerySchema, StartRunBodySchema } from '@drydock/core';

type Operation = { summary: string; tags: string[]; body?: z.ZodType; query?: z.ZodObject; responses: Record<string, string>; security?: 'agent' | 'none'; sse?: boolean };

const ERR = { '400': 'invalid input: one message per field', '401': 'not signed in', '404': 'not found' };

/** Every route of the API, by OpenAPI path; a test holds this list and the Hono router to the same set. */
export const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/health': { get: { summary: 'Liveness of the API, its database and Temporal', tags: ['system'], security: 'none', responses: { '200': 'healthy', '503': 'a dependency is down' } } },
  '/api/v1/openapi.json': { get: { summary: 'This document', tags: ['system'], security: 'none', responses: { '200': 'OpenAPI 3.1' } } },
  '/api/v1/me': { get: { summary: 'The signed-in user', tags: ['users'], responses: { '200': 'user' } } },
  '/api/v1/scripts': { get: { summary: 'Catalog scripts, with manifest problems', tags: ['catalog'], responses: { '200': 'scripts and problems' } } },
  '/api/v1/scripts/{id}': { get: { summary: 'One script with its parameter schema', tags: ['catalog'], responses: { '200': 'script', ...ERR } } },
  '/api/v1/hosts': { get: { summary: 'Registered hosts and whether their agent is online', tags: ['hosts'], responses: { '200': 'hosts' } } },
  '/api/v1/runs': {
    get: { summary: 'Run history: filters, sort, cursor pagination', tags: ['runs'], query: RunListQuerySchema, responses: { '200': 'a page of runs', ...ERR } },
    post: { summary: 'Start a run of a script on a host', tags: ['runs'], body: StartRunBodySchema, responses: { '201': 'run started', ...ERR } },
  },
  '/api/v1/runs/{id}': { get: { summary: 'One run', tags: ['runs'], responses: { '200': 'run', ...ERR } } },
  '/api/v1/runs/{id}/cancel': { post: { summary: 'Cancel a run; its process tree is killed', tags: ['runs'], responses: { '202': 'cancellation requested', '409': 'run already ended', ...ERR } } },
  '/api/v1/runs/{id}/lines': { get: { summary: 'All log lines so far', tags: ['runs'], responses: { '200': 'lines', ...ERR } } },
  '/api/v1/runs/{id}/log': {
    get: { summary: 'Live log (SSE): `log`, `status` and `end` events; honours Last-Event-ID', tags: ['runs'], sse: true, responses: { '200': 'text/event-stream', ...ERR } },
  },
  '/api/v1/agents/register': {
    post: { summary: 'Register an agent with the registration secret; returns its token', tags: ['agents'], security: 'none', body: AgentRegisterBodySchema, responses: { '201': 'host id and agent token', ...ERR } },
  },
  '/api/v1/agent/me': { get: { summary: "The calling agent's identity", tags: ['agents'], security: 'agent', responses: { '200': 'agent', '401': 'unknown or revoked token' } } },
  '/api/v1/agent/heartbeat': { post: { summary: 'Agent liveness', tags: ['agents'], security: 'agent', responses: { '204': 'recorded', '401': 'unknown or revoked token' } } },
  '/api/v1/agent/runs/{runId}/logs': {
    post: { summary: 'A batch of log lines of a run on the agent’s host (idempotent by attempt and seq)', tags: ['agents'], security: 'agent', body: LogBatchBodySchema, responses: { '204': 'stored', ...ERR } },
  },
  '/api/v1/codec/decode': { post: { summary: 'Remote payload codec for Temporal Web: decrypt', tags: ['system'], responses: { '200': 'payloads' } } },
  '/api/v1/codec/encode': { post: { summary: 'Remote payload codec for Temporal Web: encrypt', tags: ['system'], responses: { '200': 'payloads' } } },
};

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(OPERATIONS)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      if (op.query) {
        const schema = z.toJSONSchema(op.query, { io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, s] of Object.entries(schema.properties ?? {})) params.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: s as { type: string } });
      }
      paths[path][method] = {
        summary: op.summary,
        tags: op.tags,
        ...(params.length > 0 ? { parameters: params } : {}),
        ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input' }) } } } } : {}),
        responses: Object.fromEntries(
          Object.entries(op.responses).map(([code, description]) => [code, { description, ...(op.sse && code === '200' ? { content: { 'text/event-stream': {} } } : {}) }]),
        ),
        security: op.security === 'none' ? [] : op.security === 'agent' ? [{ agentToken: [] }] : [{ session: [] }],
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Drydock API', version: '1.0.0', description: 'Run catalog scripts on hosts, durably, on Temporal.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        agentToken: { type: 'http', scheme: 'bearer', description: 'agent token from /api/v1/agents/register' },
        session: { type: 'http', scheme: 'bearer', description: 'user session (local mode signs in the local admin)' },
      },
    },
    paths,
  };
}
