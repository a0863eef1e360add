import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPagerdutyDouble, type PagerdutyDouble } from '../../../../tests/support/pagerduty-double.ts';
import { createPagerdutyClient } from './pagerduty-client.ts';

// The PagerDuty double is only worth what its answers are: each one the client relies on is checked against
// PagerDuty's own OpenAPI description of its REST API v2 (the part of it in testdata/, cut from PagerDuty/api-schema).

interface Response {
  $ref?: string;
  content?: Record<string, { schema: unknown }>;
}
const spec = JSON.parse(readFileSync(new URL('testdata/pagerduty-openapi-subset.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
  components: { responses: Record<string, Response> };
};

/**
 * OpenAPI 3.0's `nullable: true` is JSON Schema's `null` type; so is a field whose description says it may be `null`
 * (`resolved_at`, "or `null` if the incident is not resolved", as the documented examples show it).
 */
function nullables(node: unknown): void {
  if (Array.isArray(node)) node.forEach(nullables);
  else if (node && typeof node === 'object') {
    const schema = node as { nullable?: boolean; type?: unknown; enum?: unknown[]; description?: unknown };
    if (schema.nullable === true || (typeof schema.description === 'string' && schema.description.includes('`null`'))) {
      if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
      if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum.push(null);
    }
    Object.values(node).forEach(nullables);
  }
}
nullables(spec);

const ajv = new Ajv({ strict: false, allErrors: true, discriminator: false });
addFormats.default(ajv);
// ajv-formats' `url` refuses loopback addresses, where the double listens.
ajv.addFormat('url', (value: string) => URL.canParse(value));
ajv.addSchema(spec as object, 'pagerduty');
const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

interface Seen {
  route: string;
  method: string;
  status: number;
  data: unknown;
}

/** The schema PagerDuty documents for the answer; an error status the operation does not list is held to the shared error body. */
function schemaFor(seen: Seen): ValidateFunction {
  const responses = spec.paths[seen.route]?.[seen.method.toLowerCase()]?.responses;
  if (!responses) throw new Error(`${seen.method} ${seen.route} is not in PagerDuty's OpenAPI description`);
  const response = responses[String(seen.status)];
  if (!response) {
    if (seen.status < 400) throw new Error(`PagerDuty documents no ${seen.status} for ${seen.method} ${seen.route}`);
    return ajv.compile({ $ref: `pagerduty#/${pointer('components', 'responses', 'ArgumentError', 'content', 'application/json', 'schema')}` });
  }
  const ref = response.$ref
    ? `pagerduty#/${pointer('components', 'responses', response.$ref.split('/').at(-1)!, 'content', 'application/json', 'schema')}`
    : `pagerduty#/${pointer('paths', seen.route, seen.method.toLowerCase(), 'responses', String(seen.status), 'content', 'application/json', 'schema')}`;
  return ajv.compile({ $ref: ref });
}

let pd: PagerdutyDouble;
const seen: Seen[] = [];

/** A fetch that records each answer under the route template PagerDuty's description names it by. */
const recording: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const url = new URL(String(input));
  const route = url.pathname.replace(/^\/incidents\/[^/]+/, '/incidents/{id}');
  const text = await res.clone().text();
  seen.push({ route, method: init?.method ?? 'GET', status: res.status, data: text === '' ? undefined : JSON.parse(text) });
  return res;
};

beforeAll(async () => {
  pd = await startPagerdutyDouble();
});
afterAll(() => pd?.close());

describe("the PagerDuty double against PagerDuty's OpenAPI description", () => {
  it('answers get, update and note, and their errors, in the documented shapes', async () => {
    const drydock = pd.addUser('Drydock', 'drydock@example.com');
    const token = pd.addToken('full');
    const client = createPagerdutyClient({ apiUrl: pd.url, token, fromEmail: drydock.email }, { fetch: recording });
    const incident = pd.trigger({ title: 'Checkout 5xx', priority: 'P1' });
    await client.getIncident(incident.id);
    await client.acknowledge(incident.id);
    await client.addNote(incident.id, 'looking');
    await client.resolve(incident.id, { resolution: 'rolled back' });
    await client.resolve(incident.id);
    await client.getIncident('PNOPE00').catch(() => undefined);
    await client.addNote(incident.id, ' ').catch(() => undefined);
    await createPagerdutyClient({ apiUrl: pd.url, token: 'u+wrong', fromEmail: drydock.email }, { fetch: recording }).getIncident(incident.id).catch(() => undefined);
    await createPagerdutyClient({ apiUrl: pd.url, token: pd.addToken('read'), fromEmail: drydock.email }, { fetch: recording }).acknowledge(incident.id).catch(() => undefined);
    pd.server.rateLimit({ status: 429, headers: { 'ratelimit-reset': '5' }, body: { error: { message: 'Rate Limit Exceeded', code: 2020 } } });
    await client.getIncident(incident.id).catch(() => undefined);

    expect(seen.map((s) => `${s.method} ${s.route} ${s.status}`)).toEqual([
      'GET /incidents/{id} 200',
      'PUT /incidents/{id} 200',
      'POST /incidents/{id}/notes 200',
      'PUT /incidents/{id} 200',
      'PUT /incidents/{id} 400',
      'GET /incidents/{id} 200',
      'GET /incidents/{id} 404',
      'POST /incidents/{id}/notes 400',
      'GET /incidents/{id} 401',
      'PUT /incidents/{id} 403',
      'GET /incidents/{id} 429',
    ]);
    for (const answer of seen) {
      const validate = schemaFor(answer);
      expect(validate(answer.data) ? [] : validate.errors, `${answer.method} ${answer.route} ${answer.status}`).toEqual([]);
    }
  });
});
