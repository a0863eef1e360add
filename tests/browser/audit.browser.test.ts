import { expect, test } from '../support/browser.ts';

test('the audit page lists who did what, filters it, links the exports with the same filters, and checks the chain', async ({ stack, page, screenshot }) => {
  // Two audited calls: a lock taken and given back, and a run refused for its body.
  const taken = await stack.api('/api/v1/locks/local', { method: 'POST', json: { type: 'maintenance', reason: 'audit page test', ttlSeconds: 600 } });
  expect(taken.status).toBe(201);
  const { lease } = (await taken.json()) as { lease: { leaseId: string } };
  expect((await stack.api('/api/v1/locks/local/release', { method: 'POST', json: { leaseId: lease.leaseId } })).status).toBe(200);
  expect((await stack.api('/api/v1/runs', { method: 'POST', json: { hostId: 'local' } })).status).toBe(400);

  await page.goto(`${stack.config.webUrl}/audit`);
  const rows = page.getByTestId('audit-row');
  await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(3);
  expect(await rows.first().textContent()).toContain('POST /api/v1/runs');

  const filters = page.getByTestId('audit-filters');
  await filters.locator('input[name="action"]').fill('lock.*');
  await filters.locator('button[type="submit"]').click();
  await expect.poll(() => decodeURIComponent(new URL(page.url()).search)).toBe('?action=lock.*');
  await expect.poll(() => rows.count()).toBe(2);
  const actions = await rows.locator('td:nth-child(3)').allTextContents();
  expect(actions).toEqual(['lock.release', 'lock.acquire']);
  expect(await rows.first().textContent()).toContain('host:local');
  await screenshot('audit');

  const csvHref = await page.getByTestId('audit-export-csv').getAttribute('href');
  expect(csvHref).toBe('/api/v1/audit/export.csv?action=lock.*');
  expect(await page.getByTestId('audit-export-json').getAttribute('href')).toBe('/api/v1/audit/export.json?action=lock.*');
  // The link works through the web origin, as the browser follows it.
  const csv = await (await page.request.get(`${stack.config.webUrl}${csvHref}`)).text();
  expect(csv.split('\r\n').filter(Boolean)).toHaveLength(3);

  await page.getByTestId('audit-verify').click();
  await expect.poll(() => page.url()).toContain('verify=1');
  expect(await page.getByTestId('audit-chain').textContent()).toMatch(/^The chain holds: \d+ rows checked, last #\d+ [0-9a-f]{16}…\.$/);
}, 120_000);
