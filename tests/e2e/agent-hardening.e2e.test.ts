import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type HostView, REPO_ROOT } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

let stack: TestStack;
let sql: postgres.Sql;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  // A beat a second, so a revoked agent notices within a second.
  stack = await startTestStack({ env: { DRYDOCK_AGENT_HEARTBEAT_INTERVAL: '1' } });
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await sql?.end();
  await stack?.teardown();
});

const stateFile = () => join(stack.config.DRYDOCK_DATA_DIR, 'agents', 'local.json');
const storedToken = async () => (JSON.parse(await readFile(stateFile(), 'utf8')) as { token: string }).token;

async function agentCall(path: string, token: string, json?: unknown): Promise<Response> {
  return stack.api(`/api/v1/agent${path}`, { method: json === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}` }, json });
}

interface AgentProcess {
  output: string[];
  exitCode: Promise<number | null>;
  stop(): Promise<void>;
}

/** An agent for host `local`, started like the stack's own but with these settings changed (undefined: unset). */
async function startAgent(overrides: Record<string, string | undefined> = {}): Promise<AgentProcess> {
  const env: NodeJS.ProcessEnv = { ...stack.processes.agent!.options.env };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = spawn(process.execPath, [join(REPO_ROOT, 'agent/src/main.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let ready = false;
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      output.push(line);
      if (/agent for host local polling/.test(line)) ready = true;
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const agent: AgentProcess = {
    output,
    exitCode,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exitCode;
    },
  };
  agents.push(agent);
  let exited = false;
  void exitCode.then(() => (exited = true));
  await vi.waitFor(
    () => {
      if (exited && !ready) throw new Error(`agent exited before it was ready:\n${output.join('\n')}`);
      if (!ready) throw new Error('agent not ready yet');
    },
    { timeout: 60_000, interval: 100 },
  );
  return agent;
}

/** An agent started to fail: resolves with its exit code once it has stopped. */
async function runAgentToExit(overrides: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...stack.processes.agent!.options.env };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = spawn(process.execPath, [join(REPO_ROOT, 'agent/src/main.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

async function hostRow() {
  const [row] = await sql`select * from hosts where id = 'local'`;
  return row!;
}

const hostView = async () => (await (await stack.api('/api/v1/hosts/local')).json()) as HostView;

async function writeConfig(name: string, text: string): Promise<string> {
  const file = join(stack.config.DRYDOCK_DATA_DIR, name);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

describe('heartbeats', () => {
  test('carry host metrics, which the API stores on the host', async () => {
    await vi.waitFor(async () => expect((await hostRow()).mem_total_mb).not.toBeNull(), { timeout: 20_000 });
    const host = await hostRow();
    expect(host.load1).toBeGreaterThanOrEqual(0);
    expect(host.load5).toBeGreaterThanOrEqual(0);
    expect(host.load15).toBeGreaterThanOrEqual(0);
    expect(host.mem_total_mb).toBeGreaterThan(0);
    expect(host.mem_used_mb).toBeGreaterThan(0);
    expect(host.mem_used_mb).toBeLessThanOrEqual(host.mem_total_mb);
    expect(host.disk_total_mb).toBeGreaterThan(0);
    expect(host.disk_used_mb).toBeLessThanOrEqual(host.disk_total_mb);
    expect(host.uptime_seconds).toBeGreaterThan(0);
    expect(host.os).toMatch(/^Linux \S+$/);
    expect(host.agent_version).toBe('0.1.0');
    expect(host.running_jobs).toBe(0);

    // And the hosts API serves them.
    const view = (await (await stack.api('/api/v1/hosts/local')).json()) as { metrics: { memoryMb: { total: number }; runningJobs: number; load: number[] } | null };
    expect(view.metrics).toMatchObject({ memoryMb: { total: host.mem_total_mb }, runningJobs: 0 });
    expect(view.metrics?.load).toHaveLength(3);
  });

  test('count the jobs running on the host', async () => {
    const run = await stack.startRun('sleep', { seconds: 60 });
    await stack.waitForLine(run.id, /^tick 1$/);
    await vi.waitFor(async () => expect((await hostRow()).running_jobs).toBe(1), { timeout: 10_000 });
    expect((await stack.api(`/api/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
    await stack.waitForRun(run.id);
    await vi.waitFor(async () => expect((await hostRow()).running_jobs).toBe(0), { timeout: 10_000 });
  });

  test('from an older agent (no metrics) are still taken; an unknown key is a 400', async () => {
    const token = await storedToken();
    expect((await agentCall('/heartbeat', token, {})).status).toBe(204);
    const bad = await agentCall('/heartbeat', token, { load: { one: 0.1, five: 0.2, fifteen: 0.3 }, cpuTemperature: 71 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: Record<string, string[]> } }).error.fields._?.[0]).toContain('cpuTemperature');
  });
});

