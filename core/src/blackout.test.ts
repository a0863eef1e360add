import { describe, expect, it } from 'vitest';
import { activeWindow, activeWindows, type BlackoutWindow, BlackoutWindowSchema, checkBlackoutWindows, findOverlaps } from './blackout.ts';
import { ValidationError } from './errors.ts';
import { timeZoneProblem, zonedInstant } from './time-zone.ts';

const weekend: BlackoutWindow = BlackoutWindowSchema.parse({
  type: 'weekly',
  name: 'staging weekend',
  scope: { environment: 'staging' },
  timeZone: 'Europe/Berlin',
  from: { day: 'Fri', time: '18:00' },
  to: { day: 'monday', time: '06:00' },
});

const releaseDay: BlackoutWindow = BlackoutWindowSchema.parse({
  type: 'once',
  name: 'release 4.2',
  scope: { hostGroup: 'payments-db' },
  start: '2030-05-08T08:00:00+02:00',
  end: '2030-05-08T20:00:00+02:00',
});

function weekly(name: string, timeZone: string, from: [string, string], to: [string, string], scope: object = { environment: 'staging' }): BlackoutWindow {
  return BlackoutWindowSchema.parse({ type: 'weekly', name, scope, timeZone, from: { day: from[0], time: from[1] }, to: { day: to[0], time: to[1] } });
}

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('a weekly window in a time zone', () => {
  it('is in force from Friday 18:00 to Monday 06:00 Berlin time, and names itself with the occurrence', () => {
    // 2030-05-03 is a Friday; Berlin is UTC+2 in May.
    expect(activeWindow([weekend], '2030-05-03T15:59:00Z')).toBeUndefined();
    expect(activeWindow([weekend], '2030-05-03T16:00:00Z')).toMatchObject({
      name: 'staging weekend',
      start: '2030-05-03T16:00:00.000Z',
      end: '2030-05-06T04:00:00.000Z',
    });
    expect(activeWindow([weekend], '2030-05-05T12:00:00Z')?.name).toBe('staging weekend');
    expect(activeWindow([weekend], '2030-05-06T03:59:59Z')?.name).toBe('staging weekend');
    expect(activeWindow([weekend], '2030-05-06T04:00:00Z')).toBeUndefined();
    expect(activeWindow([weekend], '2030-05-08T12:00:00Z')).toBeUndefined();
  });

  it('follows the zone through the year: 18:00 Berlin is 17:00 UTC in winter', () => {
    expect(activeWindow([weekend], '2030-01-04T16:30:00Z')).toBeUndefined();
    expect(activeWindow([weekend], '2030-01-04T17:00:00Z')).toMatchObject({ start: '2030-01-04T17:00:00.000Z', end: '2030-01-07T05:00:00.000Z' });
  });

  it('accepts a Date, epoch milliseconds or an ISO string for the instant', () => {
    const at = Date.parse('2030-05-04T10:00:00Z');
    expect(activeWindow([weekend], at)?.name).toBe('staging weekend');
    expect(activeWindow([weekend], new Date(at))?.name).toBe('staging weekend');
  });

  it('applies only to its scope when a target is given', () => {
    const saturday = '2030-05-04T10:00:00Z';
    expect(activeWindow([weekend], saturday, { environment: 'staging' })?.name).toBe('staging weekend');
    expect(activeWindow([weekend], saturday, { environment: 'uat', hostGroups: ['staging'] })).toBeUndefined();
    expect(activeWindow([releaseDay], '2030-05-08T10:00:00Z', { environment: 'staging', hostGroups: ['web', 'payments-db'] })?.name).toBe('release 4.2');
    expect(activeWindow([releaseDay], '2030-05-08T10:00:00Z', { environment: 'staging', hostGroups: ['web'] })).toBeUndefined();
  });

  it('runs a full week when it ends on its start day before its start time', () => {
    const almostAlways = weekly('maintenance freeze', 'UTC', ['mon', '09:00'], ['mon', '08:00']);
    expect(activeWindow([almostAlways], '2030-05-06T08:30:00Z')).toBeUndefined();
    expect(activeWindow([almostAlways], '2030-05-06T09:00:00Z')).toMatchObject({ end: '2030-05-13T08:00:00.000Z' });
    expect(activeWindow([almostAlways], '2030-05-12T23:00:00Z')?.name).toBe('maintenance freeze');
  });
});

