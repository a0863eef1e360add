import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ScheduleFiringView, ScheduleView } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Schedules through the API on one real stack: Temporal Schedules on the dev server, a central worker, the local agent.

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
}, 120_000);
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
});

async function create(body: Record<string, unknown>): Promise<ScheduleView> {
  const res = await stack.api('/api/v1/schedules', { method: 'POST', json: body });
  if (res.status !== 201) throw new Error(`create schedule: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as ScheduleView;
}

async function firings(id: string): Promise<ScheduleFiringView[]> {
  const res = await stack.api(`/api/v1/schedules/${id}/firings`);
  if (res.status !== 200) throw new Error(`firings: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { firings: ScheduleFiringView[] }).firings;
}

const daily = (zone: string, extra: Record<string, unknown> = {}) => ({ cron: ['30 2 * * *'], timeZone: zone, ...extra });

describe('schedules', () => {
  test('a trigger fires the same run workflow as a manual run, with the fixed parameters and the schedule recorded', async () => {
    const schedule = await create({ name: 'echo now', scriptId: 'echo-params', hostId: 'local', params: { message: 'from a schedule', count: 3 }, spec: daily('UTC'), paused: true, note: 'created paused' });
    expect(schedule).toMatchObject({ paused: true, note: 'created paused', workflowId: `schedule/${schedule.id}` });

    expect((await stack.api(`/api/v1/schedules/${schedule.id}/trigger`, { method: 'POST' })).status).toBe(202);
    await expect.poll(async () => (await firings(schedule.id)).map((f) => f.outcome), { timeout: 30_000 }).toEqual(['started']);
    const [firing] = await firings(schedule.id);
    const run = await stack.waitForRun(firing!.runId!);
    expect(run).toMatchObject({ status: 'succeeded', scriptId: 'echo-params', params: { message: 'from a schedule', count: 3 }, workflowId: `run/${firing!.runId}`, scheduleId: schedule.id });
    await stack.waitForLine(run.id, /from a schedule/);
    await expect.poll(async () => (await firings(schedule.id))[0]!.runStatus).toBe('succeeded');

    const listed = (await (await stack.api('/api/v1/schedules')).json()) as { schedules: { id: string; lastFiring: ScheduleFiringView | null }[] };
    expect(listed.schedules.find((s) => s.id === schedule.id)?.lastFiring).toMatchObject({ outcome: 'started', runId: run.id });
  });

  test('the spec itself fires: an interval that ends a few seconds from now starts runs, then nothing is next', async () => {
    const endAt = new Date(Date.now() + 6_000).toISOString();
    const schedule = await create({ name: 'every 2 s', scriptId: 'true', hostId: 'local', spec: { intervals: [{ every: '2s' }], endAt, overlap: 'skip' } });
    await expect.poll(async () => (await firings(schedule.id)).filter((f) => f.outcome === 'started').length, { timeout: 30_000 }).toBeGreaterThan(0);
    const [firing] = await firings(schedule.id);
    expect((await stack.waitForRun(firing!.runId!)).status).toBe('succeeded');
    await expect.poll(async () => ((await (await stack.api(`/api/v1/schedules/${schedule.id}`)).json()) as ScheduleView).nextFireTimes, { timeout: 30_000 }).toEqual([]);
  });

  test('next fire times through the API follow Temporal across the spring DST change in Berlin', async () => {
    // 2027-03-28 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that day and Temporal skips it (decision 013).
    const schedule = await create({ name: 'berlin nightly', scriptId: 'true', hostId: 'local', spec: daily('Europe/Berlin', { startAt: '2027-03-25T12:00:00Z' }), paused: true, note: 'n' });
    expect(schedule.nextFireTimes.slice(0, 4)).toEqual(['2027-03-26T01:30:00.000Z', '2027-03-27T01:30:00.000Z', '2027-03-29T00:30:00.000Z', '2027-03-30T00:30:00.000Z']);
    expect(schedule.nextFireTimes).toHaveLength(10);
    expect(schedule.timeZone).toBe('Europe/Berlin');
  });

  test('pause with a note, unpause, and backfill a past range', async () => {
    const schedule = await create({ name: 'weekly true', scriptId: 'true', hostId: 'local', spec: { cron: ['0 8 * * mon'], timeZone: 'Europe/Berlin', overlap: 'allow_all' } });
    expect(schedule.paused).toBe(false);
    const paused = (await (await stack.api(`/api/v1/schedules/${schedule.id}/pause`, { method: 'POST', json: { note: 'release freeze until Friday' } })).json()) as ScheduleView;
    expect(paused).toMatchObject({ paused: true, note: 'release freeze until Friday' });
    const noNote = await stack.api(`/api/v1/schedules/${schedule.id}/pause`, { method: 'POST', json: { note: ' ' } });
    expect(noNote.status).toBe(400);
    expect(await noNote.json()).toMatchObject({ error: { fields: { note: [expect.stringContaining('say why')] } } });
    const unpaused = (await (await stack.api(`/api/v1/schedules/${schedule.id}/unpause`, { method: 'POST', json: { note: 'freeze lifted' } })).json()) as ScheduleView;
    expect(unpaused).toMatchObject({ paused: false, note: 'freeze lifted' });

    // Mondays 08:00 Berlin around the 2025 change: CET before 30 March, CEST after.
    const backfill = await stack.api(`/api/v1/schedules/${schedule.id}/backfill`, { method: 'POST', json: { start: '2025-03-20T00:00:00Z', end: '2025-04-08T00:00:00Z' } });
    expect(backfill.status).toBe(202);
    await expect
      .poll(async () => (await firings(schedule.id)).map((f) => `${f.scheduledAt} ${f.outcome}`).sort(), { timeout: 45_000 })
      .toEqual(['2025-03-24T07:00:00.000Z started', '2025-03-31T06:00:00.000Z started', '2025-04-07T06:00:00.000Z started']);
    const runIds = (await firings(schedule.id)).map((f) => f.runId!);
    for (const id of runIds) expect((await stack.waitForRun(id)).status).toBe('succeeded');

    expect((await stack.api(`/api/v1/schedules/${schedule.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await stack.api(`/api/v1/schedules/${schedule.id}`)).status).toBe(404);
    expect((await stack.run(runIds[0]!)).status).toBe('succeeded');
  });

  test('a firing whose action was removed from the catalog fails with that reason', async () => {
    expect((await stack.api('/api/v1/actions', { method: 'POST', json: { id: 'say-hi', name: 'Say hi', command_template: 'echo hi' } })).status).toBe(201);
    const schedule = await create({ name: 'hi', actionId: 'say-hi', hostId: 'local', spec: daily('UTC'), paused: true, note: 'n' });
    expect((await stack.api('/api/v1/actions/say-hi', { method: 'DELETE' })).status).toBe(204);
    await stack.api(`/api/v1/schedules/${schedule.id}/trigger`, { method: 'POST' });
    await expect.poll(async () => (await firings(schedule.id))[0], { timeout: 30_000 }).toMatchObject({
      outcome: 'failed',
      runId: null,
      reason: 'action say-hi was removed from the catalog; edit or delete schedule "hi"',
    });
  });

  test('bad input is refused with what to fix', async () => {
    const refused = async (body: Record<string, unknown>) => {
      const res = await stack.api('/api/v1/schedules', { method: 'POST', json: { name: 'bad', scriptId: 'echo-params', hostId: 'local', ...body } });
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: { fields: Record<string, string[]> } }).error.fields;
    };
    expect(await refused({ spec: { cron: ['0 0 12 * * *'] } })).toMatchObject({ 'spec.cron.0': [expect.stringContaining('the sixth field is a year')] });
    expect(await refused({ spec: { cron: ['0 3 * * *'], timeZone: 'Mars/Olympus' } })).toHaveProperty(['spec.timeZone']);
    expect(await refused({ spec: daily('UTC', { startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' }) })).toMatchObject({ 'spec.endAt': [expect.stringContaining('ends before it starts')] });
    expect(await refused({ params: { token: 's3cret' }, spec: daily('UTC') })).toMatchObject({ 'params.token': [expect.stringContaining('cannot store a secret')] });
    expect(await refused({ params: { count: 1000 }, spec: daily('UTC') })).toHaveProperty(['params.count']);
    const taken = await stack.api('/api/v1/schedules', { method: 'POST', json: { name: 'echo now', scriptId: 'true', hostId: 'local', spec: daily('UTC') } });
    expect(taken.status).toBe(409);
  });
});

describe('blackout windows', () => {
  test('a firing inside a window of the host\'s environment is skipped with its name; a manual run needs an audited override', async () => {
    expect((await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: 'staging' } })).status).toBe(200);
    const now = Date.now();
    const releaseDay = { type: 'once', name: 'release day', scope: { environment: 'staging' }, start: new Date(now - 3_600_000).toISOString(), end: new Date(now + 3_600_000).toISOString() };
    const created = await stack.api('/api/v1/blackouts', { method: 'POST', json: releaseDay });
    expect(created.status).toBe(201);
    const window = (await created.json()) as { id: string; activeNow: unknown };
    expect(window.activeNow).not.toBeNull();

    const overlapping = await stack.api('/api/v1/blackouts', {
      method: 'POST',
      json: { type: 'weekly', name: 'every day', scope: { environment: 'staging' }, timeZone: 'Europe/Berlin', from: { day: 'mon', time: '00:00' }, to: { day: 'sun', time: '23:59' } },
    });
    expect(overlapping.status).toBe(400);
    expect(((await overlapping.json()) as { error: { message: string } }).error.message).toContain('overlapping blackout definitions: "release day" and "every day"');

    const schedule = await create({ name: 'during release', scriptId: 'true', hostId: 'local', spec: daily('UTC'), paused: true, note: 'n' });
    await stack.api(`/api/v1/schedules/${schedule.id}/trigger`, { method: 'POST' });
    await expect.poll(async () => (await firings(schedule.id))[0], { timeout: 30_000 }).toMatchObject({ outcome: 'skipped', blackoutName: 'release day', runId: null });

    const refused = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'true', hostId: 'local' } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { fields: { overrideBlackout: [expect.stringContaining('send overrideBlackout: true')] } } });
    const overridden = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'true', hostId: 'local', overrideBlackout: true } });
    expect(overridden.status).toBe(201);
    const run = (await overridden.json()) as { id: string };
    const [audit] = await sql`select detail from audit_log where action = 'run.start' and resource = ${`run:${run.id}`}`;
    expect(audit!.detail).toMatchObject({ blackoutOverridden: 'release day' });

    expect((await stack.api(`/api/v1/blackouts/${window.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'true', hostId: 'local' } })).status).toBe(201);
  });
});
