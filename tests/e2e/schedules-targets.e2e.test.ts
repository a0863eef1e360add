import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BulkView, RunView, ScheduleFiringView, ScheduleView } from '@drydock/core';
import { asAnotherUser, type UserApi } from '../support/second-user.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// What a schedule fires, on one real stack (Temporal Schedules on the dev server, a central worker, the local
// agent): bulk executions and action templates, firings into a protected environment, the overlap policy,
// the firings due while the worker was down, and a backfill of a bulk schedule.

let stack: TestStack;
let operator: UserApi;

beforeAll(async () => {
  stack = await startTestStack();
  operator = await asAnotherUser(stack, 'operator');
}, 120_000);
afterAll(async () => {
  await stack?.teardown();
});

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

const create = async (json: Record<string, unknown>) => body<ScheduleView>(await stack.api('/api/v1/schedules', { method: 'POST', json }), 201);
const firings = async (id: string) => (await body<{ firings: ScheduleFiringView[] }>(await stack.api(`/api/v1/schedules/${id}/firings`), 200)).firings;
const trigger = async (id: string) => body(await stack.api(`/api/v1/schedules/${id}/trigger`, { method: 'POST' }), 202);
const bulk = async (id: string) => body<BulkView>(await stack.api(`/api/v1/bulk/${id}`), 200);
const pausedDaily = { spec: { cron: ['30 2 * * *'], timeZone: 'UTC' }, paused: true, note: 'fired by hand in this test' };

describe('what a schedule fires', () => {
  test('a bulk schedule starts a bulk execution over its selector with its options, the firing linked to it', async () => {
    const schedule = await create({ name: 'fleet echo', scriptId: 'echo-params', selector: { hostIds: ['local'] }, options: { maxParallel: 2, failureThreshold: 1 }, params: { message: 'fleet-wide' }, ...pausedDaily });
    expect(schedule).toMatchObject({ target: 'bulk', hostId: null, selector: { hostIds: ['local'] }, options: { maxParallel: 2, failureThreshold: 1 } });
    await trigger(schedule.id);
    await expect.poll(async () => (await firings(schedule.id))[0]?.bulkStatus, { timeout: 45_000 }).toBe('succeeded');
    const [firing] = await firings(schedule.id);
    expect(firing).toMatchObject({ outcome: 'started', runId: null, bulkId: expect.any(String) });
    const execution = await bulk(firing!.bulkId!);
    expect(execution).toMatchObject({ scriptId: 'echo-params', total: 1, options: { maxParallel: 2, failureThreshold: 1 }, params: { message: 'fleet-wide' }, workflowId: `bulk/${firing!.bulkId}` });
    const { hosts } = await body<{ hosts: { hostId: string; runId: string }[] }>(await stack.api(`/api/v1/bulk/${firing!.bulkId}/hosts`), 200);
    expect(hosts.map((h) => h.hostId)).toEqual(['local']);
    await stack.waitForLine(hosts[0]!.runId, /fleet-wide/);
    expect((await stack.run(hosts[0]!.runId)).scheduleId).toBe(schedule.id);

    const listed = await body<{ schedules: { id: string; target: string; selector: unknown }[] }>(await stack.api('/api/v1/schedules'), 200);
    expect(listed.schedules.find((s) => s.id === schedule.id)).toMatchObject({ target: 'bulk', selector: { hostIds: ['local'] } });
  });

  test('a bulk firing whose hosts fail reaches its failure threshold and the firing shows the failed execution', async () => {
    const schedule = await create({ name: 'fleet fail', scriptId: 'fail', selector: { hostIds: ['local'] }, options: { failureThreshold: 1 }, params: { code: 4 }, ...pausedDaily });
    await trigger(schedule.id);
    await expect.poll(async () => (await firings(schedule.id))[0]?.bulkStatus, { timeout: 45_000 }).toBe('failed');
    const execution = await bulk((await firings(schedule.id))[0]!.bulkId!);
    expect(execution.counts).toMatchObject({ failed: 1, succeeded: 0 });
  });

  test('an action template schedule runs the template on its host', async () => {
    await body(await stack.api('/api/v1/actions', { method: 'POST', json: { id: 'say-when', name: 'Say when', command_template: 'echo scheduled action' } }), 201);
    const schedule = await create({ name: 'say when', actionId: 'say-when', hostId: 'local', ...pausedDaily });
    expect(schedule).toMatchObject({ target: 'run', source: 'action', scriptId: 'say-when', hostId: 'local', selector: null });
    await trigger(schedule.id);
    await expect.poll(async () => (await firings(schedule.id))[0]?.runStatus, { timeout: 45_000 }).toBe('succeeded');
    const run = await stack.run((await firings(schedule.id))[0]!.runId!);
    expect(run).toMatchObject({ source: 'action', scriptId: 'say-when', scheduleId: schedule.id });
    await stack.waitForLine(run.id, /scheduled action/);
  });

  test('a secret parameter is stored as a Vault reference only, resolved when the firing\'s run executes', async () => {
    const value = await stack.api('/api/v1/schedules', { method: 'POST', json: { name: 'secret value', scriptId: 'echo-params', hostId: 'local', params: { message: 'm', token: 's3cret' }, ...pausedDaily } });
    expect((await body<{ error: { fields: Record<string, string[]> } }>(value, 400)).error.fields['params.token']).toEqual([expect.stringContaining('give a Vault reference')]);
    const schedule = await create({ name: 'vault token', scriptId: 'echo-params', hostId: 'local', params: { message: 'm', token: 'vault:secret/app/api#token' }, ...pausedDaily });
    await trigger(schedule.id);
    await expect.poll(async () => (await firings(schedule.id))[0]?.runId ?? null, { timeout: 30_000 }).not.toBeNull();
    // This stack has no Vault: the run reaches the reference and fails naming it, its page showing the secret masked.
    const run = await stack.waitForRun((await firings(schedule.id))[0]!.runId!);
    expect(run.status).toBe('failed');
    expect(run.error).toContain('the secret parameter token is vault:secret/app/api#token, but Drydock has no Vault to ask');
    expect(run.params.token).not.toContain('vault:');
  });

  test('bad input: a selector that no host can run, hostId and selector together, options without a selector', async () => {
    const refused = async (json: Record<string, unknown>) =>
      (await body<{ error: { message: string; fields: Record<string, string[]> } }>(await stack.api('/api/v1/schedules', { method: 'POST', json: { name: 'bad', scriptId: 'true', ...pausedDaily, ...json } }), 400)).error;
    expect((await refused({ selector: { hostIds: ['nowhere'] } })).fields.selector).toEqual(['nowhere: not a registered host']);
    expect((await refused({ hostId: 'local', selector: { hostIds: ['local'] } })).fields.hostId).toEqual([expect.stringContaining('give hostId (a run on one host) or selector')]);
    expect((await refused({ hostId: 'local', options: { maxParallel: 2 } })).fields.options).toEqual([expect.stringContaining('options are for a bulk schedule')]);
  });
});

