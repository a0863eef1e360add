import type { EnvironmentView } from '@drydock/core';
import { asAnotherUser } from '../support/second-user.ts';
import { expect, test } from '../support/browser.ts';

// The page is the requester's (the stack's admin, signed in), and the second member of the team decides through
// the API with their own token. The page follows the run live.
test('protect an environment, see a run on it wait on its page, the requester refused, and another operator approve it', async ({ stack, page, screenshot }) => {
  await page.goto(`${stack.config.webUrl}/environments`);
  const form = page.getByTestId('environment-form');
  await form.locator('input[name="name"]').fill('Perf!');
  await page.getByTestId('add-environment').click();
  expect(await form.locator('[data-field-error="name"]').textContent()).toMatch(/lower-case letters, digits/);
  await form.locator('input[name="name"]').fill('perf');
  await form.locator('input[name="description"]').fill('load tests');
  await form.locator('input[name="requiresApproval"]').check();
  await form.locator('input[name="expiryMinutes"]').fill('60');
  await page.getByTestId('add-environment').click();
  await expect.poll(() => page.getByTestId('environment-message').textContent(), { timeout: 15_000 }).toBe('Environment “perf” saved.');
  const perf = (await (await stack.api('/api/v1/environments/perf')).json()) as EnvironmentView;
  expect(perf).toMatchObject({ requiresApproval: true, approvalExpirySeconds: 3_600, description: 'load tests' });

  expect((await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: 'perf' } })).status).toBe(200);
  const run = await stack.startRun('echo-params', { message: 'after approval' });
  expect(run.status).toBe('waiting_for_approval');
  await page.goto(`${stack.config.webUrl}/environments`);
  expect(await page.getByTestId('waiting-run').count()).toBe(1);
  await page.goto(`${stack.config.webUrl}/hosts`);
  expect(await page.getByTestId('host-environment').first().textContent()).toBe('perf');

  await page.goto(`${stack.config.webUrl}/runs/${run.id}`);
  expect(await page.getByTestId('run-status').getAttribute('data-status')).toBe('waiting_for_approval');
  expect(await page.getByTestId('approval-request').textContent()).toContain('environment perf is protected');
  expect(await page.getByTestId('run-environment').textContent()).toBe('perf');
  await screenshot('run-waiting-for-approval');
  await page.getByTestId('approve').click();
  await expect.poll(() => page.getByTestId('run-action-message').textContent(), { timeout: 15_000 }).toContain('you requested this run, so you cannot approve or reject it');

  const operator = await asAnotherUser(stack, 'operator');
  const approved = await operator.api(`/api/v1/runs/${run.id}/approve`, { method: 'POST', json: { comment: 'window agreed' } });
  expect(approved.status).toBe(200);
  await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 45_000 }).toBe('succeeded');
  await page.reload();
  expect(await page.getByTestId('approval-outcome').textContent()).toBe('Approved');
  expect(await page.getByTestId('approval-by').textContent()).toBe(operator.user.email);
  expect(await page.getByTestId('approval-comment-text').textContent()).toBe('window agreed');
  await screenshot('run-approved');
});
