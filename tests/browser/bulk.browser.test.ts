import type { Page } from 'playwright-core';
import type { BulkHostView, BulkView } from '@drydock/core/bulk';
import { startAgentFleet } from '../support/agent-fleet.ts';
import { expect, test as browserTest, type TestStack } from '../support/browser.ts';

const UUID = /\/bulk\/([0-9a-f-]{36})$/;

/** Three more agent hosts in one process, in staging: enough to choose by label, see waves and a threshold; every test's host list has them. */
const test = browserTest.extend('fleet', { scope: 'file', auto: true }, async ({ stack }, { onCleanup }) => {
  const fleet = await startAgentFleet(stack, { count: 3, environment: 'staging', group: 'browser' });
  onCleanup(async () => {
    await fleet.stop();
    await fleet.remove();
  });
  return fleet;
});

const hostsOf = async (stack: TestStack, id: string) => ((await (await stack.api(`/api/v1/bulk/${id}/hosts`)).json()) as { hosts: BulkHostView[] }).hosts;
const bulkOf = async (stack: TestStack, id: string) => (await (await stack.api(`/api/v1/bulk/${id}`)).json()) as BulkView;
const cell = (page: Page, hostId: string) => page.locator(`[data-testid="bulk-host"][data-host-id="${hostId}"]`);
const count = (page: Page, state: string) => page.locator(`[data-testid="bulk-count"][data-state="${state}"]`).getAttribute('data-count');

/** Opens the bulk form from the script's page. */
async function openBulkForm(stack: TestStack, page: Page, scriptId: string) {
  await page.goto(`${stack.config.webUrl}/scripts/${scriptId}`);
  await page.getByTestId('run-on-many').click();
  await page.waitForURL(new RegExp(`/bulk/new\\?scriptId=${scriptId}$`));
  await expect.poll(() => page.getByTestId('bulk-form').count()).toBe(1);
}

/** Ticks a named host; the count beside the list moves only once the page is hydrated, so tick until it does. */
async function tickHost(page: Page, hostId: string, total: number) {
  await expect
    .poll(async () => {
      const text = await page.getByTestId('bulk-selected-count').textContent();
      if (text?.startsWith('0 ')) await page.locator(`#bulk-host-${hostId}`).click();
      return page.getByTestId('bulk-selected-count').textContent();
    })
    .toBe(`1 of ${total} selected`);
}

test('run a script on a named host: the form checks first, the preview says "1 host", the grid follows it to succeeded', async ({ stack, page, screenshot, fleet }) => {
  await openBulkForm(stack, page, 'echo-params');
  const listed = await page.locator('input[name="hostIds"]').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('value')));
  expect(listed).toEqual(expect.arrayContaining(['local', ...fleet.hostIds]));

  await page.getByTestId('preview-bulk').click();
  await expect.poll(() => page.locator('[data-field-error="hostIds"]').textContent()).toBe('Tick at least one host, or choose hosts by environment, group or tags instead.');
  expect(page.url()).toMatch(/\/bulk\/new\?scriptId=echo-params$/);

  await tickHost(page, 'local', listed.length);
  await page.locator('#param-message').fill('hello from a bulk run');
  await page.locator('#param-count').fill('1000');
  await page.locator('#bulk-batchSize').fill('half');
  await page.getByTestId('preview-bulk').click();
  await expect.poll(() => page.locator('[data-field-error="count"]').textContent()).toBe('Count must be at most 100');
  expect(await page.locator('[data-field-error="batchSize"]').textContent()).toBe('a number of hosts (1 or more), or a percentage from 1% to 100% such as "10%"');
  expect(await page.locator('[data-field-error="hostIds"]').count()).toBe(0);

  await page.locator('#param-count').fill('2');
  await page.locator('#bulk-batchSize').fill('');
  await page.locator('#param-token').fill('bulk-secret-value');
  await page.getByTestId('preview-bulk').click();
  await expect.poll(() => page.getByTestId('bulk-preview-count').textContent()).toBe('This will run on 1 host');
  expect(await page.getByTestId('bulk-preview-waves').textContent()).toBe('In one wave of 1 host; at most 50 at the same time.');
  expect(await page.getByTestId('bulk-excluded').count()).toBe(0);
  await screenshot('bulk-preview');

  await page.getByTestId('confirm-bulk').click();
  await page.waitForURL(UUID);
  const id = UUID.exec(page.url())![1]!;

  await expect.poll(() => cell(page, 'local').getAttribute('data-state'), { timeout: 45_000 }).toBe('succeeded');
  await expect.poll(() => page.getByTestId('bulk-status').textContent(), { timeout: 15_000 }).toBe('succeeded');
  expect(await count(page, 'succeeded')).toBe('1');
  expect(await count(page, 'failed')).toBe('0');
  expect(await count(page, 'all')).toBe('1');
  expect(await page.getByTestId('bulk-progress').getAttribute('aria-valuenow')).toBe('1');
  expect(await page.getByTestId('bulk-progress-text').textContent()).toBe('1 of 1 host finished');
  expect(await page.getByTestId('bulk-selector').textContent()).toBe('named: local');
  expect(await page.content()).not.toContain('bulk-secret-value');
  await screenshot('bulk-succeeded');

  const [host] = await hostsOf(stack, id);
  expect(host).toMatchObject({ hostId: 'local', state: 'succeeded', exitCode: 0 });
  expect(await cell(page, 'local').getAttribute('href')).toBe(`/runs/${host!.runId}`);
  await cell(page, 'local').click();
  await page.waitForURL(new RegExp(`/runs/${host!.runId}$`));
  await expect.poll(() => page.getByTestId('run-status').textContent()).toBe('succeeded');
  await expect.poll(() => page.getByTestId('run-log').textContent()).toContain('message=hello from a bulk run');

  await page.getByRole('link', { name: 'Bulk runs' }).first().click();
  await page.waitForURL(/\/bulk$/);
  const row = page.locator(`[data-testid="bulk-row"][data-bulk-id="${id}"]`);
  await expect.poll(() => row.getAttribute('data-status')).toBe('succeeded');
  expect(await row.textContent()).toContain('Echo parameters');
  expect(await row.getByTestId('bulk-row-counts').textContent()).toBe('1 ok · 0 failed · 0 other · 1 hosts');
});

