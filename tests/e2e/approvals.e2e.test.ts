import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BulkView, EnvironmentView, RunView } from '@drydock/core';
import { asAnotherUser, type UserApi } from '../support/second-user.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Environments per team, and runs into a protected one waiting, durably in their workflow, for another
// person's decision. The stack's admin requests; a second member of the team (an operator) decides.

let stack: TestStack;
let operator: UserApi;
let viewer: UserApi;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
  operator = await asAnotherUser(stack, 'operator');
  viewer = await asAnotherUser(stack, 'viewer');
});
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
});

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

async function protect(name: string, expirySeconds = 3_600): Promise<void> {
  await body(await stack.api('/api/v1/environments', { method: 'POST', json: { name, colour: '#dc2626', requiresApproval: true, approvalExpirySeconds: expirySeconds } }), 201);
  await body(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: name } }), 200);
}

async function unprotect(): Promise<void> {
  await body(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: null } }), 200);
}

async function waitingRun(): Promise<RunView> {
  const run = await stack.startRun('echo-params', { message: 'guarded' });
  expect(run.status).toBe('waiting_for_approval');
  return run;
}

describe('environments of a team', () => {
  test('a team starts with four; maintainers create, change and remove them; bad input says what to fix', async () => {
    const list = await body<{ environments: EnvironmentView[] }>(await stack.api('/api/v1/environments'), 200);
    expect(list.environments.map((e) => e.name)).toEqual(['dev', 'preprod', 'staging', 'uat']);
    expect(list.environments.every((e) => !e.requiresApproval && /^#[0-9a-f]{6}$/.test(e.colour))).toBe(true);

    const perf = await body<EnvironmentView>(
      await stack.api('/api/v1/environments', { method: 'POST', json: { name: 'perf', colour: '#0891B2', description: 'load tests' } }),
      201,
    );
    expect(perf).toEqual({ name: 'perf', colour: '#0891b2', description: 'load tests', requiresApproval: false, approvalExpirySeconds: 86_400, hosts: 0 });

    const duplicate = await body<{ error: { fields: Record<string, string[]> } }>(await stack.api('/api/v1/environments', { method: 'POST', json: { name: 'perf' } }), 400);
    expect(duplicate.error.fields.name?.[0]).toMatch(/already has an environment named perf/);
    const colour = await body<{ error: { fields: Record<string, string[]> } }>(await stack.api('/api/v1/environments', { method: 'POST', json: { name: 'qa', colour: 'red' } }), 400);
    expect(colour.error.fields.colour?.[0]).toMatch(/#rrggbb/);
    const unknown = await body<{ error: { fields: Record<string, string[]> } }>(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: 'prod' } }), 400);
    expect(unknown.error.fields.environment?.[0]).toMatch(/prod is not an environment of this team \(one of dev, perf, preprod, staging, uat\)/);

    await body(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: 'perf' } }), 200);
    expect(await body<EnvironmentView>(await stack.api('/api/v1/environments/perf'), 200)).toMatchObject({ hosts: 1 });
    const inUse = await body<{ error: { message: string } }>(await stack.api('/api/v1/environments/perf', { method: 'DELETE' }), 409);
    expect(inUse.error.message).toMatch(/still has 1 host; move them/);
    const denied = await body<{ error: { message: string } }>(await operator.api('/api/v1/environments/perf', { method: 'PATCH', json: { requiresApproval: true } }), 403);
    expect(denied.error.message).toMatch(/needs the maintainer role/);

    await unprotect();
    await body(await stack.api('/api/v1/environments/perf', { method: 'DELETE' }), 204);
    await body(await stack.api('/api/v1/environments/perf'), 404);
  });
});

