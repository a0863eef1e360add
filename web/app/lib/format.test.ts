import { describe, expect, test } from 'vitest';
import { formatClock, formatDate, formatDateTime, formatDuration, formatRelative, formatSeconds, localInputToIso, shortVersion } from './format.ts';

describe('format', () => {
  test('log timestamps read HH:MM:SS.mmm in UTC', () => {
    expect(formatClock('2025-03-14T09:26:53.058+02:00')).toBe('07:26:53.058');
  });

  test('dates read as UTC, missing ones as a dash', () => {
    expect(formatDateTime('2025-03-14T09:26:53Z')).toBe('2025-03-14 09:26:53');
    expect(formatDateTime(null)).toBe('—');
    expect(formatDate('2025-03-14T23:26:53-02:00')).toBe('2025-03-15');
  });

  test('last-seen times read relative to the moment the page was loaded', () => {
    const now = Date.parse('2025-03-14T12:00:00Z');
    expect(formatRelative('2025-03-14T11:59:48Z', now)).toBe('12 s ago');
    expect(formatRelative('2025-03-14T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2025-03-14T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2025-03-11T12:00:00Z', now)).toBe('3 days ago');
    expect(formatRelative('2025-03-14T12:00:02Z', now)).toBe('just now');
    expect(formatRelative(null, now)).toBe('never');
  });

  test('commit SHAs shorten to 7 characters, revisions stay whole', () => {
    expect(shortVersion('4b825dc642cb6eb9a060e54bf8d69288fbee4904')).toBe('4b825dc');
    expect(shortVersion('12')).toBe('12');
  });

  test('intervals in seconds read in the largest whole unit', () => {
    expect(formatSeconds(45)).toBe('45 s');
    expect(formatSeconds(300)).toBe('5 min');
    expect(formatSeconds(5_400)).toBe('1 h 30 min');
    expect(formatSeconds(7_200)).toBe('2 h');
  });

  test('durations scale from milliseconds to hours', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4_812)).toBe('4.81 s');
    expect(formatDuration(65_000)).toBe('1m 05s');
    expect(formatDuration(3_723_000)).toBe('1h 02m 03s');
    expect(formatDuration(null)).toBe('—');
  });

  test('datetime-local filter values are read as UTC and sent with an offset', () => {
    expect(localInputToIso('2025-06-02T10:30')).toBe('2025-06-02T10:30:00.000Z');
    expect(localInputToIso('')).toBeUndefined();
    expect(localInputToIso('yesterday')).toBeUndefined();
  });
});
