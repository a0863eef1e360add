import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REGISTRATION_SECRET, startTestStack, type TestStack } from '../support/stack.ts';

/**
 * Property-based fuzzing of every operation the API documents (`/api/v1/openapi.json`): malformed and extreme
 * values in every path, query and body field. Whatever comes in, the API answers with less than 500, never shows
 * a stack or a database error, and is the same process at the end.
 */

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  minItems?: number;
}
interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  query: { name: string; schema: JsonSchema }[];
  body: JsonSchema | undefined;
}
interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}

const RUNS_PER_OPERATION = 25;
const SECONDS_PER_OPERATION = 10;
const MAX_HEADER_BYTES = 16 * 1024;
const STACK_TRACE = /\bat (async )?[\w.$<>[\]]+ \(|\bat (file|node):|\w\.(ts|js|mjs):\d+:\d+/;
const DATABASE_TEXT =
  /syntax error at or near|invalid input syntax for|violates [\w-]+ constraint|value too long for type|out of range for type|invalid byte sequence for encoding|index row size|relation "[^"]+" does not exist|column "[^"]+" (of relation|does not exist)|PostgresError|\bselect\b[^\n]*\bfrom "/i;

let stack: TestStack;
let operations: Operation[];
let agentToken: string;
let apiPid: number | undefined;
const known: string[] = ['local', 'echo-params', 'local-catalog', 'default'];

beforeAll(async () => {
  stack = await startTestStack();
  apiPid = stack.processes.api?.pid;
  const registered = await stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: REGISTRATION_SECRET, hostName: 'fuzz-agent' } });
  agentToken = ((await registered.json()) as { token: string }).token;
  known.push((await stack.startRun('echo-params', {}, 'fuzz-agent')).id);

  const document = (await (await stack.api('/api/v1/openapi.json')).json()) as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: JsonSchema }[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
  };
  operations = Object.entries(document.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
      body: op.requestBody?.content['application/json']?.schema,
    })),
  );
});

afterAll(async () => {
  await stack?.teardown();
});

/** Strings that have broken servers: NUL, lone surrogates, huge, traversal, SQL and markup, encodings, odd Unicode. */
const nastyString = fc.oneof(
  fc.constantFrom(
    '\0',
    'a\0b',
    '\ud800',
    'x\udfffy',
    '',
    ' ',
    '../../../etc/passwd',
    "' or '1'='1' --",
    '%',
    '%00',
    '%zz',
    '\u202eevil',
    'e\u0301\u0301\u0301',
    '__proto__',
    'constructor',
    '<script>alert(1)</script>',
    '-1',
    '1e309',
    'NaN',
    '9'.repeat(400),
    'refs/heads/main',
    '2026-13-45T25:61:61Z',
    '00000000-0000-0000-0000-000000000000',
  ),
  fc.constantFrom('x'.repeat(100_000), '🚀'.repeat(20_000), 'é'.repeat(70_000)),
  fc.constantFrom(...known),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

const nastyNumber = fc.oneof(
  fc.constantFrom(-1, 0, 1.5, -0.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, Number.MIN_VALUE),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 2, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { '': '' }, JSON.parse('{"__proto__":{"polluted":1}}') as unknown) },
  { weight: 1, arbitrary: fc.constantFrom(nested(60), nested(500), Array.from({ length: 10_000 }, () => 'x'), Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i]))) },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, nastyString, { maxKeys: 4 }) },
);

/** A value the schema would take, so mutating one field reaches past the others' checks. */
function seed(schema: JsonSchema | undefined, name = ''): unknown {
  if (!schema) return null;
  if ('default' in schema) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const choice = schema.anyOf ?? schema.oneOf;
  if (choice?.[0]) return seed(choice[0], name);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object') return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, seed(s, k)]));
  if (type === 'array') return schema.minItems ? [seed(schema.items, name)] : [];
  if (type === 'integer' || type === 'number') return schema.minimum ?? 1;
  if (type === 'boolean') return true;
  if (/host/i.test(name)) return 'local';
  if (/script/i.test(name)) return 'echo-params';
  return 'x';
}

