import { describe, expect, test } from 'vitest';
import { formatClock, formatDateTime, formatDuration, localInputToIso } from './format.ts';

describe('format', () => {
  test('log timestamps read HH:MM:SS.mmm in UTC', () => {
    expect(formatClock('2025-03-14T09:26:53.058+02:00')).toBe('07:26:53.058');
  });

  test('dates read as UTC, missing ones as a dash', () => {
    expect(formatDateTime('2025-03-14T09:26:53Z')).toBe('2025-03-14 09:26:53');
    expect(formatDateTime(null)).toBe('—');
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
