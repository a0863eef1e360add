import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT } from '@drydock/core';
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
});
afterAll(async () => {
  await browser?.close();
  await stack?.teardown();
});

test('pick a script from the catalog, fix a bad value, run it, and watch it succeed', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(stack.config.webUrl);
  await expect.poll(() => page.getByTestId('script-row').count()).toBeGreaterThan(3);
  await page.getByTestId('script-list').getByRole('link', { name: 'Echo parameters' }).click();
  await page.waitForURL(/\/scripts\/echo-params$/);

  await page.locator('#param-message').fill('hello from the browser test');
  await page.locator('#param-count').fill('1000');
  await page.getByTestId('start-run').click();
  await expect.poll(() => page.locator('[data-field-error="count"]').textContent()).toBe('Count must be at most 100');
  expect(page.url()).toMatch(/\/scripts\/echo-params$/);

  await page.locator('#param-count').fill('3');
  await page.locator('#param-level').selectOption('high');
  await page.locator('#param-token').fill('browser-secret-value');
  await page.getByTestId('start-run').click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);

  const log = page.getByTestId('run-log');
  await expect.poll(() => log.textContent(), { timeout: 30_000 }).toContain('message=hello from the browser test');
  await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toBe('succeeded');
  await expect.poll(() => page.getByTestId('run-exit-code').textContent()).toContain('0');
  expect(await log.textContent()).toContain('count=3 ratio=0.5 verbose=false level=high');
  expect(await page.locator('[data-stream="stderr"]').first().textContent()).toContain('to stderr');
  expect(await page.content()).not.toContain('browser-secret-value');
  expect(await page.getByTestId('temporal-link').getAttribute('href')).toMatch(/\/workflows\/run%2F[0-9a-f-]{36}\//);

  await page.screenshot({ path: join(OUTPUT, 'run-succeeded.png'), fullPage: true });

  await page.getByRole('link', { name: 'Runs' }).first().click();
  await page.waitForURL(/\/runs$/);
  await expect.poll(() => page.getByTestId('run-row').count()).toBeGreaterThan(0);
  expect(await page.getByTestId('run-table').textContent()).toContain('Echo parameters');
  await page.screenshot({ path: join(OUTPUT, 'run-history.png'), fullPage: true });
});

test('a run that captured shows its snapshot with the packages and services its manifest names', async () => {
  const run = await stack.startRun('capture-demo', { big_mb: 0 });
  expect((await stack.waitForRun(run.id)).status).toBe('succeeded');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${stack.config.webUrl}/runs/${run.id}`);
  const packages = page.getByTestId('snapshot-packages');
  await expect.poll(() => packages.locator('[data-name="bash"]').textContent()).toMatch(/^bash: \d\S* \(dpkg\)$/);
  expect(await packages.locator('[data-name="no-such-package-xyz"]').textContent()).toBe('no-such-package-xyz: dpkg-query: no packages found matching no-such-package-xyz');
  expect(await page.getByTestId('snapshot-services').locator('[data-name="ssh"]').textContent()).toMatch(/^ssh: no systemd on this host/);
  await page.screenshot({ path: join(OUTPUT, 'run-snapshot.png'), fullPage: true });
});
