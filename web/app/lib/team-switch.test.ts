import { describe, expect, test } from 'vitest';
import { pageAfterSwitch } from './team-switch.ts';

describe('the page after a team switch', () => {
  test('a list page loads again with its filters, in the new team', () => {
    expect(pageAfterSwitch('/runs?status=failed')).toBe('/runs?status=failed');
    expect(pageAfterSwitch('/')).toBe('/');
    expect(pageAfterSwitch('/settings/tokens')).toBe('/settings/tokens');
  });

  test("a page of one of the old team's things goes to its list, not to a 404", () => {
    expect(pageAfterSwitch('/runs/01JB2ZK3Q0')).toBe('/runs');
    expect(pageAfterSwitch('/hosts/web-1?tab=runs')).toBe('/hosts');
    expect(pageAfterSwitch('/scripts/echo-params')).toBe('/');
  });
});
