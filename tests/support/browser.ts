import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { expect, test as base } from 'vitest';
import { REPO_ROOT } from '@drydock/core';
import { startTestStack, type TestStack } from './stack.ts';

// Debian's Chromium, driven by playwright-core: never a browser download.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Where the tests leave their screenshots, for a person to look at. */
export const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'browser');

const VIEWPORT = { width: 1280, height: 900 };

/** A page of nobody signed in: for tests of a stack of their own, `test.override('page', guestPage)`. */
export async function guestPage({ browser }: { browser: Browser }, { onCleanup }: { onCleanup(fn: () => Promise<void>): void }): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  onCleanup(() => page.close());
  return page;
}

/**
 * The cookies of the stack's admin, signed in as a person is, through the API's sign-in on the web origin: the
 * browser keeps them as the API set them. Give it to `browser.newPage({ storageState })`.
 */
export async function adminStorageState(browser: Browser, stack: TestStack): Promise<NonNullable<BrowserContextOptions['storageState']>> {
  const context = await browser.newContext();
  try {
    const res = await context.request.post(`${stack.config.webUrl}/api/v1/auth/sign-in`, {
      data: { email: stack.admin.email, password: stack.admin.password },
      headers: { origin: new URL(stack.config.webUrl).origin },
    });
    if (res.status() !== 200) throw new Error(`the admin could not sign in: HTTP ${res.status()} ${await res.text()}`);
    return await context.storageState();
  } finally {
    await context.close();
  }
}

/**
 * The browser tests' fixtures. Per file: a whole Drydock with its web UI (`stack`, once its local agent has
 * registered), one Chromium (`browser`), and the stack's admin signed in once (`adminSession`). Per test: a `page`
 * of 1280×900 signed in as the admin, closed afterwards, and `screenshot(name)` of that page into
 * test-output/browser/. Tests that need more (a fleet of agents, a credential) extend this.
 */
export const test = base
  .extend('stack', { scope: 'file' }, async ({}, { onCleanup }) => {
    const stack = await startTestStack({ processes: ['api', 'worker', 'agent', 'web'] });
    onCleanup(() => stack.teardown());
    await expect
      .poll(async () => (await stack.api('/api/v1/hosts/local')).status, { timeout: 30_000, interval: 250, message: 'the local agent registers within 30 s of the start' })
      .toBe(200);
    return stack;
  })
  .extend('browser', { scope: 'file' }, async ({}, { onCleanup }) => {
    await mkdir(SCREENSHOTS, { recursive: true });
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    onCleanup(() => browser.close());
    return browser;
  })
  .extend('adminSession', { scope: 'file' }, ({ stack, browser }) => adminStorageState(browser, stack))
  .extend('page', async ({ browser, adminSession }, { onCleanup }) => {
    const page: Page = await browser.newPage({ viewport: VIEWPORT, storageState: adminSession });
    onCleanup(() => page.close());
    return page;
  })
  .extend('screenshot', async ({ page }) => (name: string, { fullPage = true }: { fullPage?: boolean } = {}) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage }).then(() => undefined));

export type { TestStack };
export { expect };
