import { expect, test } from '../support/browser.ts';

test('the API reference opens from the footer and works from this origin alone, under its Content-Security-Policy', async ({ stack, page, screenshot }) => {
  const origin = new URL(stack.config.webUrl).origin;
  const elsewhere: string[] = [];
  const complaints: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) elsewhere.push(r.url());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) complaints.push(`${r.status()} ${r.url()}`);
  });
  // A refused script, style or image is a console error: the page's CSP would have broken it.
  page.on('console', (m) => {
    if (m.type() === 'error') complaints.push(m.text());
  });
  page.on('pageerror', (e) => complaints.push(e.message));

  await page.goto(`${stack.config.webUrl}/hosts`);
  await page.getByTestId('api-reference').click();
  await page.waitForURL(`${origin}/api/v1/docs`);
  // The sections and routes come from the generated document.
  await expect.poll(() => page.locator('.opblock-tag').allTextContents(), { timeout: 30_000 }).toEqual(expect.arrayContaining([expect.stringContaining('runs')]));
  const start = page.locator('.opblock-post', { hasText: '/api/v1/runs' }).first();
  await start.locator('.opblock-summary').click();
  // Its body and answers, from the schemas the API validates with.
  await expect.poll(() => start.textContent(), { timeout: 10_000 }).toContain('"scriptId": "echo-params"');
  expect(await start.textContent()).toContain('Started: the run');
  await screenshot('api-reference', { fullPage: false });

  expect(elsewhere).toEqual([]);
  expect(complaints).toEqual([]);
});
