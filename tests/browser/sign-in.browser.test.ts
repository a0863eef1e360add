import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, guestPage, test as base } from '../support/browser.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// An accounts-mode Drydock in the browser: a page asks for sign-in and comes back after it; sign-out ends it.

const test = base.extend('accounts', { scope: 'file' }, async ({}, { onCleanup }) => {
  const stack: TestStack = await startTestStack({ processes: ['api', 'web'], setup: false });
  onCleanup(() => stack.teardown());
  return stack;
});
// This file's stack is its own, and its pages start signed out.
test.override('page', guestPage);

test('the setup link the API printed opens a page that creates the first admin and signs them in, once', async ({ accounts, page, screenshot }) => {
  const link = (await readFile(join(accounts.config.DRYDOCK_DATA_DIR, 'setup-link'), 'utf8')).trim();
  expect(link.startsWith(`${accounts.config.webUrl}/setup?token=`)).toBe(true);
  await page.goto(link);
  const form = page.getByTestId('password-form');
  await form.locator('input[name="email"]').fill('ada@example.com');
  await form.locator('input[name="name"]').fill('Ada Lovelace');
  await form.locator('input[name="password"]').fill('too short');
  await form.locator('button[type="submit"]').click();
  await expect.poll(() => form.locator('[data-field-error="password"]').textContent()).toBe('use at least 12 characters');
  await screenshot('setup-refused');
  await form.locator('input[name="password"]').fill('analytical engine 1843');
  await form.locator('button[type="submit"]').click();
  await page.waitForURL(`${accounts.config.webUrl}/`);
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toContain('Ada Lovelace · admin');
  await page.getByTestId('sign-out').click();
  await page.waitForURL(/\/sign-in$/);

  await page.goto(link);
  await form.locator('input[name="email"]').fill('mallory@example.com');
  await form.locator('input[name="name"]').fill('Mallory');
  await form.locator('input[name="password"]').fill('a second admin please');
  await form.locator('button[type="submit"]').click();
  await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/setup is done/);
});

test('a page asks for sign-in, a wrong password is refused, the right one returns to the page; sign-out ends the session', async ({ accounts, page, screenshot }) => {
  const web = accounts.config.webUrl;
  await page.goto(`${web}/runs?status=failed`);
  await page.waitForURL(/\/sign-in\?returnTo=%2Fruns%3Fstatus%3Dfailed$/);
  expect(await page.getByTestId('signed-in-user').textContent()).toBe('not signed in');

  const form = page.getByTestId('sign-in-form');
  await form.locator('input[name="email"]').fill('ada@example.com');
  await form.locator('input[name="password"]').fill('not the password');
  await form.locator('button[type="submit"]').click();
  await expect.poll(() => form.getByRole('alert').textContent()).toBe('email or password is wrong');
  await screenshot('sign-in-refused');

  await form.locator('input[name="password"]').fill('analytical engine 1843');
  await form.locator('button[type="submit"]').click();
  await page.waitForURL(`${web}/runs?status=failed`);
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toContain('Ada Lovelace · admin');
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === 'drydock_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

  await page.getByTestId('sign-out').click();
  await page.waitForURL(/\/sign-in$/);
  await page.goto(`${web}/hosts`);
  await page.waitForURL(/\/sign-in\?returnTo=%2Fhosts$/);
});
