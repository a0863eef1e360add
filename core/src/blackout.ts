import { z } from 'zod';
import { ENVIRONMENTS } from './api/hosts.ts';
import { ValidationError } from './errors.ts';
import { addDays, type LocalDateTime, localDateTime, TimeZoneSchema, zonedInstant } from './time-zone.ts';

// Workflow-safe: pure and deterministic, Intl for time zones and no Node built-ins (decision 013).

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

const DaySchema = z.preprocess(
  (v) => (typeof v === 'string' ? DAYS[DAY_NAMES.findIndex((name) => v.trim().length >= 3 && name.startsWith(v.trim().toLowerCase()))] ?? v : v),
  z.enum(DAYS, { error: 'give a day of the week: mon, tue, wed, thu, fri, sat or sun' }),
);
const TimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'give a time of day as HH:MM, 00:00 to 23:59' });
const WeekTimeSchema = z.strictObject({ day: DaySchema, time: TimeSchema });

/** Where a window applies: every host of an environment, or every host of a host group. */
export const BlackoutScopeSchema = z
  .strictObject({
    environment: z.enum(ENVIRONMENTS, { error: `an environment is one of ${ENVIRONMENTS.join(', ')}` }).optional(),
    hostGroup: z.string().trim().min(1, { error: 'name the host group' }).max(100).optional(),
  })
  .refine((s) => (s.environment === undefined) !== (s.hostGroup === undefined), { error: 'give an environment or a host group, not both' });
export type BlackoutScope = z.infer<typeof BlackoutScopeSchema>;

const NameSchema = z.string().trim().min(1, { error: 'name the window: skipped firings are recorded with its name' }).max(100);

/** Every week from one wall-clock time to another in an IANA zone: "fri 18:00 to mon 06:00 Europe/Berlin". */
export const WeeklyBlackoutSchema = z
  .strictObject({
    type: z.literal('weekly'),
    name: NameSchema,
    scope: BlackoutScopeSchema,
    timeZone: TimeZoneSchema,
    from: WeekTimeSchema,
    to: WeekTimeSchema,
  })
  .refine((w) => w.from.day !== w.to.day || w.from.time !== w.to.time, {
    error: 'a weekly window that ends when it starts covers nothing; give an end at another day or time',
    path: ['to'],
  });

const Instant = z.iso.datetime({ offset: true, error: 'give an instant with its offset, like 2030-05-02T08:00:00+02:00 or 2030-05-02T06:00:00Z' });

/** Once, between two instants: a release day. */
export const OneOffBlackoutSchema = z
  .strictObject({
    type: z.literal('once'),
    name: NameSchema,
    scope: BlackoutScopeSchema,
    start: Instant,
    end: Instant,
  })
  .refine((w) => Date.parse(w.end) > Date.parse(w.start), { error: 'the window ends before it starts; give an end after the start', path: ['end'] });

export const BlackoutWindowSchema = z.discriminatedUnion('type', [WeeklyBlackoutSchema, OneOffBlackoutSchema]);
export type BlackoutWindow = z.infer<typeof BlackoutWindowSchema>;
export type WeeklyBlackout = z.infer<typeof WeeklyBlackoutSchema>;

/** Which hosts a firing or run reaches: a window applies when its scope names the environment or one of the groups. */
export interface BlackoutTarget {
  environment?: string | null;
  hostGroups?: readonly string[];
}

/** A window in force, with the instants its current occurrence starts and ends (ISO 8601, UTC). */
export interface ActiveBlackout {
  name: string;
  window: BlackoutWindow;
  start: string;
  end: string;
}

type Interval = [start: number, end: number];

function toMillis(instant: Date | number | string): number {
  const ms = instant instanceof Date ? instant.getTime() : typeof instant === 'string' ? Date.parse(instant) : instant;
  if (!Number.isFinite(ms)) throw new ValidationError(`not an instant: ${String(instant)}`);
  return ms;
}

function minutes(time: string): { hour: number; minute: number } {
  const [hour, minute] = time.split(':').map(Number);
  return { hour: hour!, minute: minute! };
}

/** Whole days from a weekly window's start day to its end day: 1–7, a full week when it ends before its start time on the same day. */
function spanDays(w: WeeklyBlackout): number {
  const days = (DAYS.indexOf(w.to.day) - DAYS.indexOf(w.from.day) + 7) % 7;
  return days === 0 && w.to.time <= w.from.time ? 7 : days;
}

/** One occurrence of a weekly window, starting on the local date `date` (which falls on its start day). */
function occurrence(w: WeeklyBlackout, date: LocalDateTime): Interval {
  const start = zonedInstant({ ...date, ...minutes(w.from.time) }, w.timeZone);
  const end = zonedInstant({ ...addDays(date, spanDays(w)), ...minutes(w.to.time) }, w.timeZone);
  return [start, end];
}

/** The occurrences of a window that meet [from, to), in order. */
function occurrences(w: BlackoutWindow, from: number, to: number): Interval[] {
  if (w.type === 'once') {
    const interval: Interval = [Date.parse(w.start), Date.parse(w.end)];
    return interval[1] > from && interval[0] < to ? [interval] : [];
  }
  const startDay = DAYS.indexOf(w.from.day);
  const found: Interval[] = [];
  // Start eight days early: an occurrence that began up to a week before `from` may still be running.
  const first = localDateTime(from - 8 * 86_400_000, w.timeZone);
  let date: LocalDateTime = { year: first.year, month: first.month, day: first.day, hour: 0, minute: 0 };
  for (;;) {
    const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
    if (weekday === startDay) {
      const interval = occurrence(w, date);
      if (interval[0] >= to) return found;
      if (interval[1] > from) found.push(interval);
      date = addDays(date, 7);
    } else {
      date = addDays(date, (startDay - weekday + 7) % 7);
    }
  }
}