describe('agent tokens: rotated by the agent or an admin, revoked by an admin', () => {
  beforeAll(async () => {
    // From here on each test starts its own agent for `local`, so it can watch it exit.
    await stack.processes.agent!.stop();
  });

  test('the agent rotates its own token on schedule: the old one is refused at once, the agent goes on with the new one', async () => {
    const before = await storedToken();
    // Every 3.6 s.
    const agent = await startAgent({ DRYDOCK_AGENT_TOKEN_ROTATION_HOURS: '0.001' });
    await vi.waitFor(async () => expect(await storedToken()).not.toBe(before), { timeout: 15_000 });
    expect((await stat(stateFile())).mode & 0o777).toBe(0o600);

    const old = await agentCall('/me', before);
    expect(old.status).toBe(401);
    expect(((await old.json()) as { error: { message: string } }).error.message).toContain('was replaced by a newer one at');

    // Runs go on across rotations: log batches in flight with a token just replaced are sent again with the new one.
    for (const params of [{ seconds: 5 }, { seconds: 1 }]) {
      const run = await stack.startRun('sleep', params);
      expect(await stack.waitForRun(run.id)).toMatchObject({ status: 'succeeded' });
    }
    expect(agent.output.join('\n')).toContain('rotated the agent token of host local; the old one no longer works');
    expect(agent.output.join('\n')).not.toContain('refused');
    const audit = await sql`select distinct actor_name, result from audit_log where action = 'agent.token.rotate'`;
    expect(audit).toEqual([{ actor_name: 'agent:local', result: 201 }]);
    await agent.stop();
    expect(await agent.exitCode).toBe(0);
  });

  test('rotate: the running agent stops at once; the new token in its config file brings it back without registering', async () => {
    const old = await startAgent();
    const res = await stack.api('/api/v1/agents/hosts/local/rotate', { method: 'POST' });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as { token: string; agentId: string; revokedTokens: number };
    expect(issued.revokedTokens).toBe(1);

    expect(await old.exitCode).toBe(77);
    expect(old.output.join('\n')).toContain("the API refused this agent's token for host local (HTTP 401: the agent token of host local was replaced by a newer one");

    const config = await writeConfig('agent-rotated.yaml', `server_id: local\ntoken: ${issued.token}\n`);
    const renewed = await startAgent({ DRYDOCK_AGENT_CONFIG: config, DRYDOCK_AGENT_REGISTRATION_SECRET: undefined });
    const run = await stack.startRun('true');
    expect(await stack.waitForRun(run.id)).toMatchObject({ status: 'succeeded' });
    const active = await sql`select id from agents where host_id = 'local' and revoked_at is null`;
    expect(active.map((a) => a.id)).toEqual([issued.agentId]);
    expect(await storedToken()).toBe(issued.token);
    await renewed.stop();

    const [audit] = await sql`select actor_name, result, detail from audit_log where action = 'agent.rotate' order by id desc limit 1`;
    expect(audit).toMatchObject({ actor_name: stack.admin.email, result: 201, detail: { agentId: issued.agentId, revokedTokens: 1 } });
    expect(JSON.stringify(audit)).not.toContain(issued.token);
  });

  test('revoke: the agent exits, the host takes no more runs, and the registration secret does not let it back in', async () => {
    const agent = await startAgent();
    const res = await stack.api('/api/v1/agents/hosts/local/revoke', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hostId: 'local', revokedTokens: 1 });

    expect(await agent.exitCode).toBe(77);
    expect(agent.output.join('\n')).toContain("the API refused this agent's token for host local (HTTP 401: an admin revoked the agent token of host local");
    const lastSeen = (await hostRow()).last_seen_at as Date;

    const run = await stack.startRun('true');
    const final = await stack.waitForRun(run.id, undefined, 30_000);
    expect(final).toMatchObject({ status: 'failed', error: 'host local is offline: no agent picked up the run' });
    expect(((await hostRow()).last_seen_at as Date).getTime()).toBe(lastSeen.getTime());
    // The hosts page says a person must act, and what to do.
    expect(await hostView()).toMatchObject({ status: 'error', lastError: { message: expect.stringContaining('an admin revoked the agent token of host local') } });

    const again = await runAgentToExit({});
    expect(again.code).toBe(77);
    expect(again.output).toContain('an admin revoked the agent of host local; it may not register again until an admin issues it a new token');
    const [audit] = await sql`select result from audit_log where action = 'agent.revoke' order by id desc limit 1`;
    expect(audit).toEqual({ result: 200 });
  });
});

describe('an agent whose config file sets allowed_commands', () => {
  test('runs an sh script and refuses a bash script, saying why on the run', async () => {
    const issued = (await (await stack.api('/api/v1/agents/hosts/local/rotate', { method: 'POST' })).json()) as { token: string; agentId: string };
    expect(await hostView()).toMatchObject({ lastError: null });
    const config = await writeConfig('agent-sh-only.yaml', `server_id: local\ntoken: ${issued.token}\nallowed_commands: [sh]\n`);
    // The registration secret is still set: the configured token is used, not a new registration.
    const agent = await startAgent({ DRYDOCK_AGENT_CONFIG: config });

    const allowed = await stack.startRun('true');
    expect(await stack.waitForRun(allowed.id)).toMatchObject({ status: 'succeeded' });
    expect((await sql`select id from agents where host_id = 'local' and revoked_at is null`).map((a) => a.id)).toEqual([issued.agentId]);

    const refused = await stack.startRun('echo-params', { message: 'hello' });
    const final = await stack.waitForRun(refused.id);
    const reason = `refused: script scripts/echo-params.sh runs bash, which is not in this agent's allowed_commands (sh; from ${config}); run it on a host that allows bash, or ask this host's operator to add it`;
    expect(final).toMatchObject({ status: 'failed', error: reason, attempts: 1 });
    const lines = (await stack.lines(refused.id)).map((l) => l.line);
    expect(lines).toContain(reason);
    expect(lines).not.toContain('message=hello');
    await agent.stop();
  });
});
