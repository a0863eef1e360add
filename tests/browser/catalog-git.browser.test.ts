import { expect, test as browserTest } from '../support/browser.ts';

const SCRIPT = 'every-parameter-type';
const SECRET = 'browser-secret-value';

interface RepositorySummary {
  id: string;
  url: string;
  path: string;
  status: string;
}

/** The default repository's first sync fills the catalog; the tests start once the script is there. */
const test = browserTest.extend('synced', { scope: 'file', auto: true }, async ({ stack }) => {
  await expect
    .poll(async () => (await stack.api(`/api/v1/scripts/${SCRIPT}`)).status, { timeout: 60_000, interval: 250, message: `${SCRIPT} is in the catalog within 60 s of the start` })
    .toBe(200);
});

test('fill every parameter type, fix what the form rejects, run it and see each value arrive', async ({ stack, page, screenshot }) => {
  await page.setViewportSize({ width: 1280, height: 1000 });
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

  await screenshot('every-parameter-type');
});

test('the default repository is listed as synced', async ({ stack, page, screenshot }) => {
  const { repositories } = (await (await stack.api('/api/v1/repositories')).json()) as { repositories: RepositorySummary[] };
  const fallback = repositories.find((r) => `${r.url} ${r.path}`.includes('scripts-repo')) ?? repositories[0];
  expect(fallback).toBeDefined();
  const id = fallback!.id;

  await page.goto(`${stack.config.webUrl}/repositories`);
  const row = page.locator(`[data-testid="repository-row"][data-repository-id="${id}"]`);
  await expect.poll(() => row.count()).toBe(1);
  await expect.poll(() => row.getByTestId('repository-status').textContent(), { timeout: 30_000 }).toBe('ok');
  expect(Number(await row.getByTestId('repository-scripts').textContent())).toBeGreaterThan(0);
  await screenshot('repositories');
});
