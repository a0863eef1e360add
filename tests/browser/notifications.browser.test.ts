import { afterAll, beforeAll } from 'vitest';
import { expect, test } from '../support/browser.ts';
import { type Receiver, slackJudge, startReceiver } from '../support/notify-receivers.ts';

// The notification settings page: add channels and a rule, fail a run, see the deliveries and a failing channel.

let slack: Receiver;
let gone: Receiver;

beforeAll(async () => {
  slack = await startReceiver(slackJudge);
  gone = await startReceiver(() => ({ status: 410, body: 'no such webhook' }));
});
afterAll(async () => {
  await slack?.close();
  await gone?.close();
});

test('add channels and a rule on the settings page, fail a run, and see its deliveries with each answer', async ({ stack, page }) => {
  await page.goto(`${stack.config.webUrl}/runs`);
  await page.getByTestId('nav-notifications').click();
  await page.waitForURL(/\/settings\/notifications$/);
  expect(await page.getByTestId('no-channels').textContent()).toBe('No channel yet.');

  const channelForm = page.getByTestId('channel-form');
  const addChannel = async (name: string, url: string) => {
    await channelForm.getByLabel('Kind').selectOption('slack');
    await channelForm.getByLabel('Channel name').fill(name);
    await channelForm.getByLabel('URL or recipients').fill(url);
    await page.getByTestId('add-channel').click();
    await expect.poll(() => page.getByTestId('notification-message').textContent()).toBe(`Added the channel "${name}".`);
  };
  await addChannel('ops slack', slack.url('/services/T0/B0/browser-secret'));
  await addChannel('old hook', gone.url('/services/T0/B1/retired'));
  const listed = await page.getByTestId('channel-list').textContent();
  expect(listed).toContain('/services/…');
  expect(listed).not.toContain('browser-secret');

  const ruleForm = page.getByTestId('rule-form');
  await ruleForm.getByLabel('Rule name').fill('failures');
  await ruleForm.getByLabel('Run failed').check();
  await ruleForm.getByLabel('ops slack').check();
  await ruleForm.getByLabel('old hook').check();
  await page.getByTestId('add-rule').click();
  await expect.poll(() => page.getByTestId('notification-message').textContent()).toBe('Added the rule "failures".');
  const rule = await page.getByTestId('rule-row').textContent();
  expect(rule).toContain('ops slack');
  expect(rule).toContain('old hook');

  const run = await stack.startRun('fail', { code: 4 });
  expect((await stack.waitForRun(run.id)).status).toBe('failed');

  await expect
    .poll(
      async () => {
        await page.reload();
        return page.locator('[data-testid="delivery-row"][data-status="delivered"][data-channel="ops slack"]').count();
      },
      { timeout: 45_000 },
    )
    .toBe(1);
  const delivered = page.locator('[data-testid="delivery-row"][data-channel="ops slack"]');
  expect(await delivered.textContent()).toContain('Fail with an exit code failed on local');
  expect(await delivered.getByTestId('delivery-attempt').textContent()).toMatch(/#1 delivered · 200 .*“ok”/);

  await expect
    .poll(
      async () => {
        await page.reload();
        return page.locator('[data-testid="delivery-row"][data-status="failed"][data-channel="old hook"]').count();
      },
      { timeout: 45_000 },
    )
    .toBe(1);
  expect(await page.locator('[data-testid="delivery-row"][data-channel="old hook"]').getByTestId('delivery-attempt').textContent()).toMatch(/#1 permanent · 410 .*“no such webhook”/);
  const failing = page.locator('[data-testid="channel-row"][data-failing="true"]');
  expect(await failing.count()).toBe(1);
  expect(await failing.textContent()).toContain('old hook');
  expect(await failing.getByTestId('channel-status').textContent()).toBe('failing (failed)');
});