describe('daylight saving time (RFC 5545 rules: a skipped time moves on by the jump, a repeated time is the first)', () => {
  // Berlin, 2030-03-31: 02:00 CET jumps to 03:00 CEST (01:00 UTC). 2030-10-27: 03:00 CEST falls back to 02:00 CET (01:00 UTC).
  it('a window that starts at a time the clocks skip starts as far after the jump: 02:30 is read as 03:30', () => {
    const nightly = weekly('sunday night', 'Europe/Berlin', ['sun', '02:30'], ['sun', '05:00']);
    expect(activeWindow([nightly], '2030-03-31T01:15:00Z')).toBeUndefined(); // 03:15 CEST
    expect(activeWindow([nightly], '2030-03-31T01:30:00Z')).toMatchObject({ start: '2030-03-31T01:30:00.000Z', end: '2030-03-31T03:00:00.000Z' });
    // The week before and after, 02:30 exists and the window starts there.
    expect(activeWindow([nightly], '2030-03-24T01:30:00Z')).toMatchObject({ start: '2030-03-24T01:30:00.000Z' });
    expect(activeWindow([nightly], '2030-04-07T00:30:00Z')).toMatchObject({ start: '2030-04-07T00:30:00.000Z' });
  });

  it('a window that ends at a time the clocks skip ends as far after the jump', () => {
    const overnight = weekly('saturday night', 'Europe/Berlin', ['sat', '22:00'], ['sun', '02:30']);
    expect(activeWindow([overnight], '2030-03-31T01:20:00Z')).toMatchObject({ end: '2030-03-31T01:30:00.000Z' }); // 03:20 CEST
    expect(activeWindow([overnight], '2030-03-31T01:30:00Z')).toBeUndefined();
  });

  it('a window at a time the clocks pass twice takes the first pass, and does not come back on the second', () => {
    const short = weekly('backup', 'Europe/Berlin', ['sun', '02:30'], ['sun', '02:45']);
    expect(activeWindow([short], '2030-10-27T00:30:00Z')).toMatchObject({ start: '2030-10-27T00:30:00.000Z', end: '2030-10-27T00:45:00.000Z' }); // 02:30 CEST
    expect(activeWindow([short], '2030-10-27T01:35:00Z')).toBeUndefined(); // 02:35 CET, the second pass
  });

  it('a window across the night the clocks fall back lasts an hour longer in UTC', () => {
    const overnight = weekly('saturday night', 'Europe/Berlin', ['sat', '22:00'], ['sun', '06:00']);
    expect(activeWindow([overnight], '2030-10-27T04:30:00Z')).toMatchObject({ start: '2030-10-26T20:00:00.000Z', end: '2030-10-27T05:00:00.000Z' });
  });

  it('resolves wall-clock times in zones west of UTC too (New York, 2030-03-10 and 2030-11-03)', () => {
    expect(new Date(zonedInstant({ year: 2030, month: 3, day: 10, hour: 2, minute: 30 }, 'America/New_York')).toISOString()).toBe('2030-03-10T07:30:00.000Z');
    expect(new Date(zonedInstant({ year: 2030, month: 11, day: 3, hour: 1, minute: 30 }, 'America/New_York')).toISOString()).toBe('2030-11-03T05:30:00.000Z');
  });
});

