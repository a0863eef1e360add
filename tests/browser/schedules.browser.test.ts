import { expect, test } from '../support/browser.ts';

test('create a schedule in Europe/Berlin, see its next fire times in its zone and the viewer\'s, fire it and open the run', async ({ stack, browser, adminSession }) => {
  // A viewer in New York: the page shows each fire time in Berlin and in New York.
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: 'America/New_York', storageState: adminSession });
  try {
    await page.goto(`${stack.config.webUrl}/schedules`);
    expect(await page.getByTestId('no-schedules').textContent()).toContain('No schedule yet');
    await page.getByTestId('new-schedule-entry').selectOption('script:echo-params');
    await page.getByTestId('new-schedule').click();
    await page.waitForURL(/\/schedules\/new\?entry=script%3Aecho-params&target=run$/);

    await page.getByTestId('schedule-name').fill('berlin nightly');
    await page.getByTestId('schedule-cron').fill('30 2 * * *');
    await page.getByTestId('schedule-zone').selectOption('Europe/Berlin');
    await page.locator('input[name="message"]').fill('scheduled from the browser');
    await page.getByTestId('start-run').click();
    await page.waitForURL(/\/schedules\/[0-9a-f-]{36}$/);

    expect(await page.getByTestId('schedule-state').textContent()).toBe('Active');
    const berlin = await page.getByTestId('fire-time-schedule-zone').allTextContents();
    expect(berlin).toHaveLength(10);
    for (const time of berlin) expect(time).toMatch(/ 02:30 GMT\+[12]$/);
    await expect.poll(() => page.getByTestId('next-fire-times').locator('th').nth(1).textContent()).toBe('In your zone (America/New_York)');
    // 02:30 in Berlin is 20:30 (or 21:30 in the weeks the two zones change their clocks apart) the evening before in New York.
    for (const time of await page.getByTestId('fire-time-viewer-zone').allTextContents()) expect(time).toMatch(/ (20|21):30 GMT-[45]$/);

    await page.getByTestId('schedule-trigger').click();
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.getByTestId('firing-run').count();
        },
        { timeout: 30_000 },
      )
      .toBe(1);
    await page.getByTestId('firing-run').click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 45_000 }).toBe('succeeded');
  } finally {
    await page.close();
  }
});

test('add a weekly blackout window to an environment, see an overlapping one refused with both names, and remove it', async ({ stack, page }) => {
  await page.goto(`${stack.config.webUrl}/schedules`);
  await page.getByTestId('blackouts-link').click();
  await page.waitForURL(/\/schedules\/blackouts$/);
  expect(await page.getByTestId('no-blackouts').textContent()).toBe('No blackout window.');
  const form = page.getByTestId('blackout-form');
  const add = async (name: string) => {
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Environment').selectOption('staging');
    await form.getByLabel('Time zone').selectOption('Europe/Berlin');
    await page.getByTestId('add-blackout').click();
  };
  await add('weekend freeze');
  await expect.poll(() => page.getByTestId('blackout-message').textContent()).toBe('Added "weekend freeze".');
  expect(await page.getByTestId('blackout-row').textContent()).toContain('every week, fri 18:00 to mon 06:00 Europe/Berlin');
  await add('second freeze');
  await expect.poll(() => page.getByTestId('blackout-message').textContent()).toContain('overlapping blackout definitions: "weekend freeze" and "second freeze"');
  expect(await page.getByTestId('blackout-row').count()).toBe(1);
  await page.getByTestId('blackout-row').getByRole('button', { name: 'Remove' }).click();
  await expect.poll(() => page.getByTestId('blackout-message').textContent()).toBe('Removed.');
  expect(await page.getByTestId('no-blackouts').textContent()).toBe('No blackout window.');
});
