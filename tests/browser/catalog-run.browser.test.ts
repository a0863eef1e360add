import { expect, test } from '../support/browser.ts';

test('pick a script from the catalog, fix a bad value, run it, and watch it succeed', async ({ stack, page, screenshot }) => {
  await page.goto(stack.config.webUrl);
  await expect.poll(() => page.getByTestId('script-row').count()).toBeGreaterThan(3);
  await page.getByTestId('script-list').getByRole('link', { name: 'Echo parameters' }).click();
  await page.waitForURL(/\/scripts\/echo-params$/);

  // The message is required: emptied, its default does not stand in for it.
  await page.locator('#param-message').fill('');
  await page.locator('#param-count').fill('1000');
  await page.getByTestId('start-run').click();
  await expect.poll(() => page.locator('[data-field-error="count"]').textContent()).toBe('Count must be at most 100');
  expect(await page.locator('[data-field-error="message"]').textContent()).toBe('Message is required');
  expect(page.url()).toMatch(/\/scripts\/echo-params$/);

  await page.locator('#param-message').fill('hello from the browser test');

  await page.locator('#param-count').fill('3');
  await page.locator('#param-level').selectOption('high');
  await page.locator('#param-token').fill('browser-secret-value');
  await page.getByTestId('start-run').click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);

  const log = page.getByTestId('run-log');
  await expect.poll(() => log.textContent(), { timeout: 30_000 }).toContain('message=hello from the browser test');
  await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 30_000 }).toBe('succeeded');
  await expect.poll(() => page.getByTestId('run-exit-code').textContent()).toContain('0');
  expect(await page.getByTestId('run-attempts').textContent()).toBe('1');
  expect(await log.textContent()).toContain('count=3 ratio=0.5 verbose=false level=high');
  expect(await page.locator('[data-stream="stderr"]').first().textContent()).toContain('to stderr');
  expect(await page.content()).not.toContain('browser-secret-value');
  expect(await page.getByTestId('temporal-link').getAttribute('href')).toMatch(/\/workflows\/run%2F[0-9a-f-]{36}\//);

  await screenshot('run-succeeded');

  await page.getByRole('link', { name: 'Runs' }).first().click();
  await page.waitForURL(/\/runs$/);
  await expect.poll(() => page.getByTestId('run-row').count()).toBeGreaterThan(0);
  expect(await page.getByTestId('run-table').textContent()).toContain('Echo parameters');
  await screenshot('run-history');
});

test('a run that captured shows its snapshot with the packages and services its manifest names', async ({ stack, page, screenshot }) => {
  const run = await stack.startRun('capture-demo', { big_mb: 0 });
  await expect.poll(async () => (await stack.run(run.id)).status, { timeout: 45_000 }).toBe('succeeded');
  await page.goto(`${stack.config.webUrl}/runs/${run.id}`);
  const packages = page.getByTestId('snapshot-packages');
  await expect.poll(() => packages.locator('[data-name="bash"]').textContent()).toMatch(/^bash: \d\S* \(dpkg\)$/);
  expect(await packages.locator('[data-name="no-such-package-xyz"]').textContent()).toBe('no-such-package-xyz: dpkg-query: no packages found matching no-such-package-xyz');
  expect(await page.getByTestId('snapshot-services').locator('[data-name="ssh"]').textContent()).toMatch(/^ssh: no systemd on this host/);
  await screenshot('run-snapshot');
});

test('an unknown address is a 404 page that still knows who is signed in, and the web server logs nothing for it', async ({ stack, page }) => {
  const web = stack.processes.web!;
  const logged = web.output.length;
  const response = await page.goto(`${stack.config.webUrl}/no/such/page`);
  expect(response?.status()).toBe(404);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Not found');
  expect(await page.getByTestId('signed-in-user').textContent()).toContain(`${stack.admin.name} · admin`);
  expect((await page.request.post(`${stack.config.webUrl}/no/such/page`, { form: { a: '1' } })).status()).toBe(404);
  expect(web.output.slice(logged)).toEqual([]);
});
