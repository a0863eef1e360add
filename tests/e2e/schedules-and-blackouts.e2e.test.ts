import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Client, Connection, type ScheduleHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ScheduleSpecInput, ScheduleSpecInputSchema, toTemporalSchedule } from '@drydock/core/schedule-spec';
import { ensureNamespace } from '@drydock/temporal';
import { blackoutCheckWorkflow, scheduledFiringWorkflow } from '../support/schedule-blackout.test-workflows.ts';

// The schedule spec mapping against the real Temporal dev server (its own namespace), and the blackout
// module run inside Temporal's workflow sandbox by a real worker.

const namespace = `schedules-${randomBytes(4).toString('hex')}`;
const taskQueue = 'schedule-spec-test';
let connection: Connection;
let native: NativeConnection;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const schedules: ScheduleHandle[] = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  await ensureNamespace(connection, namespace, 1);
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  worker = await Worker.create({
    connection: native,
    namespace,
    taskQueue,
    workflowsPath: createRequire(import.meta.url).resolve('../support/schedule-blackout.test-workflows.ts'),
  });
  running = worker.run();
});
afterAll(async () => {
  await Promise.all(schedules.map((s) => s.delete().catch(() => undefined)));
  worker?.shutdown();
  await running;
  await native?.close();
  await connection?.close();
});

async function createSchedule(input: ScheduleSpecInput, options: { paused?: boolean } = {}): Promise<ScheduleHandle> {
  const { spec, policies } = toTemporalSchedule(ScheduleSpecInputSchema.parse(input));
  const id = randomBytes(4).toString('hex');
  const handle = await client.schedule.create({
    scheduleId: `schedule/${id}`,
    spec,
    policies,
    action: { type: 'startWorkflow', workflowType: scheduledFiringWorkflow, taskQueue, workflowId: `firing/${id}` },
    state: { paused: options.paused ?? false, note: 'created by the test' },
  });
  schedules.push(handle);
  return handle;
}

async function nextTimes(handle: ScheduleHandle, count: number): Promise<string[]> {
  const { info } = await handle.describe();
  return info.nextActionTimes.slice(0, count).map((d) => d.toISOString());
}

describe('schedule specs on the Temporal server', () => {
  it('fires at 02:30 Berlin time around the spring change: the day without 02:30 has no firing', async () => {
    // 2030-03-31: the clocks jump from 02:00 CET to 03:00 CEST.
    const expected = ['2030-03-29T01:30:00.000Z', '2030-03-30T01:30:00.000Z', '2030-04-01T00:30:00.000Z', '2030-04-02T00:30:00.000Z'];
    const cron = await createSchedule({ cron: ['30 2 * * *'], timeZone: 'Europe/Berlin', startAt: '2030-03-29T00:00:00+01:00' }, { paused: true });
    expect(await nextTimes(cron, 4)).toEqual(expected);
    // The same times written as a calendar, through the calendar mapping.
    const calendar = await createSchedule({ calendars: [{ hour: '2', minute: '30' }], timeZone: 'Europe/Berlin', startAt: '2030-03-29T00:00:00+01:00' }, { paused: true });
    expect(await nextTimes(calendar, 4)).toEqual(expected);
  });

  it('fires once at 02:30 Berlin time on the night the clocks fall back: on the second pass, as the server reads it', async () => {
    // 2030-10-27: the clocks fall back from 03:00 CEST to 02:00 CET, so 02:30 comes twice. The SDK's doc says
    // such a time fires twice; the server (1.29) fires once, at 02:30 CET (01:30 UTC). This is what users get.
    const handle = await createSchedule({ cron: ['30 2 * * *'], timeZone: 'Europe/Berlin', startAt: '2030-10-26T00:00:00+02:00' }, { paused: true });
    expect(await nextTimes(handle, 4)).toEqual(['2030-10-26T00:30:00.000Z', '2030-10-27T01:30:00.000Z', '2030-10-28T01:30:00.000Z', '2030-10-29T01:30:00.000Z']);
  });

  it('reads weekdays with Sunday as 7, months by name, intervals with offsets, and stops at the end date', async () => {
    const weekend = await createSchedule(
      { calendars: [{ hour: '9', dayOfWeek: 'fri-7', month: 'jun' }], timeZone: 'America/New_York', startAt: '2030-06-01T00:00:00Z', endAt: '2030-06-10T00:00:00Z' },
      { paused: true },
    );
    // 2030-06-01 is a Saturday; New York is UTC-4 in June.
    expect(await nextTimes(weekend, 10)).toEqual(['2030-06-01T13:00:00.000Z', '2030-06-02T13:00:00.000Z', '2030-06-07T13:00:00.000Z', '2030-06-08T13:00:00.000Z', '2030-06-09T13:00:00.000Z']);
    const interval = await createSchedule({ intervals: [{ every: '6h', offset: '15m' }], timeZone: 'Asia/Kolkata', startAt: '2030-01-01T00:00:00Z' }, { paused: true });
    expect(await nextTimes(interval, 3)).toEqual(['2030-01-01T00:15:00.000Z', '2030-01-01T06:15:00.000Z', '2030-01-01T12:15:00.000Z']);
  });

  it('keeps the policies: overlap, catch-up window, pause on failure, and the jitter', async () => {
    const handle = await createSchedule({ cron: ['@daily'], timeZone: 'Europe/Berlin', overlap: 'cancel_other', catchupWindow: '10m', pauseOnFailure: true, jitter: '30s' }, { paused: true });
    const described = await handle.describe();
    expect(described.policies).toEqual({ overlap: 'CANCEL_OTHER', catchupWindow: 600_000, pauseOnFailure: true });
    expect(described.spec).toMatchObject({ timezone: 'Europe/Berlin', jitter: 30_000 });
  });

  it('pauses and unpauses with a note, triggers now, and backfills a past range in the zone', async () => {
    // Mondays 09:00 in Berlin: 08:00 UTC in winter, 07:00 once the clocks moved on 2025-03-30.
    const handle = await createSchedule({ cron: ['0 9 * * MON'], timeZone: 'Europe/Berlin', overlap: 'skip' });
    await handle.pause('release freeze until Friday');
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'release freeze until Friday' });
    await handle.unpause('freeze lifted');
    expect((await handle.describe()).state).toMatchObject({ paused: false, note: 'freeze lifted' });

    await handle.trigger('ALLOW_ALL');
    await handle.backfill({ start: new Date('2025-03-20T00:00:00Z'), end: new Date('2025-04-08T00:00:00Z'), overlap: 'ALLOW_ALL' });
    const firings = async () => {
      const { recentActions } = (await handle.describe()).info;
      return {
        backfilled: recentActions.filter((a) => a.scheduledAt.getTime() < Date.parse('2026-01-01T00:00:00Z')).map((a) => a.scheduledAt.toISOString()),
        triggered: recentActions.filter((a) => a.scheduledAt.getTime() > Date.now() - 600_000),
      };
    };
    await expect
      .poll(async () => firings().then((f) => ({ backfilled: f.backfilled, triggered: f.triggered.length })), { timeout: 20_000 })
      .toEqual({ backfilled: ['2025-03-24T08:00:00.000Z', '2025-03-31T07:00:00.000Z', '2025-04-07T07:00:00.000Z'], triggered: 1 });
    const { triggered } = await firings();
    const workflowId = triggered[0]!.action.workflow.workflowId;
    expect(workflowId).toMatch(new RegExp(`^firing/${handle.scheduleId.slice('schedule/'.length)}-`));
    expect(await client.workflow.getHandle(workflowId).result()).toBe(workflowId);
  });

  it('creates what the spec schema accepts, and the server agrees on the schedule it reads back', async () => {
    const handle = await createSchedule({ cron: ['*/15 9-17 * * MON-FRI', '0 0 1 1 * 2031'], timeZone: 'Australia/Lord_Howe', startAt: '2030-01-01T08:00:00Z' }, { paused: true });
    const [first] = await nextTimes(handle, 1);
    // Lord Howe is UTC+11 in January (a half-hour DST shift on a +10:30 zone): the start is 19:00 on Tuesday, so Wednesday 09:00 local comes next.
    expect(first).toBe('2030-01-01T22:00:00.000Z');
  });
});

