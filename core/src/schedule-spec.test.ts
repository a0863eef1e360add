import { describe, expect, it } from 'vitest';
import { cronProblem, durationMs, ScheduleSpecInputSchema, toTemporalSchedule } from './schedule-spec.ts';

function issues(input: object): string[] {
  const parsed = ScheduleSpecInputSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('cron expressions', () => {
  it('takes the five fields, a year as a sixth, names, ranges, steps, lists and the shorthands', () => {
    for (const ok of ['0 2 * * *', '*/15 9-17 * * MON-FRI', '30 2 1,15 jan-mar,oct *', '0 0 * * 7', '5/10 * * * sun', '0 12 * * * 2030', '0 0 1 1 * 2030-2032', '@daily', '@hourly', '  0   3 * *  Sat ']) {
      expect(cronProblem(ok), ok).toBeUndefined();
    }
  });

  it('says what is wrong and how to write it', () => {
    expect(cronProblem('61 * * * *')).toBe('minute 61 is out of range 0–59');
    expect(cronProblem('0 24 * * *')).toBe('hour 24 is out of range 0–23');
    expect(cronProblem('0 0 0 * *')).toBe('day of month 0 is out of range 1–31');
    expect(cronProblem('0 0 * 13 *')).toBe('month 13 is out of range 1–12');
    expect(cronProblem('0 0 * * 8')).toBe('day of week 8 is out of range 0–7');
    expect(cronProblem('0 0 * * funday')).toBe('day of week "funday" is not a number or a name such as MON');
    expect(cronProblem('0 17-9 * * *')).toBe('hour range "17-9" runs backwards; write the smaller value first');
    expect(cronProblem('0 0 * * fri-sun')).toBe('day of week range "fri-sun" runs backwards; write the smaller value first (a range that ends on Sunday ends at 7, like fri-7)');
    expect(cronProblem('*/0 * * * *')).toBe('minute "*/0": the step after "/" must be a whole number of at least 1');
    expect(cronProblem('0 0 * *')).toBe('a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6 with a year at the end; this one has 4');
    expect(cronProblem('0 0 12 * * *')).toMatch(/^the sixth field is a year \(2000–2100\) in Temporal's order/);
    expect(cronProblem('0 0 * * * 1999')).toBe('year 1999 is out of range 2000–2100');
    expect(cronProblem('0 0 ? * MON')).toMatch(/Quartz's "\?", "L" and "W" are not supported/);
    expect(cronProblem('0 0 * * MON#2')).toMatch(/takes no "#"/);
    expect(cronProblem('CRON_TZ=Europe/Berlin 0 2 * * *')).toMatch(/time zone field/);
    expect(cronProblem('@every 1h')).toMatch(/as an interval/);
    expect(cronProblem('@fortnightly')).toMatch(/unknown shorthand/);
  });
});

describe('durations', () => {
  it('reads days, hours, minutes and seconds', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('1h30m')).toBe(5_400_000);
    expect(durationMs('2d')).toBe(172_800_000);
    expect(durationMs('')).toBeUndefined();
    expect(durationMs('1.5h')).toBeUndefined();
    expect(durationMs('30 minutes')).toBeUndefined();
  });
});

describe('the schedule a user enters', () => {
  it('fills the defaults: UTC, skip overlapping firings, catch up on an hour of missed ones', () => {
    const parsed = ScheduleSpecInputSchema.parse({ cron: ['0 2 * * *'] });
    expect(parsed).toEqual({ cron: ['0 2 * * *'], calendars: [], intervals: [], timeZone: 'UTC', overlap: 'skip', catchupWindow: 3_600_000, pauseOnFailure: false });
  });

  it('refuses bad input with the field and what to do', () => {
    expect(issues({})).toEqual(['cron: say when the schedule fires: give a cron expression, a calendar or an interval']);
    expect(issues({ cron: ['0 2 * *'] })).toEqual(['cron.0: "0 2 * *": a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6 with a year at the end; this one has 4']);
    expect(issues({ cron: ['0 2 * * *'], timeZone: 'Europe/Paris ' })).toEqual(['timeZone: "Europe/Paris " is not an IANA time zone name; did you mean "Europe/Paris"?']);
    expect(issues({ cron: ['0 2 * * *'], startAt: '2030-06-01T00:00:00Z', endAt: '2030-05-01T00:00:00Z' })).toEqual(['endAt: the schedule ends before it starts; give an end after the start']);
    expect(issues({ intervals: [{ every: '1h', offset: '1h' }] })).toEqual(['intervals.0.offset: the offset must be shorter than the interval']);
    expect(issues({ intervals: [{ every: 'hourly' }] })).toEqual(['intervals.0.every: every: write a duration like 30s, 15m, 1h30m or 2d']);
    expect(issues({ cron: ['@daily'], overlap: 'queue' })).toEqual(['overlap: overlap is one of skip, buffer_one, cancel_other, allow_all']);
    expect(issues({ cron: ['@daily'], catchupWindow: '5s' })).toEqual(['catchupWindow: catchupWindow must be between 10 s and 365 days']);
    expect(issues({ calendars: [{ hour: '25' }] })).toEqual(['calendars.0.hour: hour 25 is out of range 0–23']);
    expect(issues({ cron: ['@daily'], jitter: '2d' })).toEqual(['jitter: jitter must be between 0 s and 1 days']);
  });
});

describe('the mapping to Temporal', () => {
  it('gives cron strings, calendars as ranges with Temporal\'s month and day names, intervals and policies in milliseconds', () => {
    const parts = toTemporalSchedule(
      ScheduleSpecInputSchema.parse({
        cron: ['30  2 * * *'],
        calendars: [{ hour: '9-11,14', minute: '*/20', dayOfWeek: 'fri-7', month: 'dec' }],
        intervals: [{ every: '6h', offset: '15m' }],
        timeZone: 'Europe/Berlin',
        startAt: '2030-03-01T00:00:00+01:00',
        endAt: '2030-12-01T00:00:00Z',
        jitter: '30s',
        overlap: 'buffer_one',
        catchupWindow: '10m',
      }),
    );
    expect(parts).toEqual({
      spec: {
        timezone: 'Europe/Berlin',
        cronExpressions: ['30 2 * * *'],
        calendars: [
          {
            second: [{ start: 0, end: 0, step: 1 }],
            minute: [0, 20, 40].map((m) => ({ start: m, end: m, step: 1 })),
            hour: [
              { start: 9, end: 11, step: 1 },
              { start: 14, end: 14, step: 1 },
            ],
            dayOfMonth: '*',
            month: [{ start: 'DECEMBER', end: 'DECEMBER', step: 1 }],
            // Sunday (7, also 0) comes first in Temporal's week.
            dayOfWeek: [
              { start: 'SUNDAY', end: 'SUNDAY', step: 1 },
              { start: 'FRIDAY', end: 'SATURDAY', step: 1 },
            ],
            year: '*',
          },
        ],
        intervals: [{ every: 21_600_000, offset: 900_000 }],
        startAt: new Date('2030-02-28T23:00:00Z'),
        endAt: new Date('2030-12-01T00:00:00Z'),
        jitter: 30_000,
      },
      policies: { overlap: 'BUFFER_ONE', catchupWindow: 600_000, pauseOnFailure: false },
    });
  });

  it('maps each overlap policy a user can choose', () => {
    const overlap = (o: string) => toTemporalSchedule(ScheduleSpecInputSchema.parse({ cron: ['@daily'], overlap: o })).policies.overlap;
    expect(['skip', 'buffer_one', 'cancel_other', 'allow_all'].map(overlap)).toEqual(['SKIP', 'BUFFER_ONE', 'CANCEL_OTHER', 'ALLOW_ALL']);
  });
});