describe('firings into a protected environment', () => {
  beforeAll(async () => {
    await body(await stack.api('/api/v1/environments', { method: 'POST', json: { name: 'guarded', colour: '#dc2626', requiresApproval: true } }), 201);
    await body(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: 'guarded' } }), 200);
  });
  afterAll(async () => {
    await body(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: null } }), 200);
  });

  test('a run firing waits for approval as a manual run does, requested by the schedule\'s creator, and runs once approved', async () => {
    const schedule = await create({ name: 'guarded echo', scriptId: 'echo-params', hostId: 'local', params: { message: 'approved firing' }, ...pausedDaily });
    await trigger(schedule.id);
    await expect.poll(async () => (await firings(schedule.id))[0]?.runStatus, { timeout: 30_000 }).toBe('waiting_for_approval');
    const runId = (await firings(schedule.id))[0]!.runId!;
    const waiting = await stack.run(runId);
    expect(waiting).toMatchObject({ startedAt: null, approval: { environment: 'guarded', decision: null } });
    const queue = await body<{ runs: RunView[] }>(await operator.api('/api/v1/approvals'), 200);
    expect(queue.runs.map((r) => r.id)).toContain(runId);
    // The creator asked for it: they cannot approve their own schedule's firing.
    await body(await stack.api(`/api/v1/runs/${runId}/approve`, { method: 'POST', json: {} }), 403);
    // The firing writes the run's row before it starts the run's workflow: a decision in between is a 409 "no live workflow".
    await expect.poll(async () => (await operator.api(`/api/v1/runs/${runId}/approve`, { method: 'POST', json: { comment: 'nightly is fine' } })).status, { timeout: 30_000 }).toBe(200);
    expect(await stack.waitForRun(runId)).toMatchObject({ status: 'succeeded', approval: { decision: 'approved' } });
    await expect.poll(async () => (await firings(schedule.id))[0]?.runStatus).toBe('succeeded');
  });

  test('a bulk firing waits as one execution; rejected, no host starts', async () => {
    const schedule = await create({ name: 'guarded fleet', scriptId: 'true', selector: { environment: 'guarded' }, ...pausedDaily });
    await trigger(schedule.id);
    await expect.poll(async () => (await firings(schedule.id))[0]?.bulkStatus, { timeout: 30_000 }).toBe('waiting_for_approval');
    const bulkId = (await firings(schedule.id))[0]!.bulkId!;
    expect((await bulk(bulkId)).approval).toMatchObject({ environment: 'guarded', decision: null });
    // The firing writes the execution's row before it starts its workflow: a decision in between is a 409 "no live workflow".
    await expect.poll(async () => (await operator.api(`/api/v1/bulk/${bulkId}/reject`, { method: 'POST', json: { comment: 'not tonight' } })).status, { timeout: 30_000 }).toBe(200);
    await expect.poll(async () => (await bulk(bulkId)).status, { timeout: 30_000 }).toBe('rejected');
    expect((await bulk(bulkId)).counts).toMatchObject({ skipped: 1, succeeded: 0 });
  });
});

