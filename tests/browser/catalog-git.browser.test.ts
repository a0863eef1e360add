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
const SCRIPT = 'every-parameter-type';
const SECRET = 'browser-secret-value';

interface RepositorySummary {
  id: string;
  url: string;
  path: string;
  status: string;
}

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  await mkdir(OUTPUT, { recursive: true });
  stack = await startTestStack({ processes: ['api', 'worker', 'agent', 'web'] });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  // The default repository's first sync fills the catalog; the tests start once the script is there.
  const deadline = Date.now() + 60_000;
  while ((await stack.api(`/api/v1/scripts/${SCRIPT}`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${SCRIPT} is not in the catalog 60 s after start`);
    await new Promise((r) => setTimeout(r, 250));
  }
});
afterAll(async () => {
  await browser?.close();
  await stack?.teardown();
});

test('fill every parameter type, fix what the form rejects, run it and see each value arrive', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${stack.config.webUrl}/scripts/${SCRIPT}`);
  await expect.poll(() => page.getByTestId('run-form').count()).toBe(1);
  expect(await page.getByTestId('version-banner').count()).toBe(0);
  expect(await page.getByTestId('version-row').count()).toBeGreaterThan(0);

  await page.locator('#param-name').fill('Bad Name');
  await page.locator('#param-notes').fill('first line\nsecond line');
  await page.locator('#param-replicas').fill('3');
  await page.locator('#param-ratio').fill('0.5');
  await page.locator('#param-dry_run').uncheck();
  await page.locator('#param-tier').selectOption('gold');
  await page.locator('#param-password').fill(SECRET);
  await page.locator('#param-target').selectOption('local');
  await page.locator('#param-peers-local').check();
  await page.locator('#param-window').fill('2025-06-01');
  await page.getByTestId('start-run').click();

  await expect.poll(() => page.locator('[data-field-error="name"]').textContent()).toBe('Name must match ^[a-z][a-z0-9-]*$');
  expect(await page.locator('[data-field-error="window"]').textContent()).toBe('Maintenance window must be on or after 2026-01-01');
  expect(await page.locator('[data-field-error]').count()).toBe(2);
  expect(page.url()).toMatch(new RegExp(`/scripts/${SCRIPT}$`));

  await page.locator('#param-name').fill('web-canary');
  await page.locator('#param-window').fill('2026-03-15');
  await expect.poll(() => page.locator('[data-field-error]').count()).toBe(0);
  await page.getByTestId('start-run').click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);

  const log = page.getByTestId('run-log');
  await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toBe('succeeded');
  await expect.poll(() => log.textContent(), { timeout: 10_000 }).toContain('all parameters received');
  const text = (await log.textContent()) ?? '';
  for (const line of ['name=web-canary', 'replicas=3', 'ratio=0.5', 'tier=gold', 'target=local', 'peers=local', 'window=2026-03-15', 'password: 20 characters']) {
    expect(text).toContain(line);
  }
  expect(await page.content()).not.toContain(SECRET);
  expect(await page.getByTestId('run-source').textContent()).toBe('script');
  expect(await page.getByTestId('run-version').locator('a').getAttribute('href')).toMatch(new RegExp(`^/scripts/${SCRIPT}\\?version=[0-9a-f]+$`));

  await page.screenshot({ path: join(OUTPUT, 'every-parameter-type.png'), fullPage: true });
});

test('the default repository is listed as synced', async () => {
  const { repositories } = (await (await stack.api('/api/v1/repositories')).json()) as { repositories: RepositorySummary[] };
  const fallback = repositories.find((r) => `${r.url} ${r.path}`.includes('scripts-repo')) ?? repositories[0];
  expect(fallback).toBeDefined();
  const id = fallback!.id;

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${stack.config.webUrl}/repositories`);
  const row = page.locator(`[data-testid="repository-row"][data-repository-id="${id}"]`);
  await expect.poll(() => row.count()).toBe(1);
  await expect.poll(() => row.getByTestId('repository-status').textContent(), { timeout: 30_000 }).toBe('ok');
  expect(Number(await row.getByTestId('repository-scripts').textContent())).toBeGreaterThan(0);
  await page.screenshot({ path: join(OUTPUT, 'repositories.png'), fullPage: true });
});