describe('blackout windows inside the workflow sandbox', () => {
  it('finds the window in force with Intl, daylight saving time included, as outside it', async () => {
    const windows = [
      { type: 'weekly', name: 'sunday night', scope: { environment: 'staging' }, timeZone: 'Europe/Berlin', from: { day: 'sun', time: '02:30' }, to: { day: 'sun', time: '05:00' } },
      { type: 'once', name: 'release day', scope: { hostGroup: 'db' }, start: '2030-05-08T08:00:00+02:00', end: '2030-05-08T20:00:00+02:00' },
    ];
    const check = (instant: string) => client.workflow.execute(blackoutCheckWorkflow, { args: [windows, instant], taskQueue, workflowId: `blackout-${randomBytes(4).toString('hex')}` });
    // 02:30 does not exist on 2030-03-31 in Berlin: the window starts at 03:30 CEST (01:30 UTC).
    expect(await check('2030-03-31T01:15:00Z')).toBeNull();
    expect(await check('2030-03-31T01:45:00Z')).toMatchObject({ name: 'sunday night', start: '2030-03-31T01:30:00.000Z', end: '2030-03-31T03:00:00.000Z' });
    expect(await check('2030-05-08T12:00:00Z')).toMatchObject({ name: 'release day' });
  });

  it('refuses overlapping definitions inside the sandbox with the names', async () => {
    const windows = [
      { type: 'weekly', name: 'weekend', scope: { environment: 'uat' }, timeZone: 'Europe/Berlin', from: { day: 'fri', time: '18:00' }, to: { day: 'mon', time: '06:00' } },
      { type: 'weekly', name: 'friday evening', scope: { environment: 'uat' }, timeZone: 'UTC', from: { day: 'fri', time: '16:00' }, to: { day: 'fri', time: '20:00' } },
    ];
    const result = await client.workflow.execute(blackoutCheckWorkflow, { args: [windows, '2030-01-01T00:00:00Z'], taskQueue, workflowId: `blackout-${randomBytes(4).toString('hex')}` });
    expect(result).toEqual({ refused: expect.stringContaining('overlapping blackout definitions: "weekend" and "friday evening" (environment uat) both cover 2030-01-04T17:00:00.000Z') });
  });
});
