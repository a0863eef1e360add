import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually, REGISTRATION_SECRET, startTestStack, type TestStack } from '../support/stack.ts';

// The API answers as its OpenAPI document says: every route it documents is served, answers with a status it
// documents and a body that validates against the schema documented for that status, and lets in whom it says.

type Media = Record<string, { schema?: object }>;
type Operation = { security?: Record<string, string[]>[]; responses: Record<string, { content?: Media }> };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, object> } };

let stack: TestStack;
let document: Document;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);

const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op, route: `${method.toUpperCase()} ${path}` })),
  );

/** A real path for a templated one: ids nothing has, so routes answer without changing anything. */
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '01a2b3c4-0000-7000-8000-000000000000');

/** Asserts that `res` is an answer the document gives for `route`, and returns its JSON body. */
async function documented(route: string, res: Response): Promise<unknown> {
  const [method, path] = route.split(' ') as [string, string];
  const op = document.paths[path]?.[method.toLowerCase()];
  expect(op, `${route} is documented`).toBeDefined();
  const answer = op!.responses[String(res.status)];
  const text = await res.text();
  expect(answer, `${route} answered ${res.status}, which it does not document: ${text.slice(0, 300)}`).toBeDefined();
  const schema = answer!.content?.['application/json']?.schema;
  if (!schema) return text;
  const body: unknown = JSON.parse(text);
  const valid = ajv.validate(rebase(schema) as object, body);
  expect(valid, `${route} ${res.status}: ${ajv.errorsText(ajv.errors)}\n${text.slice(0, 500)}`).toBe(true);
  return body;
}

/** The document's own references (`#/components/…`), pointed at the copy of it this test fetched. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? `openapi.json${v}` : rebase(v)]));
  }
  return value;
}

beforeAll(async () => {
  stack = await startTestStack();
  document = (await (await stack.api('/api/v1/openapi.json')).json()) as Document;
  ajv.addSchema(document as object, 'openapi.json');
  await eventually(async () => (await stack.api('/api/v1/hosts/local')).status, (status) => status === 200, { interval: 250, message: 'the local agent has not registered 30 s after start' });
});
afterAll(async () => {
  await stack?.teardown();
});

describe('every route in the OpenAPI document', () => {
  test('is served, and answers a request without a body with a status and a body it documents', async () => {
    expect(operations().length).toBeGreaterThan(60);
    for (const { method, path, route } of operations()) {
      const res = await stack.api(concrete(path), { method });
      const body = await documented(route, res);
      if (res.status === 404) expect((body as { error: { message: string } }).error.message, route).not.toMatch(/^no route/);
    }
  });

  test('lets in whom it documents: agent routes need an agent token, user routes refuse a token this API does not know', async () => {
    for (const { method, path, op, route } of operations()) {
      const names = op.security?.flatMap((r) => Object.keys(r));
      if (names?.includes('agentToken')) {
        const res = await stack.anonymous(concrete(path), { method });
        expect(res.status, route).toBe(401);
        await documented(route, res);
      } else if (op.security === undefined) {
        const res = await stack.api(concrete(path), { method, headers: { authorization: 'Bearer not-a-token-of-this-api' } });
        expect(res.status, route).toBe(401);
        await documented(route, res);
        const agentToken = await stack.api(concrete(path), { method, headers: { authorization: 'Bearer dda_an-agent-token' } });
        expect(agentToken.status, route).toBe(403);
      } else if (op.security.length === 0) {
        const res = await stack.api(concrete(path), { method });
        expect([401, 403], route).not.toContain(res.status);
      }
    }
  });
});

describe('the answers of a working stack validate against their documented schemas', () => {
  test('a run: started, read, listed, its lines and its artifacts', async () => {
    const started = (await documented('POST /api/v1/runs', await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'echo-params', hostId: 'local', params: { message: 'hi', token: 's3cret' } } }))) as { id: string };
    await stack.waitForRun(started.id);
    await documented('GET /api/v1/runs/{id}', await stack.api(`/api/v1/runs/${started.id}`));
    await documented('GET /api/v1/runs', await stack.api('/api/v1/runs?limit=5'));
    const { lines } = (await documented('GET /api/v1/runs/{id}/lines', await stack.api(`/api/v1/runs/${started.id}/lines`))) as { lines: unknown[] };
    expect(lines.length).toBeGreaterThan(0);
    await documented('GET /api/v1/runs/{id}/artifacts', await stack.api(`/api/v1/runs/${started.id}/artifacts`));
  });

  test('the catalog, a script, its versions, the actions and the repositories', async () => {
    await documented('GET /api/v1/scripts', await stack.api('/api/v1/scripts'));
    await documented('GET /api/v1/scripts/{id}', await stack.api('/api/v1/scripts/every-parameter-type'));
    await documented('GET /api/v1/scripts/{id}/versions', await stack.api('/api/v1/scripts/echo-params/versions'));
    const manifest = { id: 'say-hi', name: 'Say hi', command_template: 'echo {{who}}', parameters: [{ name: 'who', type: 'string', default: 'you' }] };
    await documented('POST /api/v1/actions', await stack.api('/api/v1/actions', { method: 'POST', json: manifest }));
    await documented('GET /api/v1/actions', await stack.api('/api/v1/actions'));
    await documented('GET /api/v1/actions/{id}/validate', await stack.api('/api/v1/actions/say-hi/validate'));
    await documented('GET /api/v1/repositories', await stack.api('/api/v1/repositories'));
    await documented('GET /api/v1/repositories/{id}', await stack.api('/api/v1/repositories/local-catalog'));
  });

  test('hosts with their liveness, a lock taken and released, a bulk execution, an agent', async () => {
    const { hosts } = (await documented('GET /api/v1/hosts', await stack.api('/api/v1/hosts'))) as { hosts: { id: string; metrics: unknown }[] };
    expect(hosts.find((h) => h.id === 'local')?.metrics).not.toBeNull();
    const taken = (await documented('POST /api/v1/locks/{hostId}', await stack.api('/api/v1/locks/local', { method: 'POST', json: { reason: 'contract check' } }))) as {
      lease: { leaseId: string };
    };
    await documented('GET /api/v1/locks/{hostId}', await stack.api('/api/v1/locks/local'));
    await documented('POST /api/v1/locks/{hostId}/release', await stack.api('/api/v1/locks/local/release', { method: 'POST', json: { leaseId: taken.lease.leaseId } }));

    const bulk = (await documented('POST /api/v1/bulk', await stack.api('/api/v1/bulk', { method: 'POST', json: { scriptId: 'true', selector: { hostIds: ['local'] } } }))) as { id: string };
    await documented('GET /api/v1/bulk/{id}/hosts', await stack.api(`/api/v1/bulk/${bulk.id}/hosts`));
    await documented('GET /api/v1/bulk', await stack.api('/api/v1/bulk'));

    const registered = (await documented(
      'POST /api/v1/agents/register',
      await stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: REGISTRATION_SECRET, hostName: 'contract-1' } }),
    )) as { token: string };
    await documented('GET /api/v1/agent/me', await stack.api('/api/v1/agent/me', { headers: { authorization: `Bearer ${registered.token}` } }));
    await documented('GET /api/v1/agents/install', await stack.api('/api/v1/agents/install'));
  });
});
