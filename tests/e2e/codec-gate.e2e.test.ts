import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codecFromConfig, dataConverterFromConfig, SearchAttr } from '@drydock/temporal';
import { CODEC_KEY, startTestStack, type TestStack } from '../support/stack.ts';

// The codec endpoint Temporal Web calls: it decodes a payload only for a member of the team whose workflow
// the payload was sealed for, answers Temporal Web's origin with credentials, and no other origin.

let stack: TestStack;
let connection: Connection;
let client: Client;
const started: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ processes: ['api'] });
  connection = await Connection.connect({ address: stack.config.temporalAddress });
  const keys = { DRYDOCK_CODEC_KEY: CODEC_KEY, DRYDOCK_CODEC_KEY_ID: stack.config.DRYDOCK_CODEC_KEY_ID };
  client = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE, dataConverter: dataConverterFromConfig(keys) });
});
afterAll(async () => {
  for (const id of started) await client.workflow.getHandle(id).terminate('test over').catch(() => {});
  await connection?.close();
  await stack?.teardown();
});

const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
const wire = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) });

/** A workflow of `team` that nobody runs, with a parameter in its input; its input payload as Temporal stores it. */
async function workflowOf(team: string): Promise<{ workflowId: string; payload: Payload }> {
  const workflowId = `run/codec-${team}-${randomBytes(4).toString('hex')}`;
  await client.workflow.start('scriptRunWorkflow', {
    taskQueue: `nobody-${randomBytes(4).toString('hex')}`,
    workflowId,
    args: [{ note: `a parameter of team ${team}` }],
    typedSearchAttributes: [{ key: SearchAttr.Team, value: team }],
  });
  started.push(workflowId);
  const history = await new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE }).workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  expect(payload).toBeDefined();
  return { workflowId, payload: payload as Payload };
}

const decode = (payloads: Payload[], headers: Record<string, string> = {}) =>
  stack.api('/api/v1/codec/decode', { method: 'POST', json: { payloads: payloads.map(wire) }, headers: { 'x-namespace': stack.config.TEMPORAL_NAMESPACE, ...headers } });

describe('the codec gate', () => {
  test('a payload is sealed with its workflow, and decodes for a member of that workflow’s team', async () => {
    const { workflowId, payload } = await workflowOf('default');
    // Nobody can read or relabel the owner: it travels inside the ciphertext.
    expect(Buffer.from(payload.data ?? []).toString('latin1')).not.toContain(workflowId);
    expect(codecFromConfig({ DRYDOCK_CODEC_KEY: CODEC_KEY, DRYDOCK_CODEC_KEY_ID: stack.config.DRYDOCK_CODEC_KEY_ID })!.open(payload).workflowId).toBe(workflowId);

    const res = await decode([payload]);
    expect(res.status).toBe(200);
    const [decoded] = ((await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
    expect(JSON.parse(Buffer.from(decoded!.data, 'base64').toString('utf8'))).toEqual({ note: 'a parameter of team default' });
    // Temporal Web sees the payload as it was written, without the codec's own label.
    expect(Object.keys(decoded!.metadata)).toEqual(['encoding']);
  });

  test("another team's payload is refused, alone or among the caller's own, and nothing of it is shown", async () => {
    const own = await workflowOf('default');
    const theirs = await workflowOf('other-team');
    for (const payloads of [[theirs.payload], [own.payload, theirs.payload]]) {
      const res = await decode(payloads);
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'forbidden', message: `payload ${payloads.length - 1} belongs to a workflow of a team you are not a member of; sign in as a member of that team to read it` } });
      expect(text).not.toContain('a parameter of team');
    }
  });

  test('a workflow that does not exist owns nothing: its payload is refused', async () => {
    const { workflowId, payload } = await workflowOf('default');
    await client.workflow.getHandle(workflowId).terminate('gone');
    // Another namespace's workflow id, or one that never existed, reads as the same refusal.
    const sealedForNobody = (await codecFromConfig({ DRYDOCK_CODEC_KEY: CODEC_KEY, DRYDOCK_CODEC_KEY_ID: stack.config.DRYDOCK_CODEC_KEY_ID })!.encode([payload], { type: 'workflow', namespace: 'x', workflowId: 'run/never-started' }))[0]!;
    expect((await decode([sealedForNobody])).status).toBe(403);
  });

  test('a payload sealed without a workflow belongs to the first team, as every workflow did before teams', async () => {
    const codec = codecFromConfig({ DRYDOCK_CODEC_KEY: CODEC_KEY, DRYDOCK_CODEC_KEY_ID: stack.config.DRYDOCK_CODEC_KEY_ID })!;
    const [old] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"from before teams"') }]);
    const res = await decode([old!]);
    expect(res.status).toBe(200);
  });

  test('another namespace is refused', async () => {
    const { payload } = await workflowOf('default');
    const res = await decode([payload], { 'x-namespace': 'someone-elses' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(`this codec serves namespace ${stack.config.TEMPORAL_NAMESPACE}, not someone-elses`);
  });

  test("CORS answers Temporal Web's origin with credentials, and no other origin", async () => {
    const preflight = (origin: string) =>
      stack.api('/api/v1/codec/decode', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
      });
    const web = await preflight('http://localhost:8233');
    expect(web.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(web.headers.get('access-control-allow-credentials')).toBe('true');
    expect(web.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the codec with accounts on', () => {
  let accounts: TestStack;
  beforeAll(async () => {
    accounts = await startTestStack({ processes: ['api'], setup: false });
  });
  afterAll(async () => {
    await accounts?.teardown();
  });

  test('an anonymous caller, or one with a session that does not exist, gets 401 and nothing decoded', async () => {
    const codec = codecFromConfig({ DRYDOCK_CODEC_KEY: CODEC_KEY, DRYDOCK_CODEC_KEY_ID: accounts.config.DRYDOCK_CODEC_KEY_ID })!;
    const [sealed] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"anyone?"') }]);
    for (const headers of [{}, { cookie: 'drydock_session=forged' }, { authorization: 'Bearer ddp_forged' }]) {
      const res = await accounts.api('/api/v1/codec/decode', { method: 'POST', json: { payloads: [wire(sealed!)] }, headers: { origin: 'http://localhost:8233', ...headers } });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(await res.text()).not.toContain('anyone?');
    }
  });
});
