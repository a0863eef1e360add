import type { CalendarSpec, DayOfWeek, Month, ScheduleOverlapPolicy, ScheduleSpec } from '@temporalio/client';
import { z } from 'zod';
import { TimeZoneSchema } from './time-zone.ts';

// Browser-safe: what a user enters for a schedule, checked the way Temporal's server reads it, and the
// mapping to @temporalio/client's ScheduleSpec and policies (types only, so the web form can use it).

interface Field {
  name: string;
  min: number;
  max: number;
  /** Names a value may be written as, by prefix: Temporal takes three letters of a month and two of a day. */
  names?: { list: readonly string[]; first: number; prefixLength: number };
}

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

const FIELDS = {
  second: { name: 'second', min: 0, max: 59 },
  minute: { name: 'minute', min: 0, max: 59 },
  hour: { name: 'hour', min: 0, max: 23 },
  dayOfMonth: { name: 'day of month', min: 1, max: 31 },
  month: { name: 'month', min: 1, max: 12, names: { list: MONTH_NAMES, first: 1, prefixLength: 3 } },
  // 7 is Sunday too, as in most crons.
  dayOfWeek: { name: 'day of week', min: 0, max: 7, names: { list: DAY_NAMES, first: 0, prefixLength: 2 } },
  // Temporal's calendar knows the years 2000 to 2100.
  year: { name: 'year', min: 2000, max: 2100 },
} satisfies Record<string, Field>;
type FieldKey = keyof typeof FIELDS;

class FieldProblem extends Error {}

function fieldValue(text: string, field: Field): number {
  const lower = text.toLowerCase();
  if (field.names && lower.length >= field.names.prefixLength) {
    const index = field.names.list.findIndex((n) => n.startsWith(lower));
    if (index >= 0) return index + field.names.first;
  }
  if (!/^\d+$/.test(text)) {
    const names = field.names ? ` or a name such as ${field.names.list[1]!.slice(0, 3).toUpperCase()}` : '';
    throw new FieldProblem(`${field.name} "${text}" is not a number${names}`);
  }
  const value = Number(text);
  if (value < field.min || value > field.max) throw new FieldProblem(`${field.name} ${value} is out of range ${field.min}–${field.max}`);
  return value;
}

/**
 * The values one cron field matches, read as Temporal's server reads it: `*`, `5`, `1-5`, `*\/15`, `5/15`
 * (5 to the end, every 15), `1-5/2`, and lists of these separated by commas.
 */
function fieldValues(text: string, field: Field): Set<number> {
  if (text === '') throw new FieldProblem(`${field.name} is empty`);
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new FieldProblem(`${field.name} "${part}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new FieldProblem(`${field.name} "${part}": the step after "/" must be a whole number of at least 1`);
      step = Number(stepText);
    }
    if (range === undefined || range === '') throw new FieldProblem(`${field.name} "${text}" has an empty part`);
    let start = field.min;
    let end = field.max;
    if (range !== '*') {
      const bounds = range.split('-');
      if (bounds.length > 2) throw new FieldProblem(`${field.name} "${range}" has more than one "-"`);
      start = fieldValue(bounds[0]!, field);
      end = bounds.length === 2 ? fieldValue(bounds[1]!, field) : stepText !== undefined ? field.max : start;
      if (end < start) {
        const sunday = field.name === 'day of week' && end === 0 ? ' (a range that ends on Sunday ends at 7, like fri-7)' : '';
        throw new FieldProblem(`${field.name} range "${range}" runs backwards; write the smaller value first${sunday}`);
      }
    }
    for (let v = start; v <= end; v += step) values.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return values;
}

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const CRON_FIELDS: FieldKey[] = ['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek', 'year'];

/** What is wrong with a cron expression, in words that say how to write it; undefined when Temporal reads it as meant. */
export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (/^(CRON_)?TZ=/.test(text)) return 'give the time zone in the schedule\'s time zone field, not in the cron expression';
  if (text.startsWith('@every')) return 'write "@every" as an interval (every, with an offset), not as a cron expression';
  if (text.startsWith('@')) return SHORTHANDS[text] ? undefined : `unknown shorthand "${text}"; use @yearly, @monthly, @weekly, @daily or @hourly`;
  if (text.includes('#')) return 'a cron expression takes no "#" (no nth weekday, no comment); describe the schedule in its note';
  if (/[?LW]/i.test(text.replace(/[a-z]{2,}/gi, ''))) return 'Quartz\'s "?", "L" and "W" are not supported; use "*", ranges and lists';
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return `a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6 with a year at the end; this one has ${parts.length}`;
  }
  if (parts.length === 6 && !/^\d{4}([-,/]\d{1,4})*$/.test(parts[5]!)) {
    // Quartz and node-cron put seconds first in six fields; Temporal puts a year last. Reading one as the other would fire at other times.
    return `the sixth field is a year (2000–2100) in Temporal's order minute hour day-of-month month day-of-week year; leave it out for every year (seconds-first cron is not supported)`;
  }
  try {
    parts.forEach((part, i) => fieldValues(part, FIELDS[CRON_FIELDS[i]!]));
  } catch (err) {
    if (err instanceof FieldProblem) return err.message;
    throw err;
  }
  return undefined;
}