test('by environment with a canary and a failure threshold: the rest are skipped, and the failed host is run again', async ({ stack, page, screenshot, fleet }) => {
  await openBulkForm(stack, page, 'fail');
  await page.locator('label[for="select-by-labels"]').click();
  await page.locator('#bulk-hostEnvironment').selectOption('staging');
  await page.locator('#bulk-maxParallel').fill('1');
  await page.locator('#bulk-canarySize').fill('1');
  await page.locator('#bulk-failureThreshold').fill('1');
  await page.getByTestId('preview-bulk').click();
  await expect.poll(() => page.getByTestId('bulk-preview-count').textContent()).toBe('This will run on 3 hosts');
  expect(await page.getByTestId('bulk-preview-waves').textContent()).toBe('In a canary of 1 host, then 1 wave of 2 hosts; at most 1 at the same time.');
  expect(await page.getByTestId('bulk-preview-hosts').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-host-id')))).toEqual(fleet.hostIds);

  // A change after the preview takes the Confirm button away until the preview is asked again.
  await page.locator('#bulk-maxParallel').fill('2');
  await expect.poll(() => page.getByTestId('bulk-preview-stale').count()).toBe(1);
  expect(await page.getByTestId('confirm-bulk').count()).toBe(0);
  await page.locator('#bulk-maxParallel').fill('1');
  await page.getByTestId('preview-bulk').click();
  await expect.poll(() => page.getByTestId('confirm-bulk').count()).toBe(1);
  await page.getByTestId('confirm-bulk').click();
  await page.waitForURL(UUID);
  const first = UUID.exec(page.url())![1]!;

  await expect.poll(() => page.getByTestId('bulk-status').textContent(), { timeout: 60_000 }).toBe('failed');
  const [canary, ...rest] = fleet.hostIds;
  await expect.poll(() => cell(page, canary!).getAttribute('data-state')).toBe('failed');
  for (const h of rest) await expect.poll(() => cell(page, h).getAttribute('data-state')).toBe('skipped');
  expect(await count(page, 'failed')).toBe('1');
  expect(await count(page, 'skipped')).toBe('2');
  expect(await page.getByTestId('bulk-stop-reason').textContent()).toBe('Stopped early: stopped starting hosts: 1 failed, reaching the failure threshold of 1');
  expect(await page.locator('[data-testid="bulk-wave"]').count()).toBe(2);

  // The state filter narrows the grid to the failed host.
  await page.locator('[data-testid="bulk-count"][data-state="failed"]').click();
  await expect.poll(() => page.getByTestId('bulk-host').count()).toBe(1);
  expect(await page.getByTestId('bulk-grid-shown').textContent()).toContain('1 of 3 hosts shown');
  await screenshot('bulk-failed');

  await page.getByTestId('rerun-failed').click();
  await expect.poll(() => UUID.exec(page.url())?.[1]).not.toBe(first);
  const again = UUID.exec(page.url())![1]!;
  expect(await bulkOf(stack, again)).toMatchObject({ rerunOf: first, total: 1, selector: { hostIds: [canary] } });
  expect(await page.getByTestId('bulk-rerun-of').textContent()).toBe(first);
  await expect.poll(() => cell(page, canary!).getAttribute('data-state'), { timeout: 45_000 }).toBe('failed');
});

test('pause, resume and cancel a running execution from its page', async ({ stack, page }) => {
  await openBulkForm(stack, page, 'sleep');
  const total = await page.locator('input[name="hostIds"]').count();
  await tickHost(page, 'local', total);
  await page.locator('#param-seconds').fill('120');
  await page.getByTestId('preview-bulk').click();
  await expect.poll(() => page.getByTestId('bulk-preview-count').textContent()).toBe('This will run on 1 host');
  await page.getByTestId('confirm-bulk').click();
  await page.waitForURL(UUID);
  const id = UUID.exec(page.url())![1]!;

  await expect.poll(() => cell(page, 'local').getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
  await page.getByTestId('pause-bulk').click();
  await expect.poll(() => page.getByTestId('bulk-status').textContent(), { timeout: 15_000 }).toBe('paused');
  expect(await page.getByTestId('bulk-eta').textContent()).toBe('paused');
  expect(await cell(page, 'local').getAttribute('data-state')).toBe('running');

  await page.getByTestId('resume-bulk').click();
  await expect.poll(() => page.getByTestId('bulk-status').textContent(), { timeout: 15_000 }).toBe('running');

  await page.getByTestId('cancel-bulk').locator('summary').click();
  await page.getByTestId('confirm-cancel-bulk').click();
  await expect.poll(() => page.getByTestId('bulk-status').textContent(), { timeout: 30_000 }).toBe('cancelled');
  await expect.poll(() => cell(page, 'local').getAttribute('data-state')).toBe('cancelled');
  expect(await count(page, 'cancelled')).toBe('1');
  expect(await page.getByTestId('pause-bulk').count()).toBe(0);
  expect(await page.getByTestId('cancel-bulk').count()).toBe(0);
  expect((await bulkOf(stack, id)).status).toBe('cancelled');
});