function applies(w: BlackoutWindow, target: BlackoutTarget | undefined): boolean {
  if (!target) return true;
  if (w.scope.environment !== undefined) return target.environment === w.scope.environment;
  return w.scope.hostGroup !== undefined && (target.hostGroups ?? []).includes(w.scope.hostGroup);
}

/** Every window in force at `instant` for `target` (every window given, without a target). */
export function activeWindows(windows: readonly BlackoutWindow[], instant: Date | number | string, target?: BlackoutTarget): ActiveBlackout[] {
  const at = toMillis(instant);
  const active: ActiveBlackout[] = [];
  for (const w of windows) {
    if (!applies(w, target)) continue;
    const hit = occurrences(w, at, at + 1).find(([start, end]) => start <= at && at < end);
    if (hit) active.push({ name: w.name, window: w, start: new Date(hit[0]).toISOString(), end: new Date(hit[1]).toISOString() });
  }
  return active;
}

/**
 * The window in force at `instant` for `target`, or undefined. When windows of different scopes are in
 * force at once (an environment's and a host group's), the one that ends last: it says how long the block lasts.
 */
export function activeWindow(windows: readonly BlackoutWindow[], instant: Date | number | string, target?: BlackoutTarget): ActiveBlackout | undefined {
  return activeWindows(windows, instant, target).sort((a, b) => Date.parse(b.end) - Date.parse(a.end) || a.name.localeCompare(b.name))[0];
}

export function scopeLabel(scope: BlackoutScope): string {
  return scope.environment !== undefined ? `environment ${scope.environment}` : `host group ${scope.hostGroup}`;
}

function sameScope(a: BlackoutScope, b: BlackoutScope): boolean {
  return scopeLabel(a) === scopeLabel(b);
}

export interface BlackoutOverlap {
  first: string;
  second: string;
  scope: string;
  /** The first instant both windows cover (ISO 8601, UTC). */
  at: string;
}

/** How far ahead two weekly windows are compared: a year and a week, so every daylight-saving rule of the year is met. */
const HORIZON_MS = 371 * 86_400_000;

function firstMeeting(a: Interval[], b: Interval[]): number | undefined {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [aStart, aEnd] = a[i]!;
    const [bStart, bEnd] = b[j]!;
    if (aStart < bEnd && bStart < aEnd) return Math.max(aStart, bStart);
    if (aEnd <= bEnd) i++;
    else j++;
  }
  return undefined;
}

/**
 * Pairs of windows of the same scope that cover a common instant. Windows meet when their times intersect:
 * one that ends at 06:00 and one that starts at 06:00 do not. One-off windows are compared over their
 * own span, weekly ones over the year after `from`; windows of different scopes may overlap.
 */
export function findOverlaps(windows: readonly BlackoutWindow[], from: Date | number | string): BlackoutOverlap[] {
  const start = toMillis(from);
  const overlaps: BlackoutOverlap[] = [];
  for (let i = 0; i < windows.length; i++) {
    for (let j = i + 1; j < windows.length; j++) {
      const a = windows[i]!;
      const b = windows[j]!;
      if (!sameScope(a.scope, b.scope)) continue;
      const once = [a, b].filter((w) => w.type === 'once');
      const range: Interval =
        once.length > 0
          ? [Math.max(...once.map((w) => Date.parse(w.start))), Math.min(...once.map((w) => Date.parse(w.end)))]
          : [start, start + HORIZON_MS];
      if (range[0] >= range[1]) continue;
      const at = firstMeeting(occurrences(a, range[0], range[1]), occurrences(b, range[0], range[1]));
      if (at !== undefined) overlaps.push({ first: a.name, second: b.name, scope: scopeLabel(a.scope), at: new Date(at).toISOString() });
    }
  }
  return overlaps;
}

/**
 * The save-time check of a scope's blackout definitions: each parsed by its schema, names unique per
 * scope, and no two of the same scope overlapping. Throws a ValidationError naming the windows.
 */
export function checkBlackoutWindows(input: readonly unknown[], from: Date | number | string): BlackoutWindow[] {
  const windows: BlackoutWindow[] = [];
  const fields: Record<string, string[]> = {};
  input.forEach((raw, index) => {
    const parsed = BlackoutWindowSchema.safeParse(raw);
    if (parsed.success) windows.push(parsed.data);
    else for (const issue of parsed.error.issues) (fields[[index, ...issue.path].join('.')] ??= []).push(issue.message);
  });
  if (Object.keys(fields).length > 0) throw new ValidationError('invalid blackout window', fields);
  const seen = new Map<string, string>();
  for (const w of windows) {
    const key = `${scopeLabel(w.scope)}\u0000${w.name.toLowerCase()}`;
    if (seen.has(key)) throw new ValidationError(`two blackout windows of ${scopeLabel(w.scope)} are named "${w.name}"; give each its own name`);
    seen.set(key, w.name);
  }
  const overlaps = findOverlaps(windows, from);
  if (overlaps.length > 0) {
    const pairs = overlaps.map((o) => `"${o.first}" and "${o.second}" (${o.scope}) both cover ${o.at}`);
    throw new ValidationError(`overlapping blackout definitions: ${pairs.join('; ')}. Change their times so they do not meet, or merge them into one window`);
  }
  return windows;
}
