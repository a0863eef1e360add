import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { adminStorageState } from '../support/browser.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Debian's Chromium, driven by playwright-core: never a browser download.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let stack: TestStack;
let browser: Browser;
let signedIn: Awaited<ReturnType<typeof adminStorageState>>;

beforeAll(async () => {
  stack = await startTestStack({ processes: ['api', 'worker', 'agent', 'web'] });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  signedIn = await adminStorageState(browser, stack);
});
afterAll(async () => {
  await browser?.close();
  await stack?.teardown();
});

/** A page of the signed-in admin that records every Content-Security-Policy violation the browser reports, from the first byte on. */
async function watchedPage(): Promise<{ page: Page; violations: () => Promise<string[]>; consoleErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, storageState: signedIn });
  // Page code as text: this package compiles without the DOM's types.
  await page.addInitScript(`
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' (' + e.sourceFile + ':' + e.lineNumber + ')'));
  `);
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  return { page, violations: () => page.evaluate<string[]>('window.cspViolations'), consoleErrors };
}

test('pages carry a nonce-based CSP and the other headers, and using them reports no violation', async () => {
  const { page, violations, consoleErrors } = await watchedPage();
  const document = await page.goto(`${stack.config.webUrl}/scripts/echo-params`);
  const headers = document!.headers();
  const policy = headers['content-security-policy'] ?? '';
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
  expect(nonce).toBeTruthy();
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).toContain("object-src 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
  // Served over plain HTTP: no HSTS, which a browser would ignore here anyway.
  expect(headers['strict-transport-security']).toBeUndefined();
  // Every script React Router wrote carries this response's nonce; another load gets another one.
  const inline = await page.evaluate<string[]>(`[...document.querySelectorAll('script:not([src])')].map((s) => s.nonce)`);
  expect(inline.length).toBeGreaterThan(0);
  expect(new Set(inline)).toEqual(new Set([nonce]));
  const again = await page.request.get(`${stack.config.webUrl}/scripts/echo-params`);
  expect(again.headers()['content-security-policy']).not.toContain(nonce!);

  // The stylesheet and scripts load (hydration needs them): fill the form, start a run, follow its live log.
  const stylesheet = await page.request.get(new URL((await page.locator('link[rel="stylesheet"]').first().getAttribute('href'))!, stack.config.webUrl).href);
  expect(stylesheet.headers()['x-content-type-options']).toBe('nosniff');
  expect(await page.evaluate<string>('getComputedStyle(document.body).backgroundColor')).not.toBe('rgba(0, 0, 0, 0)');
  await page.locator('#param-message').fill('under a content security policy');
  await page.getByTestId('start-run').click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect.poll(() => page.getByTestId('run-log').textContent(), { timeout: 30_000 }).toContain('message=under a content security policy');
  await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toBe('succeeded');

  // A page with inline style attributes (metric bars), reached by client-side navigation.
  await page.getByRole('link', { name: 'Hosts' }).first().click();
  await page.waitForURL(/\/hosts$/);
  await expect.poll(() => page.getByTestId('host-row').count()).toBeGreaterThan(0);
  await page.goto(`${stack.config.webUrl}/hosts/local`);
  await expect.poll(() => page.getByTestId('host-facts').count()).toBe(1);
  // Server-rendered style attributes (the metric bars' widths) are on the page: a blocked one would be a violation below.
  await expect.poll(() => page.locator('main [style*="width"]').count(), { timeout: 15_000 }).toBeGreaterThan(0);

  expect(await violations()).toEqual([]);
  expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
});

test('an injected inline script does not run, and the browser reports it', async () => {
  const { page, violations } = await watchedPage();
  await page.goto(`${stack.config.webUrl}/`);
  await page.evaluate(`{
    const script = document.createElement('script');
    script.textContent = 'window.injected = true';
    document.body.append(script);
  }`);
  await expect.poll(violations).toEqual([expect.stringMatching(/^script-src-elem blocked inline/)]);
  expect(await page.evaluate<boolean>('window.injected === true')).toBe(false);
});

test('the UI cannot be framed, and the API answers with its own headers through the proxy', async () => {
  const { page, consoleErrors } = await watchedPage();
  // The load event waits for the frame, loaded or refused.
  await page.setContent(`<iframe src="${stack.config.webUrl}/"></iframe>`, { waitUntil: 'load' });
  expect(consoleErrors.join('\n')).toMatch(/Framing '.*' violates the following Content Security Policy directive: "frame-ancestors 'none'"/);
  const inFrame = await page.frames()[1]?.evaluate<boolean>(`document.querySelector('[data-testid="signed-in-user"]') !== null`).catch(() => false);
  expect(inFrame ?? false).toBe(false);

  const api = await page.request.get(`${stack.config.webUrl}/api/v1/runs`);
  expect(api.headers()['cache-control']).toBe('no-store');
  expect(api.headers()['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(api.headers()['x-content-type-options']).toBe('nosniff');
  expect(api.headers()['x-request-id']).toMatch(/^[\w-]{36}$/);
});