describe('one-off windows', () => {
  it('are in force between their instants, the end excluded', () => {
    expect(activeWindow([releaseDay], '2030-05-08T05:59:59Z')).toBeUndefined();
    expect(activeWindow([releaseDay], '2030-05-08T06:00:00Z')).toMatchObject({ name: 'release 4.2', start: '2030-05-08T06:00:00.000Z', end: '2030-05-08T18:00:00.000Z' });
    expect(activeWindow([releaseDay], '2030-05-08T18:00:00Z')).toBeUndefined();
  });

  it('refuses an end before the start, and instants without an offset', () => {
    const backwards = BlackoutWindowSchema.safeParse({ type: 'once', name: 'x', scope: { environment: 'uat' }, start: '2030-05-08T10:00:00Z', end: '2030-05-08T09:00:00Z' });
    expect(backwards.error?.issues).toEqual([expect.objectContaining({ path: ['end'], message: 'the window ends before it starts; give an end after the start' })]);
    const local = BlackoutWindowSchema.safeParse({ type: 'once', name: 'x', scope: { environment: 'uat' }, start: '2030-05-08T10:00:00', end: '2030-05-08T11:00:00Z' });
    expect(local.error?.issues[0]?.message).toMatch(/with its offset/);
  });
});

describe('several windows at once', () => {
  it('lists every window in force, and activeWindow gives the one that lasts longest', () => {
    const db = weekly('db patching', 'UTC', ['sat', '00:00'], ['sat', '06:00'], { hostGroup: 'db' });
    const at = '2030-05-04T02:00:00Z';
    expect(activeWindows([weekend, db], at).map((w) => w.name)).toEqual(['staging weekend', 'db patching']);
    expect(activeWindow([db, weekend], at)?.name).toBe('staging weekend');
  });
});

describe('bad definitions', () => {
  it('names what to fix: an unknown zone (with the closest name), a wrong case, a day, a time, an empty window', () => {
    const base = { type: 'weekly', name: 'w', scope: { environment: 'staging' }, timeZone: 'Europe/Berlin', from: { day: 'fri', time: '18:00' }, to: { day: 'mon', time: '06:00' } };
    const issues = (patch: object) => BlackoutWindowSchema.safeParse({ ...base, ...patch }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ timeZone: 'Europe/Berln' })).toEqual(['timeZone: "Europe/Berln" is not an IANA time zone name; did you mean "Europe/Berlin"?']);
    expect(issues({ timeZone: 'europe/berlin' })).toEqual(['timeZone: write the time zone as "Europe/Berlin" (IANA names are case-sensitive)']);
    expect(issues({ timeZone: 'Mars/Olympus_Mons' })?.[0]).toMatch(/not an IANA time zone name, such as "Europe\/Berlin"/);
    expect(issues({ from: { day: 'fr', time: '18:00' } })).toEqual(['from.day: give a day of the week: mon, tue, wed, thu, fri, sat or sun']);
    expect(issues({ to: { day: 'mon', time: '24:00' } })).toEqual(['to.time: give a time of day as HH:MM, 00:00 to 23:59']);
    expect(issues({ to: { day: 'fri', time: '18:00' } })).toEqual(['to: a weekly window that ends when it starts covers nothing; give an end at another day or time']);
    expect(issues({ scope: { environment: 'prod' } })?.[0]).toMatch(/environment is one of dev, staging, uat, preprod/);
  });

  it('takes IANA aliases that Intl and Temporal both know', () => {
    expect(timeZoneProblem('UTC')).toBeUndefined();
    expect(timeZoneProblem('Asia/Kolkata')).toBeUndefined();
    expect(timeZoneProblem('Asia/Calcutta')).toBeUndefined();
    expect(timeZoneProblem('US/Pacific')).toBeUndefined();
  });
});