describe('a run on a host of a protected environment', () => {
  beforeAll(() => protect('guarded'));
  afterAll(() => unprotect());

  test('waits; its requester and a viewer may not approve; another operator approves and it runs', async () => {
    const run = await waitingRun();
    expect(run.approval).toMatchObject({ environment: 'guarded', decision: null, decidedBy: null });
    const queue = await body<{ runs: RunView[] }>(await operator.api('/api/v1/approvals'), 200);
    expect(queue.runs.map((r) => r.id)).toContain(run.id);

    const own = await body<{ error: { message: string } }>(await stack.api(`/api/v1/runs/${run.id}/approve`, { method: 'POST', json: {} }), 403);
    expect(own.error.message).toMatch(/you requested this run, so you cannot approve or reject it/);
    const byViewer = await body<{ error: { message: string } }>(await viewer.api(`/api/v1/runs/${run.id}/approve`, { method: 'POST', json: {} }), 403);
    expect(byViewer.error.message).toMatch(/needs the operator role/);
    // Nothing has reached the host meanwhile.
    expect(await stack.run(run.id)).toMatchObject({ status: 'waiting_for_approval', startedAt: null });
    expect(await stack.lines(run.id)).toEqual([]);

    const approved = await body<RunView>(await operator.api(`/api/v1/runs/${run.id}/approve`, { method: 'POST', json: { comment: 'change CHG-42' } }), 200);
    expect(approved.approval).toMatchObject({ decision: 'approved', decidedBy: { id: operator.user.id, name: operator.user.email }, comment: 'change CHG-42' });
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect((await stack.lines(run.id)).some((l) => l.line.includes('guarded'))).toBe(true);

    const again = await body<{ error: { message: string } }>(await operator.api(`/api/v1/runs/${run.id}/reject`, { method: 'POST', json: {} }), 409);
    expect(again.error.message).toMatch(/not waiting for approval \(it is succeeded\)/);
    const audit = await sql`select actor_name, action, result, detail from audit_log where resource = ${`run:${run.id}`} order by created_at`;
    expect(audit.map((a) => [a.actor_name, a.action, a.result])).toEqual([
      [expect.any(String), 'run.start', 201],
      [stack.admin.email, 'run.approve', 403],
      [operator.user.email, 'run.approve', 200],
      [operator.user.email, 'run.reject', 409],
    ]);
    expect(audit[2]?.detail).toMatchObject({ comment: 'change CHG-42' });
  });

  test('rejected, it ends without touching the host, saying who and why', async () => {
    const run = await waitingRun();
    const rejected = await body<RunView>(await operator.api(`/api/v1/runs/${run.id}/reject`, { method: 'POST', json: { comment: 'not during the load test' } }), 200);
    expect(rejected.approval).toMatchObject({ decision: 'rejected', decidedBy: { name: operator.user.email }, comment: 'not during the load test' });
    const final = await stack.waitForRun(run.id, (r) => r.status === 'rejected');
    expect(final).toMatchObject({ status: 'rejected', attempts: 0, startedAt: null, error: `rejected by ${operator.user.email}: not during the load test` });
    expect(await stack.lines(run.id)).toEqual([]);
  });

  test('waiting survives a kill -9 of the central worker', async () => {
    const run = await waitingRun();
    await stack.processes.worker!.kill('SIGKILL');
    await stack.processes.worker!.start();
    await body(await operator.api(`/api/v1/runs/${run.id}/approve`, { method: 'POST', json: {} }), 200);
    expect(await stack.waitForRun(run.id)).toMatchObject({ status: 'succeeded', approval: { decision: 'approved' } });
  });

  test('a bulk execution over it waits once, for the whole execution', async () => {
    const started = await body<BulkView>(await stack.api('/api/v1/bulk', { method: 'POST', json: { scriptId: 'true', selector: { environment: 'guarded' } } }), 201);
    expect(started).toMatchObject({ status: 'waiting_for_approval', approval: { environment: 'guarded', decision: null } });
    const queue = await body<{ bulk: BulkView[] }>(await operator.api('/api/v1/approvals'), 200);
    expect(queue.bulk.map((b) => b.id)).toContain(started.id);
    await body(await stack.api(`/api/v1/bulk/${started.id}/approve`, { method: 'POST', json: {} }), 403);
    const paused = await body<{ error: { message: string } }>(await stack.api(`/api/v1/bulk/${started.id}/pause`, { method: 'POST' }), 409);
    expect(paused.error.message).toMatch(/waits for approval: no host has started/);

    const approved = await body<BulkView>(await operator.api(`/api/v1/bulk/${started.id}/approve`, { method: 'POST', json: {} }), 200);
    expect(approved.approval).toMatchObject({ decision: 'approved', decidedBy: { name: operator.user.email } });
    await expect.poll(async () => (await body<BulkView>(await stack.api(`/api/v1/bulk/${started.id}`), 200)).status, { timeout: 45_000 }).toBe('succeeded');
    // The host's own run did not ask again.
    const [hostRun] = await sql`select status, approval_environment from runs where bulk_id = ${started.id}`;
    expect(hostRun).toEqual({ status: 'succeeded', approval_environment: null });
  });
});

describe('a request nobody answers', () => {
  beforeAll(() => protect('short-lived', 5));
  afterAll(() => unprotect());

  test('expires: the run ends expired, and nothing ran', async () => {
    const run = await waitingRun();
    const final = await stack.waitForRun(run.id, (r) => r.status === 'expired', 30_000);
    expect(final).toMatchObject({ status: 'expired', attempts: 0, startedAt: null, approval: { decision: 'expired', decidedBy: null } });
    expect(final.error).toMatch(/nobody approved it before .* \(environment short-lived requires approval\)/);
    expect(await stack.lines(run.id)).toEqual([]);
    await body(await operator.api(`/api/v1/runs/${run.id}/approve`, { method: 'POST', json: {} }), 409);
  });
});