export const CronExpressionSchema = z
  .string()
  .transform((t) => t.trim().replace(/\s+/g, ' '))
  .superRefine((expression, ctx) => {
    const problem = cronProblem(expression);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${expression}": ${problem}` });
  });

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** `90s`, `15m`, `1h30m`, `2d`: milliseconds, or undefined when it is not such a duration. */
export function durationMs(text: string): number | undefined {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  return ['d', 'h', 'm', 's'].reduce((total, unit, i) => total + Number(match[i + 1] ?? 0) * UNIT_MS[unit]!, 0);
}

function duration(what: string, { min, max }: { min: number; max?: number }) {
  return z.string().transform((text, ctx) => {
    const ms = durationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${what}: write a duration like 30s, 15m, 1h30m or 2d` });
      return z.NEVER;
    }
    if (ms < min || (max !== undefined && ms > max)) {
      ctx.addIssue({ code: 'custom', message: `${what} must be ${max === undefined ? `at least ${min / 1000} s` : `between ${min / 1000} s and ${max / 86_400_000} days`}` });
      return z.NEVER;
    }
    return ms;
  });
}

function calendarField(key: FieldKey) {
  return z
    .string()
    .trim()
    .superRefine((text, ctx) => {
      try {
        fieldValues(text, FIELDS[key]);
      } catch (err) {
        if (!(err instanceof FieldProblem)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
      }
    })
    .optional();
}

/** A calendar spec as a form holds it: each field in cron syntax; unset, the second, minute and hour are 0 and the rest any. */
export const CalendarInputSchema = z.strictObject({
  second: calendarField('second'),
  minute: calendarField('minute'),
  hour: calendarField('hour'),
  dayOfMonth: calendarField('dayOfMonth'),
  month: calendarField('month'),
  dayOfWeek: calendarField('dayOfWeek'),
  year: calendarField('year'),
  comment: z.string().max(200).optional(),
});
export type CalendarInput = z.infer<typeof CalendarInputSchema>;

/** Every `every`, shifted by `offset`, counted from the Unix epoch: `{ every: '1h', offset: '15m' }` fires at :15. */
export const IntervalInputSchema = z
  .strictObject({ every: duration('every', { min: 1000 }), offset: duration('offset', { min: 0 }).default(0) })
  .refine((i) => i.offset < i.every, { error: 'the offset must be shorter than the interval', path: ['offset'] });

export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'cancel_other', 'allow_all'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

const Instant = z.iso.datetime({ offset: true, error: 'give an instant with its offset, like 2030-05-02T08:00:00+02:00 or 2030-05-02T06:00:00Z' });

/** What a user enters for when a schedule fires and what it does when firings meet or are missed. */
export const ScheduleSpecInputSchema = z
  .strictObject({
    cron: z.array(CronExpressionSchema).max(20).default([]),
    calendars: z.array(CalendarInputSchema).max(20).default([]),
    intervals: z.array(IntervalInputSchema).max(20).default([]),
    /** The IANA zone cron and calendar times are read in; intervals do not depend on it. */
    timeZone: TimeZoneSchema.default('UTC'),
    startAt: Instant.optional(),
    endAt: Instant.optional(),
    /** Each firing is delayed by a random amount up to this. */
    jitter: duration('jitter', { min: 0, max: 86_400_000 }).optional(),
    overlap: z.enum(OVERLAP_POLICIES, { error: `overlap is one of ${OVERLAP_POLICIES.join(', ')}` }).default('skip'),
    /** After Temporal was down, firings missed by less than this still happen; older ones are dropped (backfill brings them back). */
    catchupWindow: duration('catchupWindow', { min: 10_000, max: 365 * 86_400_000 }).default(3_600_000),
    pauseOnFailure: z.boolean().default(false),
  })
  .refine((s) => s.cron.length + s.calendars.length + s.intervals.length > 0, {
    error: 'say when the schedule fires: give a cron expression, a calendar or an interval',
    path: ['cron'],
  })
  .refine((s) => s.startAt === undefined || s.endAt === undefined || Date.parse(s.endAt) > Date.parse(s.startAt), {
    error: 'the schedule ends before it starts; give an end after the start',
    path: ['endAt'],
  });
export type ScheduleSpecInput = z.input<typeof ScheduleSpecInputSchema>;
export type ScheduleSpecSettings = z.output<typeof ScheduleSpecInputSchema>;

const OVERLAP: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  buffer_one: 'BUFFER_ONE',
  cancel_other: 'CANCEL_OTHER',
  allow_all: 'ALLOW_ALL',
};

type Ranges<Unit> = { start: Unit; end: Unit; step: number }[] | '*';

/** A field's values as runs of consecutive values, or '*' when it matches its whole range. */
function ranges<Unit>(text: string | undefined, key: FieldKey, unit: (v: number) => Unit, fallback: '0' | '*'): Ranges<Unit> {
  const field = FIELDS[key];
  const values = [...fieldValues(text ?? fallback, field)].sort((a, b) => a - b);
  const domain = key === 'dayOfWeek' ? 7 : field.max - field.min + 1;
  if (values.length === domain) return '*';
  const runs: { start: Unit; end: Unit; step: number }[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    runs.push({ start: unit(values[i]!), end: unit(values[j]!), step: 1 });
    i = j + 1;
  }
  return runs;
}

const MONTHS = MONTH_NAMES.map((m) => m.toUpperCase() as Month);
const WEEKDAYS = DAY_NAMES.map((d) => d.toUpperCase() as DayOfWeek);

function calendarSpec(c: CalendarInput): CalendarSpec {
  const same = (v: number) => v;
  return {
    second: ranges(c.second, 'second', same, '0'),
    minute: ranges(c.minute, 'minute', same, '0'),
    hour: ranges(c.hour, 'hour', same, '0'),
    dayOfMonth: ranges(c.dayOfMonth, 'dayOfMonth', same, '*'),
    month: ranges(c.month, 'month', (v) => MONTHS[v - 1]!, '*'),
    dayOfWeek: ranges(c.dayOfWeek, 'dayOfWeek', (v) => WEEKDAYS[v]!, '*'),
    year: ranges(c.year, 'year', same, '*'),
    ...(c.comment ? { comment: c.comment } : {}),
  };
}

export interface TemporalScheduleParts {
  spec: ScheduleSpec;
  policies: { overlap: ScheduleOverlapPolicy; catchupWindow: number; pauseOnFailure: boolean };
}

/** The ScheduleSpec and policies for `client.schedule.create` and `handle.update`, from a parsed input. */
export function toTemporalSchedule(input: ScheduleSpecSettings): TemporalScheduleParts {
  const spec: ScheduleSpec = { timezone: input.timeZone };
  if (input.cron.length > 0) spec.cronExpressions = input.cron;
  if (input.calendars.length > 0) spec.calendars = input.calendars.map(calendarSpec);
  if (input.intervals.length > 0) spec.intervals = input.intervals.map((i) => ({ every: i.every, offset: i.offset }));
  if (input.startAt) spec.startAt = new Date(input.startAt);
  if (input.endAt) spec.endAt = new Date(input.endAt);
  if (input.jitter !== undefined) spec.jitter = input.jitter;
  return { spec, policies: { overlap: OVERLAP[input.overlap], catchupWindow: input.catchupWindow, pauseOnFailure: input.pauseOnFailure } };
}