describe('overlapping definitions', () => {
  const from = '2030-01-01T00:00:00Z';

  it('refuses two windows of one scope whose times meet, naming both and the first shared instant', () => {
    const friday = weekly('friday deploy freeze', 'Europe/Berlin', ['fri', '12:00'], ['fri', '20:00']);
    const err = validationError(() => checkBlackoutWindows([weekend, friday], from));
    expect(err.message).toBe(
      'overlapping blackout definitions: "staging weekend" and "friday deploy freeze" (environment staging) both cover 2030-01-04T17:00:00.000Z. ' +
        'Change their times so they do not meet, or merge them into one window',
    );
  });

  it('lets windows touch end to start, and lets windows of different scopes overlap', () => {
    const monday = weekly('monday morning', 'Europe/Berlin', ['mon', '06:00'], ['mon', '08:00']);
    const otherScope = weekly('uat weekend', 'Europe/Berlin', ['fri', '18:00'], ['mon', '06:00'], { environment: 'uat' });
    expect(checkBlackoutWindows([weekend, monday, otherScope], from)).toHaveLength(3);
  });

  it('compares windows in different zones over the year, daylight saving time included', () => {
    // 18:00 Berlin and 17:00 London are the same instant all year but for the weeks the two zones change on different days.
    const london = weekly('london evening', 'Europe/London', ['fri', '16:00'], ['fri', '16:59'], { environment: 'staging' });
    expect(findOverlaps([weekend, london], from)).toEqual([]);
    const newYork = weekly('new york afternoon', 'America/New_York', ['fri', '11:30'], ['fri', '12:30']);
    // Berlin's 18:00 is New York's 12:00 except between the US and EU switches (March 10–31): 13:00 then.
    expect(findOverlaps([weekend, newYork], from)).toEqual([
      { first: 'staging weekend', second: 'new york afternoon', scope: 'environment staging', at: '2030-01-04T17:00:00.000Z' },
    ]);
    const newYorkLate = weekly('new york lunch', 'America/New_York', ['fri', '12:30'], ['fri', '13:00'], { environment: 'staging' });
    expect(findOverlaps([weekend, newYorkLate], from)).toEqual([
      { first: 'staging weekend', second: 'new york lunch', scope: 'environment staging', at: '2030-01-04T17:30:00.000Z' },
    ]);
  });

  it('finds a weekly window that only overlaps in the weeks between two zones switching', () => {
    // Berlin's Monday 06:00 is New York's midnight, but 01:00 while New York is on summer time and Berlin not yet (March 10–31).
    const gap = weekly('ny midnight', 'America/New_York', ['mon', '00:00'], ['mon', '00:59']);
    expect(findOverlaps([weekend, gap], from)).toEqual([{ first: 'staging weekend', second: 'ny midnight', scope: 'environment staging', at: '2030-03-11T04:00:00.000Z' }]);
  });

  it('checks a one-off window against the weekly ones of its scope and against other one-off windows', () => {
    const onFriday = BlackoutWindowSchema.parse({ type: 'once', name: 'hotfix', scope: { environment: 'staging' }, start: '2030-05-03T15:00:00Z', end: '2030-05-03T16:30:00Z' });
    expect(findOverlaps([weekend, onFriday], from)).toEqual([{ first: 'staging weekend', second: 'hotfix', scope: 'environment staging', at: '2030-05-03T16:00:00.000Z' }]);
    const sameDay = BlackoutWindowSchema.parse({ type: 'once', name: 'db upgrade', scope: { hostGroup: 'payments-db' }, start: '2030-05-08T17:00:00Z', end: '2030-05-08T21:00:00Z' });
    expect(findOverlaps([releaseDay, sameDay], from)).toEqual([{ first: 'release 4.2', second: 'db upgrade', scope: 'host group payments-db', at: '2030-05-08T17:00:00.000Z' }]);
  });

  it('refuses two windows with one name in a scope, and reports bad input by index and field', () => {
    expect(validationError(() => checkBlackoutWindows([weekend, { ...weekend, from: { day: 'tue', time: '01:00' }, to: { day: 'tue', time: '02:00' } }], from)).message).toBe(
      'two blackout windows of environment staging are named "staging weekend"; give each its own name',
    );
    const err = validationError(() => checkBlackoutWindows([weekend, { ...weekend, timeZone: 'Berlin' }], from));
    expect(err.fields).toEqual({ '1.timeZone': ['"Berlin" is not an IANA time zone name, such as "Europe/Berlin", "America/New_York" or "UTC"'] });
  });
});