/** Every field path of a body schema (array items as index 0), so each field gets its turn. */
function fieldPaths(schema: JsonSchema | undefined, prefix: string[] = [], depth = 0): string[][] {
  if (!schema || depth > 4) return [];
  const object = schema.anyOf?.[0] ?? schema.oneOf?.[0] ?? schema;
  const out: string[][] = [];
  for (const [key, child] of Object.entries(object.properties ?? {})) {
    out.push([...prefix, key], ...fieldPaths(child, [...prefix, key], depth + 1));
  }
  if (object.items) out.push([...prefix, '0'], ...fieldPaths(object.items, [...prefix, '0'], depth + 1));
  return out;
}

function withField(document: unknown, path: string[], value: unknown): unknown {
  const root = structuredClone(document) as Record<string, unknown>;
  if (root === null || typeof root !== 'object') return root;
  let at: Record<string, unknown> = root;
  for (const key of path.slice(0, -1)) {
    const next = at[key];
    at = at[key] = next !== null && typeof next === 'object' ? (next as Record<string, unknown>) : {};
  }
  at[path.at(-1)!] = value;
  return root;
}

const contentTypes = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.drydock+json', 'text/plain', 'application/x-www-form-urlencoded');

function bodyArbitrary(op: Operation): fc.Arbitrary<{ body: string | Uint8Array | undefined; contentType: string | undefined }> {
  const json = (document: fc.Arbitrary<unknown>) => fc.record({ body: document.map((d) => JSON.stringify(d) ?? 'null'), contentType: contentTypes });
  const paths = fieldPaths(op.body);
  const mutated =
    paths.length > 0
      ? fc.array(fc.tuple(fc.constantFrom(...paths), nastyValue), { minLength: 1, maxLength: 3 }).map((changes) => changes.reduce((doc, [path, value]) => withField(doc, path, value), seed(op.body)))
      : fc.dictionary(nastyString, nastyValue, { maxKeys: 4 });
  return fc.oneof(
    { weight: 6, arbitrary: json(mutated) },
    { weight: 2, arbitrary: json(nastyValue) },
    { weight: 1, arbitrary: fc.record({ body: fc.constantFrom<string | Uint8Array>('{', '{"a":', '\u0000', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), contentType: contentTypes }) },
    { weight: 1, arbitrary: fc.constant({ body: undefined, contentType: undefined }) },
  );
}

/** Percent-encoding that also carries lone surrogates (as the bytes a careless encoder would send), which encodeURIComponent refuses. */
function percentEncode(text: string): string {
  let out = '';
  for (const part of text.match(/[\ud800-\udbff][\udc00-\udfff]|[\s\S]/g) ?? []) {
    const unit = part.charCodeAt(0);
    out +=
      part.length === 1 && unit >= 0xd800 && unit <= 0xdfff
        ? [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
        : encodeURIComponent(part);
  }
  return out;
}

function requestArbitrary(op: Operation): fc.Arbitrary<Sent> {
  const pathValues = fc.tuple(...op.pathParams.map(() => nastyString));
  const query = fc.tuple(
    fc.tuple(...op.query.map((q) => fc.option(fc.oneof(nastyString, nastyNumber.map(String), fc.constant(String(seed(q.schema, q.name)))), { nil: undefined }))),
    fc.option(fc.tuple(nastyString, nastyString), { nil: undefined }),
  );
  const hasBody = op.method !== 'GET' && op.method !== 'HEAD';
  const body = hasBody ? bodyArbitrary(op) : fc.constant({ body: undefined, contentType: undefined });
  return fc.tuple(pathValues, query, body).map(([values, [queryValues, extra], { body: payload, contentType }]) => {
    let path = op.path;
    op.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, percentEncode(values[i]!).replace(/^\.\.?$/, '%2E'))));
    const pairs = op.query.flatMap((q, i) => (queryValues[i] === undefined ? [] : [[q.name, queryValues[i]]]));
    if (extra) pairs.push(extra);
    const qs = pairs.map(([name, value]) => `${percentEncode(name!)}=${percentEncode(value!)}`).join('&');
    const headers: Record<string, string> = {};
    if (contentType) headers['content-type'] = contentType;
    if (op.path.startsWith('/api/v1/agent/')) headers.authorization = `Bearer ${agentToken}`;
    return { method: op.method, url: `${path}${qs ? `?${qs}` : ''}`, headers, body: payload };
  });
}

