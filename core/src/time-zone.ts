import { z } from 'zod';

// Workflow-safe and browser-safe: IANA time zones with Intl alone (no Node built-ins, no clock).

/** A wall-clock time in some zone, to the minute; `month` is 1–12. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall clock in `zone` at `instant` (epoch milliseconds), to the second. */
function wallClock(instant: number, zone: string): LocalDateTime & { second: number } {
  const fields: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(instant)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return { year: fields.year!, month: fields.month!, day: fields.day!, hour: fields.hour!, minute: fields.minute!, second: fields.second! };
}

/** Milliseconds east of UTC in `zone` at `instant`. */
export function zoneOffset(instant: number, zone: string): number {
  const w = wallClock(instant, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000));
}

/** The wall clock in `zone` at `instant`, to the minute, with its weekday (0 = Sunday). */
export function localDateTime(instant: number, zone: string): LocalDateTime & { weekday: number } {
  const w = wallClock(instant, zone);
  return { year: w.year, month: w.month, day: w.day, hour: w.hour, minute: w.minute, weekday: new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay() };
}

const DAY_MS = 86_400_000;

function sameMinute(a: LocalDateTime, b: LocalDateTime): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;
}

/**
 * The instant a wall-clock time in `zone` names, resolved as RFC 5545 (iCalendar) and the `compatible`
 * choice of TC39's Temporal do: a time the clocks skip (02:30 when they jump from 02:00 to 03:00) is read
 * with the offset in force before the jump, so it lands as far after the jump as it was after its start
 * (03:30); a time the clocks pass twice (02:30 when they fall back from 03:00 to 02:00) is the first one.
 */
export function zonedInstant(local: LocalDateTime, zone: string): number {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  // No zone moves its clocks twice within two days, so the offsets a day either side bound the answer.
  const before = zoneOffset(asUtc - DAY_MS, zone);
  const after = zoneOffset(asUtc + DAY_MS, zone);
  const candidates = [...new Set([asUtc - before, asUtc - after])].filter((c) => sameMinute(localDateTime(c, zone), local));
  if (candidates.length === 0) return asUtc - before;
  return Math.min(...candidates);
}

/** `date` moved by whole days on the calendar (the wall clock is kept). */
export function addDays(local: LocalDateTime, days: number): LocalDateTime {
  const d = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
  return { ...local, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

let knownZones: Set<string> | undefined;

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * What is wrong with `zone` as an IANA time zone name, or undefined when Temporal's server and Intl both
 * know it. Names from `Intl.supportedValuesOf('timeZone')` are taken as they are; so are the aliases Intl
 * also accepts (`UTC`, `Asia/Kolkata`, `US/Pacific`), since that list holds one name per zone. A name
 * spelled in the wrong case is refused with the right spelling: Intl ignores case, the server does not.
 */
export function timeZoneProblem(zone: string): string | undefined {
  knownZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (knownZones.has(zone)) return undefined;
  let resolved: string | undefined;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    resolved = undefined;
  }
  const wellFormed = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/.test(zone);
  if (resolved !== undefined && wellFormed && resolved.toLowerCase() !== zone.toLowerCase()) return undefined;
  if (resolved !== undefined && (zone === 'UTC' || zone === 'Etc/UTC')) return undefined;
  if (resolved !== undefined) return `write the time zone as "${resolved}" (IANA names are case-sensitive)`;
  const closest = [...knownZones]
    .map((name) => ({ name, distance: editDistance(name.toLowerCase(), zone.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance)[0];
  const hint = closest && closest.distance <= 3 ? `; did you mean "${closest.name}"?` : ', such as "Europe/Berlin", "America/New_York" or "UTC"';
  return `"${zone}" is not an IANA time zone name${hint}`;
}

/** An IANA time zone name that Intl and Temporal's server both know, spelled as they spell it. */
export const TimeZoneSchema = z.string().superRefine((zone, ctx) => {
  const problem = timeZoneProblem(zone);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
