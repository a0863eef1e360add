import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Page } from 'playwright-core';
import { expect, guestPage, SCREENSHOTS, test as base } from '../support/browser.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// The identity pages of an accounts-mode Drydock: the header's team switcher, personal API tokens, the members
// page of a team's admins, and a viewer's script page without a way to run it.

const ADMIN = { email: 'ada@example.com', name: 'Ada Lovelace', password: 'analytical engine 1843' };

interface Accounts {
  stack: TestStack;
  /** Calls the API as the admin, with an API token of theirs. */
  asAdmin(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  sql: postgres.Sql;
}

const test = base.extend('accounts', { scope: 'file' }, async ({}, { onCleanup }): Promise<Accounts> => {
  const stack = await startTestStack({ processes: ['api', 'worker', 'web'], setup: false });
  const sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
  onCleanup(async () => {
    await sql.end();
    await stack.teardown();
  });
  // The first admin, through the setup link the API wrote, and a token of theirs for the test's own calls.
  const link = (await readFile(join(stack.config.DRYDOCK_DATA_DIR, 'setup-link'), 'utf8')).trim();
  const token = new URL(link).searchParams.get('token');
  const setup = await stack.api('/api/v1/auth/setup', { method: 'POST', json: { token, email: ADMIN.email, name: ADMIN.name, password: ADMIN.password } });
  expect(setup.status).toBe(200);
  const { csrfToken } = (await setup.json()) as { csrfToken: string };
  const cookie = (setup.headers.getSetCookie().find((c) => c.startsWith('drydock_session=')) ?? '').split(';')[0]!;
  const created = await stack.api('/api/v1/tokens', { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken }, json: { name: 'tests', scopes: ['read', 'run', 'manage'] } });
  expect(created.status).toBe(201);
  const bearer = ((await created.json()) as { token: string }).token;
  const asAdmin: Accounts['asAdmin'] = (path, init = {}) => stack.api(path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${bearer}` } });
  return { stack, asAdmin, sql };
});
// This file's stack is its own, and its pages start signed out.
test.override('page', guestPage);

async function signIn(page: Page, web: string, email: string, password: string) {
  await page.goto(`${web}/sign-in`);
  const form = page.getByTestId('sign-in-form');
  await form.locator('input[name="email"]').fill(email);
  await form.locator('input[name="password"]').fill(password);
  await form.locator('button[type="submit"]').click();
  await page.waitForURL(`${web}/`);
}

test('a member of two teams switches between them in the header, and the page reloads in the team chosen', async ({ accounts, page, screenshot }) => {
  const { stack, sql } = accounts;
  const web = stack.config.webUrl;
  const [ada] = await sql<{ id: string }[]>`select id from users where email = ${ADMIN.email}`;
  await sql`insert into teams (id, name) values ('blue', 'Blue')`;
  await sql`insert into memberships (user_id, team_id, role) values (${ada!.id}, 'blue', 'viewer')`;

  await signIn(page, web, ADMIN.email, ADMIN.password);
  await page.goto(`${web}/hosts`);
  const switcher = page.getByTestId('team-switcher').locator('select');
  expect(await switcher.inputValue()).toBe('default');
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toContain('Ada Lovelace · admin');
  expect(await page.getByTestId('nav-members').count()).toBe(1);

  await switcher.selectOption('blue');
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toContain('Ada Lovelace · viewer');
  expect(page.url()).toBe(`${web}/hosts`);
  expect(await page.getByTestId('team-switcher').locator('select').inputValue()).toBe('blue');
  // A viewer of Blue is no admin there: no members page in the header.
  expect(await page.getByTestId('nav-members').count()).toBe(0);
  await screenshot('team-switched');

  // The session stays in Blue on the next page load, then moves back.
  await page.reload();
  expect(await page.getByTestId('team-switcher').locator('select').inputValue()).toBe('blue');
  await page.getByTestId('team-switcher').locator('select').selectOption('default');
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toContain('Ada Lovelace · admin');
});

test('a personal token is created with its scopes, its value shown once, works against the API, and stops working when revoked', async ({ accounts, page, screenshot }) => {
  const { stack } = accounts;
  const web = stack.config.webUrl;
  await signIn(page, web, ADMIN.email, ADMIN.password);
  await page.getByTestId('nav-tokens').click();
  await page.waitForURL(`${web}/settings/tokens`);

  // No name: refused beside the field, nothing created.
  const form = page.getByTestId('token-form');
  await form.getByTestId('token-create').click();
  await expect.poll(() => form.locator('[data-field-error="name"]').textContent()).toBe('give a name');

  await form.locator('input[name="name"]').fill('deploy bot');
  await form.getByTestId('token-scope-run').check();
  await form.getByTestId('token-create').click();
  const value = page.getByTestId('token-value');
  await expect.poll(() => value.inputValue()).toMatch(/^ddp_/);
  const token = await value.inputValue();
  const row = page.locator('[data-testid="token-row"][data-token-name="deploy bot"]');
  expect(await row.getByTestId('token-scopes').textContent()).toBe('read, run');
  expect(await row.getAttribute('data-state')).toBe('active');
  await screenshot('token-created');

  const me = await stack.api('/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
  expect(me.status).toBe(200);
  expect(await me.json()).toMatchObject({ email: ADMIN.email, auth: 'token', scopes: ['read', 'run'] });

  // The value is not shown again: a reload lists the token without it.
  await page.reload();
  expect(await page.getByTestId('token-value').count()).toBe(0);
  await page.locator('[data-testid="token-row"][data-token-name="deploy bot"]').getByTestId('token-revoke').click();
  await expect.poll(() => page.getByTestId('token-message').textContent()).toBe('Token “deploy bot” revoked: it no longer works.');
  await expect.poll(() => page.locator('[data-testid="token-row"][data-token-name="deploy bot"]').getAttribute('data-state')).toBe('revoked');
  await screenshot('token-revoked');
  expect((await stack.api('/api/v1/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
});

test('an admin adds a viewer who sees no way to run a script; made an operator, they get the run form', async ({ accounts, page, browser, screenshot }) => {
  const { stack, asAdmin } = accounts;
  const web = stack.config.webUrl;
  await expect.poll(async () => (await asAdmin('/api/v1/scripts/echo-params')).status, { timeout: 60_000, interval: 250 }).toBe(200);
  await signIn(page, web, ADMIN.email, ADMIN.password);
  await page.getByTestId('nav-members').click();
  await page.waitForURL(`${web}/admin/members`);

  const form = page.getByTestId('member-form');
  await form.locator('input[name="email"]').fill('grace@example.com');
  await form.locator('input[name="name"]').fill('Grace Hopper');
  await form.locator('select[name="role"]').selectOption('viewer');
  await form.getByTestId('member-add').click();
  const secret = page.getByTestId('member-secret');
  await expect.poll(() => secret.inputValue()).toContain('/reset-password?token=');
  const link = await secret.inputValue();
  const grace = page.locator('[data-testid="member-row"][data-email="grace@example.com"]');
  expect(await grace.getByTestId('member-role').textContent()).toBe('viewer');
  await screenshot('member-added');

  // Grace sets her password through the link, in a browser of her own, and opens a script.
  const graceContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const gracePage = await graceContext.newPage();
    await gracePage.goto(link);
    await gracePage.getByTestId('password-form').locator('input[name="password"]').fill('compilers are people too');
    await gracePage.getByTestId('password-form').locator('button[type="submit"]').click();
    await gracePage.waitForURL(`${web}/`);
    await gracePage.goto(`${web}/scripts/echo-params`);
    await expect.poll(() => gracePage.getByTestId('signed-in-user').textContent()).toContain('Grace Hopper · viewer');
    expect(await gracePage.getByTestId('run-not-allowed').textContent()).toContain('Your role in this team is viewer');
    expect(await gracePage.getByTestId('run-form').count()).toBe(0);
    expect(await gracePage.getByTestId('run-on-many').count()).toBe(0);
    expect(await gracePage.getByTestId('nav-members').count()).toBe(0);
    await gracePage.screenshot({ path: join(SCREENSHOTS, 'viewer-script.png'), fullPage: true });
    // Typed in by hand, the page for many hosts has no form either.
    await gracePage.goto(`${web}/bulk/new?scriptId=echo-params`);
    expect(await gracePage.getByTestId('run-not-allowed').textContent()).toContain('an operator or above can run this script on many hosts');
    expect(await gracePage.getByTestId('preview-bulk').count()).toBe(0);

    // The admin makes her an operator on the members page.
    await grace.getByTestId('member-role-select').selectOption('operator');
    await grace.getByTestId('member-role-save').click();
    await expect.poll(() => page.getByTestId('member-message').textContent()).toBe('grace@example.com is now operator.');
    await expect.poll(() => grace.getByTestId('member-role').textContent()).toBe('operator');
    const members = (await (await asAdmin('/api/v1/members')).json()) as { members: { email: string; role: string }[] };
    expect(members.members.find((m) => m.email === 'grace@example.com')?.role).toBe('operator');

    await gracePage.goto(`${web}/scripts/echo-params`);
    await expect.poll(() => gracePage.getByTestId('signed-in-user').textContent()).toContain('Grace Hopper · operator');
    expect(await gracePage.getByTestId('run-form').count()).toBe(1);
    expect(await gracePage.getByTestId('run-on-many').count()).toBe(1);

    // Disabled, her session ends at once: her next page asks her to sign in.
    await grace.getByTestId('member-disable').click();
    await expect.poll(() => page.getByTestId('member-message').textContent()).toMatch(/^grace@example.com is disabled/);
    await gracePage.goto(`${web}/hosts`);
    await gracePage.waitForURL(/\/sign-in\?returnTo=%2Fhosts$/);
  } finally {
    await graceContext.close();
  }
}, 120_000);

test('an admin issues a reset link that sets a member password once, and gives a new service account a working token', async ({ accounts, page, screenshot }) => {
  const { stack, asAdmin } = accounts;
  const web = stack.config.webUrl;
  const added = await asAdmin('/api/v1/members', { method: 'POST', json: { email: 'alan@example.com', name: 'Alan Turing', role: 'operator' } });
  expect(added.status).toBe(201);
  await signIn(page, web, ADMIN.email, ADMIN.password);
  await page.goto(`${web}/admin/members`);

  const alan = page.locator('[data-testid="member-row"][data-email="alan@example.com"]');
  await alan.getByTestId('member-reset-link').click();
  const secret = page.getByTestId('member-secret');
  await expect.poll(() => secret.inputValue()).toContain('/reset-password?token=');
  const link = await secret.inputValue();
  const token = new URL(link).searchParams.get('token');
  expect((await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token, password: 'a machine that thinks' } })).status).toBe(200);
  expect((await stack.api('/api/v1/auth/sign-in', { method: 'POST', json: { email: 'alan@example.com', password: 'a machine that thinks' } })).status).toBe(200);
  const again = await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token, password: 'another password, please' } });
  expect(again.status).toBe(401);
  expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/unknown, used or expired/);

  const form = page.getByTestId('account-form');
  await form.locator('input[name="name"]').fill('ci');
  await form.locator('select[name="role"]').selectOption('operator');
  await form.getByTestId('account-add').click();
  await expect.poll(() => page.getByTestId('member-message').textContent()).toBe('Service account “ci” created as operator; give it a token next.');
  const ci = page.locator('[data-testid="account-row"][data-name="ci"]');
  await ci.getByTestId('account-token').click();
  await expect.poll(() => secret.inputValue()).toMatch(/^ddp_/);
  const bearer = await secret.inputValue();
  await screenshot('service-account-token');
  const me = await stack.api('/api/v1/me', { headers: { authorization: `Bearer ${bearer}` } });
  expect(me.status).toBe(200);
  expect(await me.json()).toMatchObject({ name: 'service:ci', role: 'operator', auth: 'token' });
});
