import type { ScheduleView } from '@drydock/core';
import { expect, test } from '../support/browser.ts';

// The schedule pages beyond a script on one host: a bulk schedule made in the form, the clocks changing among the
// next fire times, pause with a note, backfill of a range read in the schedule's zone, and a firing skipped by a
// blackout window shown with the window's name.

test('schedule a script as a bulk execution, see the clocks change among its fire times, fire it and open the execution', async ({ stack, page }) => {
  await page.goto(`${stack.config.webUrl}/schedules`);
  await page.getByTestId('new-schedule-entry').selectOption('script:echo-params');
  await page.getByTestId('new-schedule-target').selectOption('bulk');
  await page.getByTestId('new-schedule').click();
  await page.waitForURL(/\/schedules\/new\?entry=script%3Aecho-params&target=bulk$/);

  await page.getByTestId('schedule-name').fill('monthly fleet echo');
  // The first of every month at 03:00 in Berlin: ten months always include a change of the clocks.
  await page.getByTestId('schedule-cron').fill('0 3 1 * *');
  await page.getByTestId('schedule-zone').selectOption('Europe/Berlin');
  await page.locator('input[name="hostIds"][value="local"]').check();
  await page.locator('input[name="message"]').fill('from a bulk schedule');
  await page.locator('input[name="failureThreshold"]').fill('1');
  await page.getByTestId('create-schedule').click();
  await page.waitForURL(/\/schedules\/[0-9a-f-]{36}$/);

  expect(await page.getByTestId('schedule-target').textContent()).toContain('named: local');
  const changes = await page.getByTestId('dst-change').allTextContents();
  expect(changes.length).toBeGreaterThan(0);
  for (const change of changes) expect(change).toMatch(/^clocks changed: GMT\+(1 → GMT\+2|2 → GMT\+1)$/);

  await page.getByTestId('schedule-trigger').click();
  await expect
    .poll(
      async () => {
        await page.reload();
        return (await page.getByTestId('firing-bulk').count()) > 0 ? page.getByTestId('firing-bulk').textContent() : null;
      },
      { timeout: 45_000 },
    )
    .toBe('bulk execution: succeeded');
  await page.getByTestId('firing-bulk').click();
  await page.waitForURL(/\/bulk\/[0-9a-f-]{36}$/);
});

test('pause with a note and unpause, backfill a range in the schedule\'s zone, and see a firing skipped by a blackout window', async ({ stack, page }) => {
  const res = await stack.api('/api/v1/schedules', { method: 'POST', json: { name: 'weekly true', scriptId: 'true', hostId: 'local', spec: { cron: ['0 8 * * mon'], timeZone: 'Europe/Berlin', overlap: 'allow_all' } } });
  expect(res.status).toBe(201);
  const schedule = (await res.json()) as ScheduleView;
  await page.goto(`${stack.config.webUrl}/schedules/${schedule.id}`);

  await page.getByTestId('schedule-pause-note').fill('release freeze');
  await page.getByTestId('schedule-pause').click();
  await expect.poll(() => page.getByTestId('schedule-state').textContent()).toBe('Paused: release freeze');
  await page.getByTestId('schedule-unpause').click();
  await expect.poll(() => page.getByTestId('schedule-state').textContent()).toBe('Active: unpaused');

  // Mondays 08:00 in Berlin from 20 March to 8 April 2025 (wall clock there): three, either side of the spring change.
  await page.getByTestId('backfill-start').fill('2025-03-20T00:00');
  await page.getByTestId('backfill-end').fill('2025-04-08T00:00');
  await page.getByTestId('schedule-backfill').click();
  await expect.poll(() => page.getByTestId('schedule-message').textContent()).toContain('Backfill asked of Temporal');
  await expect
    .poll(
      async () => {
        await page.reload();
        return page.getByTestId('firing-run').allTextContents();
      },
      { timeout: 45_000 },
    )
    .toEqual(['succeeded', 'succeeded', 'succeeded']);
  const fired = await page.getByTestId('firing').locator('td:first-child').allTextContents();
  expect(fired.sort()).toEqual(['Mon 2025-03-24 08:00 GMT+1', 'Mon 2025-03-31 08:00 GMT+2', 'Mon 2025-04-07 08:00 GMT+2']);

  const now = Date.now();
  expect((await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: 'staging' } })).status).toBe(200);
  const window = { type: 'once', name: 'release day', scope: { environment: 'staging' }, start: new Date(now - 3_600_000).toISOString(), end: new Date(now + 3_600_000).toISOString() };
  expect((await stack.api('/api/v1/blackouts', { method: 'POST', json: window })).status).toBe(201);
  await page.getByTestId('schedule-trigger').click();
  await expect
    .poll(
      async () => {
        await page.reload();
        return page.getByTestId('firing-outcome').allTextContents();
      },
      { timeout: 30_000 },
    )
    .toContain('skipped: release day');
});
