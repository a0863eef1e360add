import type { HostLockView } from '@drydock/core';
import { expect, test } from '../support/browser.ts';

test('take a maintenance lock, see a run wait behind it and the host in maintenance, release it; force-release a run', async ({ stack, page, screenshot }) => {
  const lockOf = async () => (await (await stack.api('/api/v1/locks/local')).json()) as HostLockView;
  const statusOf = async (id: string) => (await stack.run(id)).status;
  await page.goto(`${stack.config.webUrl}/hosts/local`);
  await page.getByTestId('host-lock').click();
  await page.waitForURL(/\/locks\?host=local$/);
  expect(await page.getByTestId('no-locks').textContent()).toContain('No lock matches these filters.');

  const form = page.getByTestId('lock-form');
  await form.locator('select[name="type"]').selectOption('maintenance');
  await form.locator('input[name="ttlMinutes"]').fill('30');
  await page.getByTestId('take-lock').click();
  // The browser checks what the API would: a lock needs a reason.
  expect(await form.locator('[data-field-error="reason"]').textContent()).toBe('say why: the locks page and the audit log show it');
  await form.locator('input[name="reason"]').fill('kernel upgrade');
  await page.getByTestId('take-lock').click();
  await expect.poll(() => page.getByTestId('lock-message').textContent(), { timeout: 15_000 }).toBe('You hold the maintenance lock of local.');

  const run = await stack.startRun('exclusive-sleep', { seconds: 1 });
  await expect.poll(() => statusOf(run.id), { timeout: 15_000 }).toBe('waiting_for_lock');
  await page.goto(`${stack.config.webUrl}/locks`);
  const row = page.getByTestId('lock-row');
  expect(await row.getByTestId('lock-holder').first().textContent()).toBe(stack.admin.email);
  expect(await row.getByTestId('lock-reason').textContent()).toBe('kernel upgrade');
  expect(await row.getByTestId('lock-type').first().getAttribute('data-type')).toBe('maintenance');
  await expect.poll(() => row.getByTestId('lock-waiter').textContent()).toContain(`exclusive-sleep by ${stack.admin.email}`);
  await screenshot('locks');

  await page.goto(`${stack.config.webUrl}/hosts?status=maintenance`);
  expect(await page.getByTestId('host-row').count()).toBe(1);
  expect(await page.getByTestId('host-state').getAttribute('data-state')).toBe('maintenance');
  await page.goto(`${stack.config.webUrl}/runs/${run.id}`);
  expect(await page.getByTestId('run-status').getAttribute('data-status')).toBe('waiting_for_lock');
  expect(await page.getByTestId('run-status').textContent()).toBe('waiting for lock');
  expect(await page.getByTestId('run-waiting-for-lock').textContent()).toContain('This run needs the lock of host local');

  await page.goto(`${stack.config.webUrl}/locks`);
  await page.getByTestId('lock-release').first().click();
  await expect.poll(() => page.getByTestId('lock-message').textContent(), { timeout: 15_000 }).toBe('Released your lease on local.');
  // The page says so at once: the lease, and its Release button, are gone from the list with the message.
  expect(await page.getByTestId('lock-holder').allTextContents()).not.toContain(stack.admin.email);
  expect(await page.getByTestId('lock-release').count()).toBe(0);
  await expect.poll(() => statusOf(run.id), { timeout: 45_000 }).toBe('succeeded');

  const held = await stack.startRun('exclusive-sleep', { seconds: 60 });
  await expect.poll(async () => (await stack.lines(held.id)).map((l) => l.line), { timeout: 30_000 }).toContain('tick 1');
  // A running run has made the attempt its log shows, though its record counts attempts only at the end.
  await page.goto(`${stack.config.webUrl}/runs/${held.id}`);
  expect(await page.getByTestId('run-status').getAttribute('data-status')).toBe('running');
  expect(await page.getByTestId('run-attempts').textContent()).toBe('1');
  await page.goto(`${stack.config.webUrl}/locks`);
  await page.getByTestId('force-release').locator('summary').click();
  await page.getByTestId('force-release-reason').fill('needed for a failover drill');
  await page.getByTestId('confirm-force-release').click();
  await expect.poll(() => page.getByTestId('lock-message').textContent(), { timeout: 15_000 }).toBe(`Force-released the lock of local from exclusive-sleep by ${stack.admin.email}.`);
  await expect.poll(async () => (await stack.run(held.id)).error, { timeout: 30_000 }).toContain(`force-released by ${stack.admin.email}: needed for a failover drill`);
  await expect.poll(async () => (await lockOf()).holder).toBeNull();
});