describe('Temporal Schedules on the real dev server', () => {
  test('overlap skip: a firing while the last run is still going is dropped; buffer one: it runs after', async () => {
    const skip = await create({ name: 'sleep skip', scriptId: 'sleep', hostId: 'local', params: { seconds: 4 }, spec: { cron: ['30 2 * * *'], timeZone: 'UTC', overlap: 'skip' }, paused: true, note: 'n' });
    await trigger(skip.id);
    await expect.poll(async () => (await firings(skip.id))[0]?.runStatus, { timeout: 30_000 }).toBe('running');
    await trigger(skip.id);
    await trigger(skip.id);
    expect((await stack.waitForRun((await firings(skip.id))[0]!.runId!)).status).toBe('succeeded');
    expect(await firings(skip.id)).toHaveLength(1);
    // Fired again once the firing is over (a moment after its run), to show that only the overlapping ones were dropped.
    await expect
      .poll(
        async () => {
          await trigger(skip.id);
          return (await firings(skip.id)).length;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(2);

    const buffer = await create({ name: 'sleep buffer', scriptId: 'sleep', hostId: 'local', params: { seconds: 3 }, spec: { cron: ['30 2 * * *'], timeZone: 'UTC', overlap: 'buffer_one' }, paused: true, note: 'n' });
    await trigger(buffer.id);
    await expect.poll(async () => (await firings(buffer.id))[0]?.runStatus, { timeout: 30_000 }).toBe('running');
    await trigger(buffer.id);
    await trigger(buffer.id);
    // The buffered firing has the trigger's second in its workflow id, as the first may: it is still a firing of its own.
    await expect.poll(async () => (await firings(buffer.id)).map((f) => f.runStatus), { timeout: 45_000 }).toEqual(['succeeded', 'succeeded']);
    const [second, first] = await Promise.all((await firings(buffer.id)).map((f) => stack.run(f.runId!)));
    expect(Date.parse(second!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first!.finishedAt!));
  });

  test('firings due while the central worker was down run once it is back', async () => {
    await stack.processes.worker!.kill('SIGKILL');
    const downAt = Date.now();
    const schedule = await create({ name: 'while down', scriptId: 'true', hostId: 'local', spec: { intervals: [{ every: '2s' }], endAt: new Date(downAt + 5_000).toISOString(), overlap: 'buffer_one' } });
    // Temporal fires on time with no worker: the firing workflows wait for one, and nothing is recorded yet.
    await expect.poll(async () => (await stack.api(`/api/v1/schedules/${schedule.id}`).then((r) => r.json() as Promise<ScheduleView>)).nextFireTimes, { timeout: 30_000 }).toEqual([]);
    expect(await firings(schedule.id)).toEqual([]);
    await stack.processes.worker!.start();
    await expect.poll(async () => (await firings(schedule.id)).map((f) => f.runStatus), { timeout: 60_000 }).toEqual(['succeeded', 'succeeded']);
    for (const f of await firings(schedule.id)) expect(Date.parse(f.scheduledAt)).toBeLessThan(downAt + 5_000);
  });

  test('a backfill of a bulk schedule fires one execution per time the spec names in the range', async () => {
    const schedule = await create({ name: 'weekly fleet', scriptId: 'true', selector: { hostIds: ['local'] }, spec: { cron: ['0 8 * * mon'], timeZone: 'Europe/Berlin', overlap: 'allow_all' }, paused: true, note: 'n' });
    await body(await stack.api(`/api/v1/schedules/${schedule.id}/backfill`, { method: 'POST', json: { start: '2025-10-20T00:00:00Z', end: '2025-11-04T00:00:00Z' } }), 202);
    // Mondays 08:00 in Berlin around the autumn change: CEST on the 20th, CET from the 27th.
    await expect
      .poll(async () => (await firings(schedule.id)).map((f) => `${f.scheduledAt} ${f.bulkStatus}`).sort(), { timeout: 60_000 })
      .toEqual(['2025-10-20T06:00:00.000Z succeeded', '2025-10-27T07:00:00.000Z succeeded', '2025-11-03T07:00:00.000Z succeeded']);
  });
});
