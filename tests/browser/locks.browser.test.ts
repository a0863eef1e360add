import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type HostLockView, REPO_ROOT } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Debian's Chromium, driven by playwright-core: never a browser download.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const OUTPUT = join(REPO_ROOT, 'test-output', 'browser');

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  await mkdir(OUTPUT, { recursive: true });
  stack = await startTestStack({ processes: ['api', 'worker', 'agent', 'web'] });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const deadline = Date.now() + 30_000;
  while ((await stack.api('/api/v1/hosts/local')).status !== 200) {
    if (Date.now() > deadline) throw new Error('the local agent has not registered 30 s after start');
    await new Promise((r) => setTimeout(r, 250));
  }
});
afterAll(async () => {
  await browser?.close();
  await stack?.teardown();
});

const lockOf = async () => (await (await stack.api('/api/v1/locks/local')).json()) as HostLockView;

test('take a maintenance lock, see a run wait behind it and the host in maintenance, release it; force-release a run', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
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
  await expect.poll(() => page.getByTestId('lock-message').textContent()).toBe('You hold the maintenance lock of local.');

  const run = await stack.startRun('exclusive-sleep', { seconds: 1 });
  await stack.waitForRun(run.id, (r) => r.status === 'waiting_for_lock', 15_000);
  await page.goto(`${stack.config.webUrl}/locks`);
  const row = page.getByTestId('lock-row');
  expect(await row.getByTestId('lock-holder').first().textContent()).toBe('admin@drydock.local');
  expect(await row.getByTestId('lock-reason').textContent()).toBe('kernel upgrade');
  expect(await row.getByTestId('lock-type').first().getAttribute('data-type')).toBe('maintenance');
  await expect.poll(() => row.getByTestId('lock-waiter').textContent()).toContain('exclusive-sleep by admin@drydock.local');
  await page.screenshot({ path: join(OUTPUT, 'locks.png'), fullPage: true });

  await page.goto(`${stack.config.webUrl}/hosts?status=maintenance`);
  expect(await page.getByTestId('host-row').count()).toBe(1);
  expect(await page.getByTestId('host-state').getAttribute('data-state')).toBe('maintenance');
  await page.goto(`${stack.config.webUrl}/runs/${run.id}`);
  expect(await page.getByTestId('run-status').textContent()).toBe('waiting_for_lock');
  expect(await page.getByTestId('run-waiting-for-lock').textContent()).toContain('This run needs the lock of host local');

  await page.goto(`${stack.config.webUrl}/locks`);
  await page.getByTestId('lock-release').first().click();
  await expect.poll(() => page.getByTestId('lock-message').textContent()).toBe('Released your lease on local.');
  expect((await stack.waitForRun(run.id)).status).toBe('succeeded');

  const held = await stack.startRun('exclusive-sleep', { seconds: 60 });
  await stack.waitForLine(held.id, /^tick 1$/);
  await page.goto(`${stack.config.webUrl}/locks`);
  await page.getByTestId('force-release').locator('summary').click();
  await page.getByTestId('force-release-reason').fill('needed for a failover drill');
  await page.getByTestId('confirm-force-release').click();
  await expect.poll(() => page.getByTestId('lock-message').textContent()).toBe('Force-released the lock of local from exclusive-sleep by admin@drydock.local.');
  const stopped = await stack.waitForRun(held.id, undefined, 30_000);
  expect(stopped.error).toContain('force-released by admin@drydock.local: needed for a failover drill');
  await expect.poll(async () => (await lockOf()).holder).toBeNull();
  await page.close();
});
