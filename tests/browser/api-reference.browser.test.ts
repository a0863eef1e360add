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
  stack = await startTestStack({ processes: ['api', 'web'] });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
});
afterAll(async () => {
  await browser?.close();
  await stack?.teardown();
});

test('the API reference opens from the footer and works from this origin alone, under its Content-Security-Policy', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const origin = new URL(stack.config.webUrl).origin;
  const elsewhere: string[] = [];
  const complaints: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) elsewhere.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') complaints.push(m.text());
  });
  page.on('pageerror', (e) => complaints.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400) complaints.push(`${r.status()} ${r.url()}`);
  });

  await page.goto(`${stack.config.webUrl}/hosts`);
  await page.getByTestId('api-reference').click();
  await page.waitForURL(`${origin}/api/v1/docs`);
  // The sections and routes come from the generated document.
  await expect.poll(() => page.locator('.opblock-tag').allTextContents(), { timeout: 30_000 }).toEqual(expect.arrayContaining([expect.stringContaining('runs')]));
  const start = page.locator('.opblock-post', { hasText: '/api/v1/runs' }).first();
  await start.locator('.opblock-summary').click();
  // Its body and answers, from the schemas the API validates with.
  await expect.poll(() => start.textContent(), { timeout: 10_000 }).toContain('"hostId"');
  expect(await start.textContent()).toContain('Started: the run');
  await page.screenshot({ path: join(OUTPUT, 'api-reference.png'), fullPage: false });

  expect(elsewhere).toEqual([]);
  expect(complaints).toEqual([]);
});
