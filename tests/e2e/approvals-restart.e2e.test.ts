import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HostView, RunView } from '@drydock/core';
import { asAnotherUser, type UserApi } from '../support/second-user.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Issue 9: "Waiting for approval survives restarts of every process". A run waits in a protected environment
// while the Temporal server, the API, the central worker and the agent are all killed with SIGKILL and brought
// back (as npm start does); a second person then approves, and the run goes on to succeed, saying who approved.

let stack: TestStack;
let operator: UserApi;

beforeAll(async () => {
  stack = await startTestStack({ ownTemporal: true, restart: true });
  operator = await asAnotherUser(stack, 'operator');
  await ok(await stack.api('/api/v1/environments', { method: 'POST', json: { name: 'guarded', colour: '#dc2626', requiresApproval: true } }), 201);
  await ok(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: 'guarded' } }), 200);
});
afterAll(async () => {
  await stack?.teardown();
});

async function ok<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

/** SIGKILL, as a crash: the launcher notices and starts the process again, on the same port and data. */
function crash(pid: number | undefined, name: string): number {
  if (!pid) throw new Error(`${name} is not running`);
  process.kill(pid, 'SIGKILL');
  return pid;
}

describe('a run waiting for approval', () => {
  test('survives kill -9 of Temporal, the API, the worker and the agent; approved afterwards, it runs and says who approved', async () => {
    const run = await stack.startRun('echo-params', { message: 'approved after the crash' });
    expect(run).toMatchObject({ status: 'waiting_for_approval', approval: { environment: 'guarded', decision: null } });

    const killed = {
      temporal: crash(stack.devServer?.pid, 'temporal'),
      api: crash(stack.processes.api?.pid, 'api'),
      worker: crash(stack.processes.worker?.pid, 'worker'),
      agent: crash(stack.processes.agent?.pid, 'agent'),
    };
    // Every one of them is a new process before anyone decides.
    await expect.poll(() => stack.devServer?.pid, { timeout: 60_000 }).not.toBe(killed.temporal);
    for (const name of ['api', 'worker', 'agent'] as const) {
      await expect.poll(() => stack.processes[name]?.running && stack.processes[name]?.pid !== killed[name], { timeout: 60_000, message: name }).toBe(true);
    }
    await expect.poll(async () => (await stack.api('/health').catch(() => undefined))?.status, { timeout: 60_000 }).toBe(200);
    // As an operator would, wait for the host to show its agent polling again: approved before, the run would find no agent.
    await expect.poll(async () => ((await ok<HostView>(await stack.api('/api/v1/hosts/local'), 200)).pollers ?? 0) > 0, { timeout: 90_000 }).toBe(true);

    // Still waiting, and nothing reached the host.
    const waiting = await stack.run(run.id);
    expect(waiting).toMatchObject({ status: 'waiting_for_approval', startedAt: null, approval: { decision: null } });
    expect(await stack.lines(run.id)).toEqual([]);
    const queue = await ok<{ runs: RunView[] }>(await operator.api('/api/v1/approvals'), 200);
    expect(queue.runs.map((r) => r.id)).toContain(run.id);

    // The restarted workflow worker may need a moment to pick the workflow up again: the decision is accepted at once regardless.
    const approved = await ok<RunView>(await operator.api(`/api/v1/runs/${run.id}/approve`, { method: 'POST', json: { comment: 'after the outage' } }), 200);
    expect(approved.approval).toMatchObject({ decision: 'approved', decidedBy: { id: operator.user.id, name: operator.user.email }, comment: 'after the outage' });

    const final = await stack.waitForRun(run.id, undefined, 120_000);
    expect(final, final.error ?? '').toMatchObject({ status: 'succeeded', exitCode: 0, attempts: 1, approval: { decision: 'approved', decidedBy: { name: operator.user.email } } });
    expect((await stack.lines(run.id)).some((l) => l.line.includes('approved after the crash'))).toBe(true);
  }, 300_000);
});