/** Sends one request and says what is wrong with the answer, or null. An event stream that opens is fine: it is closed at once. */
async function misbehaviour(sent: Sent): Promise<string | null> {
  let res: Response;
  try {
    res = await stack.api(sent.url, { method: sent.method, headers: sent.headers, body: sent.body, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    // Node's HTTP parser answers a request head past its limit (16 KiB) with 431 and closes the socket mid-send.
    if (sent.url.length > MAX_HEADER_BYTES && ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(cause ?? '')) return null;
    return `no answer: ${err instanceof Error ? `${err.name}: ${err.message} (${cause ?? 'no cause'})` : String(err)}`;
  }
  if (sent.url.length > MAX_HEADER_BYTES) return res.status === 431 || res.status === 414 ? null : `HTTP ${res.status} for a request head past 16 KiB`;
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return res.status >= 500 ? `HTTP ${res.status} (event stream)` : null;
  }
  const text = await res.text();
  if (res.status >= 500) return `HTTP ${res.status}: ${text.slice(0, 500)}`;
  // The reference documents itself in prose ("granted at once (201)"); what it says does not depend on the request.
  if (res.status === 200 && sent.url.split('?')[0] === '/api/v1/openapi.json') return null;
  if (STACK_TRACE.test(text)) return `a stack trace in the answer (HTTP ${res.status}): ${text.slice(0, 500)}`;
  if (DATABASE_TEXT.test(text)) return `database text in the answer (HTTP ${res.status}): ${text.slice(0, 500)}`;
  return null;
}

function describeBody(body: Sent['body']): string {
  if (body === undefined) return '(no body)';
  return `with body ${typeof body === 'string' ? JSON.stringify(body.slice(0, 300)) : `bytes ${Buffer.from(body).toString('hex').slice(0, 100)}`}`;
}

/** The API's own log of a failed request, found by the request id its 500 names. */
function apiLogFor(problem: string): string {
  const id = /request ([0-9a-f-]{36})/.exec(problem)?.[1];
  const output = stack.processes.api?.output ?? [];
  const at = id ? output.findIndex((line) => line.includes(id)) : -1;
  return at < 0 ? '' : `\n  API log:\n    ${output.slice(at, at + 8).join('\n    ')}`;
}

test('every documented operation survives malformed and extreme input: no 5xx, no stack, no SQL, no exit', { timeout: 240_000 }, async () => {
  expect(operations.length).toBeGreaterThan(50);
  const failures: string[] = [];
  for (const op of operations) {
    const before = failures.length;
    await fc.assert(
      fc.asyncProperty(requestArbitrary(op), async (sent) => {
        const problem = await misbehaviour(sent);
        if (problem) failures.push(`${sent.method} ${sent.url.slice(0, 200)} ${describeBody(sent.body)}: ${problem}${apiLogFor(problem)}`);
        return problem === null;
      }),
      // Bounded in count and in time: a slow machine tries fewer values, never runs long.
      { numRuns: RUNS_PER_OPERATION, endOnFailure: true, interruptAfterTimeLimit: SECONDS_PER_OPERATION * 1000, markInterruptAsFailure: false },
    ).catch((err: Error) => {
      // A misbehaving answer is already listed; anything else that failed the property is listed here.
      const seed = /seed: (-?\d+)/.exec(err.message)?.[1];
      if (failures.length === before) failures.push(`${op.method} ${op.path}: ${err.message.slice(0, 1_000)}`);
      else failures[failures.length - 1] += ` (fast-check seed ${seed})`;
    });
    expect(stack.processes.api?.running, `the API exited during ${op.method} ${op.path}`).toBe(true);
  }
  expect(failures).toEqual([]);
  expect(stack.processes.api?.pid).toBe(apiPid);
  expect((await stack.api('/health')).status).toBe(200);
});
