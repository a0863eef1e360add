import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { REGISTRATION_SECRET, readSse, startTestStack, type TestStack } from '../support/stack.ts';

/** Running, as opposed to gone or a zombie waiting for an init that may never reap it. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

function collectPayloads(node: unknown, out: { metadata?: Record<string, Uint8Array>; data?: Uint8Array }[]): void {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
  if ('payloads' in node && Array.isArray(node.payloads)) out.push(...(node.payloads as typeof out));
  if ('indexedFields' in node) return;
  for (const value of Object.values(node)) collectPayloads(value, out);
}

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
});

describe('a run started over HTTP', () => {
  test('streams its log over SSE in order and ends succeeded', async () => {
    const run = await stack.startRun('echo-params', { message: 'hello', count: 2 });
    // The worker may have begun the run before the API reads the row back to answer.
    expect(['queued', 'running']).toContain(run.status);
    expect(run.workflowId).toBe(`run/${run.id}`);

    const events = await readSse(`${stack.config.apiUrl}/api/v1/runs/${run.id}/log`, { headers: stack.adminHeaders() });
    const logs = events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data) as { seq: number; stream: string; line: string });
    expect(logs.map((l) => l.seq)).toEqual(logs.map((_, i) => i));
    expect(logs.map((l) => l.line)).toContain('message=hello');
    expect(logs.find((l) => l.line === 'to stderr')?.stream).toBe('stderr');
    expect(logs.at(-1)?.line).toMatch(/^exited with code 0 after/);

    const end = events.at(-1)!;
    expect(end.event).toBe('end');
    const final = JSON.parse(end.data);
    expect(final).toMatchObject({ status: 'succeeded', exitCode: 0, attempts: 1, initiator: { name: stack.admin.email } });
    expect(final.durationMs).toBeGreaterThanOrEqual(0);
    expect(final.temporalUrl).toContain(`/namespaces/${stack.config.TEMPORAL_NAMESPACE}/workflows/run%2F${run.id}/`);
  });

  test('an SSE client that reconnects with Last-Event-ID gets only the lines after it', async () => {
    const run = await stack.startRun('echo-params', { message: 'resume' });
    await stack.waitForRun(run.id);
    const events = await readSse(`${stack.config.apiUrl}/api/v1/runs/${run.id}/log`, { headers: { ...stack.adminHeaders(), 'last-event-id': '1:5' } });
    const seqs = events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).seq as number);
    expect(seqs[0]).toBe(6);
    expect(events.at(-1)?.event).toBe('end');
  });

  test('parameters full of shell metacharacters arrive verbatim and execute nothing', async () => {
    const marker = `/tmp/drydock-injection-${randomBytes(4).toString('hex')}`;
    const message = `$(touch ${marker}) \`touch ${marker}\` "double" 'single' ; touch ${marker} | & > <`;
    const notes = `line one\n$(touch ${marker})\nline three`;
    const run = await stack.startRun('echo-params', { message, notes });
    const final = await stack.waitForRun(run.id);
    expect(final.status).toBe('succeeded');
    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines).toContain(`message=${message}`);
    expect(lines).toContain(`arg=--message=${message}`);
    expect(lines).toContain('notes=line one');
    expect(lines).toContain(`$(touch ${marker})`);
    expect(existsSync(marker)).toBe(false);
  });

  test('a secret never appears in clear in the log, the run record, the audit log or Temporal history, decoded or not', async () => {
    const secret = `s3cr3t-${randomBytes(6).toString('hex')}`;
    const run = await stack.startRun('echo-params', { token: secret });
    expect(run.params.token).toBe('••••••');
    await stack.waitForRun(run.id);

    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines.some((l) => l.includes('echoing it is masked: ••••••'))).toBe(true);
    expect(lines.join('\n')).not.toContain(secret);
    expect(lines.some((l) => l.startsWith('arg=--token'))).toBe(false);

    const [row] = await sql`select params::text as p from runs where id = ${run.id}`;
    expect(row!.p).not.toContain(secret);
    const audit = await sql`select coalesce(detail::text, '') || resource as t from audit_log`;
    expect(audit.map((a) => a.t).join('\n')).not.toContain(secret);
    // Its sealed value went with the run.
    const [held] = await sql`select count(*)::int as n from run_secrets where run_id = ${run.id}`;
    expect(held!.n).toBe(0);

    // The payload codec encrypts workflow and activity inputs: the raw history holds no clear secret.
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const client = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE });
      const history = await client.workflow.getHandle(run.workflowId).fetchHistory();
      const payloads: { metadata?: Record<string, Uint8Array>; data?: Uint8Array }[] = [];
      collectPayloads(history, payloads);
      expect(payloads.length).toBeGreaterThan(5);
      for (const p of payloads) expect(Buffer.from(p.data ?? []).toString('latin1')).not.toContain(secret);
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(Buffer.from(started?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
      // Decoded, as Temporal Web shows it through the codec: the input names the sealed secret, never its value.
      const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
      const res = await stack.api('/api/v1/codec/decode', {
        method: 'POST',
        json: { payloads: payloads.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) })) },
      });
      expect(res.status).toBe(200);
      const decoded = ((await res.json()) as { payloads: { data?: string }[] }).payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString('utf8'));
      expect(decoded.join('\n')).not.toContain(secret);
      const input = JSON.parse(decoded[0]!) as { params: Record<string, unknown>; secretRefs: Record<string, { secretRef: string }> };
      expect(input.params).not.toHaveProperty('token');
      expect(input.secretRefs.token?.secretRef).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await connection.close();
    }
  });

  test('a script that exits non-zero fails the run with its exit code and the tail of stderr', async () => {
    const run = await stack.startRun('fail', { code: 3 });
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(final.error).toContain('exited with code 3');
    expect(final.error).toContain('something went wrong: disk quota exceeded');
    // An expected outcome is one line in each process's output, never a stack trace.
    for (const name of ['agent', 'worker'] as const) {
      const output = stack.processes[name]!.output;
      // The run row is final a moment before the processes say so.
      await expect.poll(() => output.filter((line) => line.includes(run.id)), { timeout: 10_000 }).toHaveLength(1);
      expect(output.filter((line) => /^\s+at /.test(line)), name).toEqual([]);
    }
  });

  test('a script that outlives its timeout is killed and the run says so', async () => {
    const run = await stack.startRun('slow-timeout');
    const final = await stack.waitForRun(run.id);
    expect(final.status).toBe('timed_out');
    expect(final.error).toBe('timed out after 2 s');
    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines).toContain('starting a long job');
    expect(lines).not.toContain('never printed');
  });

  test('cancel kills the process tree on the host and ends the run as cancelled', async () => {
    const run = await stack.startRun('sleep', { seconds: 60 });
    const childLine = await stack.waitForLine(run.id, /^child pid \d+$/);
    await stack.waitForLine(run.id, /^tick 1$/);
    const childPid = Number(childLine.line.split(' ').at(-1));
    expect(alive(childPid)).toBe(true);

    const res = await stack.api(`/api/v1/runs/${run.id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(202);
    const final = await stack.waitForRun(run.id, (r) => r.status === 'cancelled', 20_000);
    expect(final.error).toBe('cancelled by request');
    expect(alive(childPid)).toBe(false);

    const again = await stack.api(`/api/v1/runs/${run.id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    const [audit] = await sql`select action, resource, result from audit_log where action = 'run.cancel' and resource = ${`run:${run.id}`} order by id limit 1`;
    expect(audit).toMatchObject({ action: 'run.cancel', result: 202 });
  });
});

describe('bad input starts nothing', () => {
  test('invalid parameters get 400 with one message per field, and no run', async () => {
    const [{ n: before }] = (await sql`select count(*)::int as n from runs`) as unknown as [{ n: number }];
    const res = await stack.api('/api/v1/runs', {
      method: 'POST',
      json: { scriptId: 'echo-params', hostId: 'local', params: { count: 1000, level: 'extreme', ratio: 'half', bogus: 1 } },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; fields: Record<string, string[]> } };
    expect(body.error.code).toBe('invalid');
    expect(body.error.fields.count).toEqual(['Count must be at most 100']);
    expect(body.error.fields.level?.[0]).toContain('must be one of: low, medium, high');
    expect(body.error.fields.ratio).toEqual(['Ratio must be a number']);
    expect(body.error.fields._?.[0]).toContain('unknown parameter: bogus');
    const [{ n: after }] = (await sql`select count(*)::int as n from runs`) as unknown as [{ n: number }];
    expect(after).toBe(before);
  });

  test('an empty required text is refused, as the run form refuses it, though the manifest has a default', async () => {
    const res = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'echo-params', hostId: 'local', params: { message: ' ' } } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { fields: Record<string, string[]> } }).error.fields).toEqual({ message: ['Message is required'] });
  });

  test('an unknown script or host is a 404 that names it', async () => {
    const script = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'no-such-script', hostId: 'local', params: {} } });
    expect(script.status).toBe(404);
    expect(((await script.json()) as { error: { message: string } }).error.message).toBe('script no-such-script was not found');
    const host = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'true', hostId: 'nowhere', params: {} } });
    expect(host.status).toBe(404);
    expect(((await host.json()) as { error: { message: string } }).error.message).toBe('host nowhere was not found');
  });

  test('a malformed body is a 400 that names the field', async () => {
    const res = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'Bad Id!', hostId: 'local' } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { fields: Record<string, string[]> } };
    expect(Object.keys(body.error.fields)).toEqual(['scriptId']);
  });
});

describe('hosts and agents', () => {
  test('a run on a host whose agent is offline fails within the bound, naming the host', async () => {
    const reg = await stack.api('/api/v1/agents/register', {
      method: 'POST',
      json: { registrationSecret: REGISTRATION_SECRET, hostName: 'ghost' },
    });
    expect(reg.status).toBe(201);
    const run = await stack.startRun('true', {}, 'ghost');
    const final = await stack.waitForRun(run.id, undefined, 30_000);
    expect(final.status).toBe('failed');
    expect(final.error).toBe('host ghost is offline: no agent picked up the run');
  });

  test('registration needs the secret; agent routes need an agent token; agent tokens never open user routes', async () => {
    const bad = await stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: 'wrong', hostName: 'intruder' } });
    expect(bad.status).toBe(401);
    expect((await stack.anonymous('/api/v1/agent/me')).status).toBe(401);

    const reg = await stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: REGISTRATION_SECRET, hostName: 'spare' } });
    const { token } = (await reg.json()) as { token: string };
    const me = await stack.api('/api/v1/agent/me', { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toMatchObject({ hostId: 'spare' });
    expect((await stack.api('/api/v1/runs', { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);

    const [stored] = await sql`select token_hash from agents where host_id = 'spare' and revoked_at is null`;
    expect(stored!.token_hash).not.toBe(token);
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);

    const audit = await sql`select action, result from audit_log where resource = 'host:intruder'`;
    expect(audit).toEqual([{ action: 'agent.register', result: 401 }]);
  });

  test('the local agent shows online in the host list, from its heartbeats and its Temporal poller', async () => {
    const res = await stack.api('/api/v1/hosts');
    const { hosts } = (await res.json()) as { hosts: { id: string; online: boolean; pollers: number | null }[] };
    expect(hosts.find((h) => h.id === 'local')).toMatchObject({ online: true, pollers: 1 });
    // A registered host whose agent never started: no heartbeat, no poller.
    expect(hosts.find((h) => h.id === 'spare')).toMatchObject({ online: false, pollers: 0, status: 'unreachable' });
  });

  test('the local agent is busy while a run runs on it, and idle once it is over', async () => {
    const local = async () => (await (await stack.api('/api/v1/hosts/local')).json()) as { status: string; runningRuns: number };
    const run = await stack.startRun('sleep', { seconds: 60 });
    await stack.waitForLine(run.id, /^tick 1$/);
    expect(await local()).toMatchObject({ status: 'busy', runningRuns: 1 });
    expect((await stack.api(`/api/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
    await stack.waitForRun(run.id);
    // The agent's next heartbeat (10 s apart) says it runs nothing any more.
    await vi.waitFor(async () => expect(await local()).toMatchObject({ status: 'idle', runningRuns: 0 }), { timeout: 20_000, interval: 250 });
  });
});

describe('catalog and system routes', () => {
  test('lists scripts with their parameter schema', async () => {
    const { scripts, problems } = (await (await stack.api('/api/v1/scripts')).json()) as {
      scripts: { id: string; parameters: { name: string; type: string }[] }[];
      problems: unknown[];
    };
    expect(problems).toEqual([]);
    const echo = scripts.find((s) => s.id === 'echo-params');
    expect(echo?.parameters.map((p) => p.type)).toEqual(['string', 'multiline', 'integer', 'number', 'boolean', 'enum', 'secret']);
    expect((await stack.api('/api/v1/scripts/nope')).status).toBe(404);

    const one = (await (await stack.api('/api/v1/scripts/echo-params')).json()) as {
      parametersJsonSchema: { properties: Record<string, { type?: string; maximum?: number; enum?: string[] }>; additionalProperties: boolean; required?: string[] };
    };
    expect(one.parametersJsonSchema.properties.count).toMatchObject({ type: 'integer', maximum: 100 });
    expect(one.parametersJsonSchema.properties.level?.enum).toEqual(['low', 'medium', 'high']);
    expect(one.parametersJsonSchema.required).toEqual(['message']);
    expect(one.parametersJsonSchema.additionalProperties).toBe(false);
  });

  test('health reports the database and Temporal', async () => {
    const res = await stack.api('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
  });
});
