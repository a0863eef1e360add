import { freePort } from '@drydock/core';
import type { Page } from 'playwright-core';
import { expect, test as base } from '../support/browser.ts';
import { type OidcTestProvider, startOidcProvider } from '../support/oidc-provider.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Single sign-on in a real browser: the SSO button on the sign-in page, the OpenID provider's own login page
// (oidc-provider, its own process), and back into Drydock with the teams and roles the groups map to. Then the
// team pages: switch teams, create a team and switch to it, and issue that team an agent registration token.

const users = [
  { login: 'alice', password: 'alice-password', email: 'alice@example.com', name: 'Alice', groups: ['everyone'] },
  { login: 'olga', password: 'olga-password', email: 'olga@example.com', name: 'Olga', groups: ['everyone', 'ops-admins'] },
];

const test = base.extend('sso', { scope: 'file' }, async ({}, { onCleanup }) => {
  const webPort = await freePort();
  // The provider must know the redirect URI before Drydock starts: the web UI's address, fixed here.
  const redirectUri = `http://127.0.0.1:${webPort}/api/v1/auth/oidc/callback`;
  const provider: OidcTestProvider = await startOidcProvider({ clients: [{ clientId: 'drydock', clientSecret: 'drydock-client-secret', redirectUris: [redirectUri] }], users });
  const stack: TestStack = await startTestStack({
    processes: ['api', 'web'],
    // No admin yet: the first person through the SSO button becomes it.
    setup: false,
    env: {
      DRYDOCK_AUTH_MODE: 'accounts',
      DRYDOCK_WEB_HOST: '127.0.0.1',
      DRYDOCK_WEB_PORT: String(webPort),
      DRYDOCK_OIDC_ISSUER: provider.issuer,
      DRYDOCK_OIDC_CLIENT_ID: 'drydock',
      DRYDOCK_OIDC_CLIENT_SECRET: 'drydock-client-secret',
      DRYDOCK_OIDC_REDIRECT_URI: redirectUri,
      DRYDOCK_OIDC_SCOPES: 'openid email profile groups',
      DRYDOCK_OIDC_GROUP_MAP: JSON.stringify({ everyone: { team: 'default', role: 'viewer' }, 'ops-admins': { team: 'ops', role: 'admin' } }),
    },
  }).catch(async (err: unknown) => {
    await provider.stop();
    throw err;
  });
  onCleanup(async () => {
    await stack.teardown();
    await provider.stop();
  });
  return { stack, provider };
});


/** From a Drydock page that asks for sign-in, through the SSO button and the provider's login page, back signed in. */
async function signInWithSso(page: Page, web: string, issuer: string, login: string): Promise<void> {
  await page.goto(`${web}/runs`);
  await page.waitForURL(/\/sign-in\?returnTo=/);
  const sso = page.getByTestId('sign-in-oidc');
  await expect.poll(() => sso.textContent()).toBe(`Sign in with ${new URL(issuer).host}`);
  await sso.click();
  await page.waitForURL((url) => url.href.startsWith(new URL(issuer).origin));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill(`${login}-password`);
  await page.locator('button[type="submit"], input[type="submit"]').first().click();
  await page.waitForURL((url) => url.href.startsWith(web) && !url.pathname.startsWith('/sign-in') && !url.pathname.startsWith('/api/'), { timeout: 15_000 }).catch(async (err: Error) => {
    throw new Error(`${err.message}\nat ${page.url()}: ${(await page.content()).slice(0, 2000)}`);
  });
}

test('the first person through the SSO button becomes the first admin', async ({ sso, page, screenshot }) => {
  const web = sso.stack.config.webUrl;
  await signInWithSso(page, web, sso.provider.issuer, 'alice');
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toContain('Alice · admin');
  await screenshot('oidc-first-admin');
  const session = (await page.context().cookies()).find((c) => c.name === 'drydock_session');
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
});

test('the next lands with the roles their groups map to, switches team, creates one and issues it a registration token', async ({ sso, page, screenshot }) => {
  const web = sso.stack.config.webUrl;
  await signInWithSso(page, web, sso.provider.issuer, 'olga');
  // The default team comes first: olga is a viewer there, and an admin of ops.
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toContain('Olga · viewer');
  await expect.poll(() => page.getByTestId('nav-teams').count()).toBe(0);
  const switcher = page.locator('#team-select');
  await expect.poll(() => switcher.locator('option').allTextContents()).toEqual(['default', 'ops']);

  await switcher.selectOption('ops');
  await expect.poll(() => page.getByTestId('signed-in-user').textContent()).toContain('Olga · admin');
  await expect.poll(() => switcher.inputValue()).toBe('ops');

  await page.getByTestId('nav-teams').click();
  await page.waitForURL(`${web}/admin/teams`);
  const rows = page.getByTestId('team-row');
  await expect.poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-team')))).toEqual(['default', 'ops']);
  const form = page.getByTestId('team-form');
  await form.locator('input[name="id"]').fill('Blue Rack');
  await form.locator('input[name="name"]').fill('Blue rack');
  await page.getByTestId('team-create').click();
  await expect.poll(() => form.locator('[data-field-error="id"]').textContent()).toBe('use lower-case letters, digits and "-"');
  await form.locator('input[name="id"]').fill('blue');
  await form.locator('input[name="description"]').fill('the servers in rack 7');
  await page.getByTestId('team-create').click();
  await expect.poll(() => page.getByTestId('team-message').textContent()).toContain('Team “Blue rack” created; you are its admin.');
  await screenshot('teams-created');

  await page.getByTestId('team-message').getByTestId('team-switch').click();
  await expect.poll(() => switcher.inputValue()).toBe('blue');
  await expect.poll(() => page.locator('[data-team="blue"] [data-testid="team-name"]').textContent()).toContain('current');
  expect(page.url()).toBe(`${web}/admin/teams`);

  await page.goto(`${web}/hosts/install?host=rack7-db&secrets=show`);
  await page.getByTestId('registration-token-form').locator('input[name="name"]').fill('rack 7');
  await page.getByTestId('registration-token-issue').click();
  const value = page.getByTestId('registration-token-value');
  await expect.poll(() => value.inputValue()).toMatch(/^ddr_/);
  const token = await value.inputValue();
  await expect.poll(() => page.getByTestId('agent-env-file').textContent()).toContain(`DRYDOCK_AGENT_REGISTRATION_SECRET=${token}`);
  await expect.poll(() => page.getByTestId('registration-token-row').getAttribute('data-name')).toBe('rack 7');
  await screenshot('registration-token-issued');

  // The token registers an agent into blue, and only there.
  const registered = await sso.stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: token, hostName: 'rack7-db' } });
  expect(registered.status).toBe(201);
  await page.goto(`${web}/hosts/rack7-db`);
  await expect.poll(() => page.locator('h1').textContent()).toContain('rack7-db');
  await switcher.selectOption('ops');
  // A page of one host goes to the host list of the team switched to.
  await page.waitForURL(`${web}/hosts`);
  await page.goto(`${web}/hosts/rack7-db`);
  await expect.poll(() => page.locator('body').textContent()).toMatch(/not found/i);
});
