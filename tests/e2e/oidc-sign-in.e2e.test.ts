import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Me } from '@drydock/core';
import { freePort } from '@drydock/core';
import { type OidcTestProvider, startOidcProvider } from '../support/oidc-provider.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Single sign-on through a real OpenID provider (oidc-provider, its own process), into a Drydock with accounts on:
// the whole browser round trip over HTTP, the first admin, groups mapped to teams, and forged or replayed answers.

let stack: TestStack;
let provider: OidcTestProvider;
/** Another provider with a client of the same name: the mix-up attacker's, or simply another company's. */
let other: OidcTestProvider;
let sql: postgres.Sql;
let redirectUri: string;

const users = [
  { login: 'alice', password: 'alice-password', email: 'alice@example.com', name: 'Alice', groups: ['everyone'] },
  { login: 'olga', password: 'olga-password', email: 'olga@example.com', name: 'Olga', groups: ['everyone', 'ops-team', 'ops-admins'] },
  { login: 'nobody', password: 'nobody-password', email: 'nobody@example.com', name: 'Nobody', groups: ['contractors'] },
];

beforeAll(async () => {
  const port = await freePort();
  redirectUri = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
  const client = { clientId: 'drydock', clientSecret: 'drydock-client-secret', redirectUris: [redirectUri] };
  [provider, other] = await Promise.all([startOidcProvider({ clients: [client], users }), startOidcProvider({ clients: [client], users, claimsInIdToken: true })]);
  stack = await startTestStack({
    processes: ['api'],
    setup: false,
    env: {
      DRYDOCK_API_PORT: String(port),
      DRYDOCK_OIDC_ISSUER: provider.issuer,
      DRYDOCK_OIDC_CLIENT_ID: 'drydock',
      DRYDOCK_OIDC_CLIENT_SECRET: 'drydock-client-secret',
      DRYDOCK_OIDC_REDIRECT_URI: redirectUri,
      DRYDOCK_OIDC_SCOPES: 'openid email profile groups',
      DRYDOCK_OIDC_GROUP_MAP: JSON.stringify({ everyone: { team: 'default', role: 'viewer' }, 'ops-team': { team: 'ops', role: 'operator' }, 'ops-admins': [{ team: 'ops', role: 'admin' }] }),
    },
  });
  sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
  await Promise.all([provider?.stop(), other?.stop()]);
});

const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);

/** Drydock's start: where it sends the browser, and the cookie it keeps the checks under. */
async function start(): Promise<{ location: string; cookie: string }> {
  const res = await stack.api('/api/v1/auth/oidc/start', { redirect: 'manual' });
  expect(res.status).toBe(302);
  const cookie = cookieOf(res, 'drydock_oidc');
  expect(res.headers.getSetCookie().find((c) => c.startsWith('drydock_oidc='))).toMatch(/HttpOnly; SameSite=Lax/i);
  return { location: res.headers.get('location')!, cookie: cookie! };
}

/** The provider's answer as Drydock receives it: the callback URL, opened with this browser's cookie. */
async function callback(callbackUrl: string, cookie: string | undefined): Promise<Response> {
  const url = new URL(callbackUrl);
  return stack.api(`${url.pathname}${url.search}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

async function signIn(login: string): Promise<{ res: Response; session?: string }> {
  const { location, cookie } = await start();
  const { callbackUrl } = await provider.browser().signIn(location, { redirectUri, login, password: `${login}-password` });
  const res = await callback(callbackUrl, cookie);
  return { res, session: cookieOf(res, 'drydock_session') };
}

const me = async (session: string) => (await (await stack.api('/api/v1/me', { headers: { cookie: session } })).json()) as Me;

describe('single sign-on with OpenID Connect', () => {
  test('the start sends the browser to the provider with PKCE, state and nonce', async () => {
    const { location } = await start();
    const url = new URL(location);
    expect(`${url.origin}${url.pathname}`.startsWith(provider.issuer)).toBe(true);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ client_id: 'drydock', response_type: 'code', code_challenge_method: 'S256', redirect_uri: redirectUri });
    for (const p of ['state', 'nonce', 'code_challenge']) expect(url.searchParams.get(p)?.length).toBeGreaterThan(20);
  });

  test('the first person to sign in becomes the first admin, in a normal session', async () => {
    const { res, session } = await signIn('alice');
    expect(res.status, await res.clone().text()).toBe(303);
    expect(session).toBeDefined();
    expect(res.headers.getSetCookie().find((c) => c.startsWith('drydock_session='))).toMatch(/HttpOnly/i);
    expect(await me(session!)).toMatchObject({ email: 'alice@example.com', name: 'Alice', role: 'admin', teamId: 'default', auth: 'session' });
    const [row] = await sql`select actor_name, detail from audit_log where action = 'auth.oidc.sign-in'`;
    expect(row).toMatchObject({ actor_name: 'alice@example.com', detail: { firstAdmin: true, subject: 'sub-alice' } });
  });

  test('the next people get the teams and roles their groups map to; the strongest role wins', async () => {
    const { res, session } = await signIn('olga');
    expect(res.status).toBe(303);
    const olga = await me(session!);
    expect(olga.teams.map((t) => [t.id, t.role]).sort()).toEqual([
      ['default', 'viewer'],
      ['ops', 'admin'],
    ]);
    // Signing in again finds the same user, not a second one.
    await signIn('olga');
    expect(await sql`select count(*)::int as n from users where email = 'olga@example.com'`).toEqual([{ n: 1 }]);
  });

  test('groups that map to no team get a 403 that says so, and no account', async () => {
    const { res, session } = await signIn('nobody');
    expect(res.status).toBe(403);
    expect(session).toBeUndefined();
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('your groups at the OpenID provider (contractors) give no team in Drydock');
    expect(await sql`select count(*)::int as n from users where email = 'nobody@example.com'`).toEqual([{ n: 0 }]);
  });

  test('a replayed callback is refused: the checks were used', async () => {
    const { location, cookie } = await start();
    const { callbackUrl } = await provider.browser().signIn(location, { redirectUri, login: 'alice', password: 'alice-password' });
    expect((await callback(callbackUrl, cookie)).status).toBe(303);
    const again = await callback(callbackUrl, cookie);
    expect(again.status).toBe(401);
    expect(cookieOf(again, 'drydock_session')).toBeUndefined();
  });

  test("a forged callback (another browser's answer, or none started here) is refused on its state", async () => {
    const mine = await start();
    const victims = await start();
    const { callbackUrl } = await provider.browser().signIn(victims.location, { redirectUri, login: 'alice', password: 'alice-password' });
    // The attacker's browser holds its own sign-in cookie, not the victim's: the state does not match.
    const forged = await callback(callbackUrl, mine.cookie);
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { message: string } }).error.message).toContain('state mismatch');
    expect((await callback(callbackUrl, undefined)).status).toBe(401);
    const [failed] = await sql`select actor_name, result, detail from audit_log where action = 'auth.oidc.sign-in.failed' and result = 401 order by id limit 1`;
    expect(failed).toMatchObject({ actor_name: 'anonymous', result: 401, detail: { reason: 'state_mismatch' } });
  });

  test('an answer from another provider, for a client of the same name, is refused', async () => {
    const { location, cookie } = await start();
    // The other provider signs the user in and answers this sign-in's state: its code and ID token are not ours.
    const mixed = new URL(location);
    mixed.host = new URL(other.issuer).host;
    const { callbackUrl } = await other.browser().signIn(mixed, { redirectUri, login: 'alice', password: 'alice-password' });
    const res = await callback(callbackUrl, cookie);
    expect(res.status).toBe(401);
    expect(cookieOf(res, 'drydock_session')).toBeUndefined();
  });

  test('a provider that does not answer at all: the start answers 503 that says so', async () => {
    // Nothing listens at this issuer: discovery, the start's first step, finds no provider.
    const issuer = `http://127.0.0.1:${await freePort()}/oidc`;
    const down = await startTestStack({ processes: ['api'], setup: false, env: { DRYDOCK_OIDC_ISSUER: issuer, DRYDOCK_OIDC_CLIENT_ID: 'drydock' } });
    try {
      const res = await down.api('/api/v1/auth/oidc/start', { redirect: 'manual' });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string; reason: string; message: string } }).error).toEqual({
        code: 'oidc_provider',
        reason: 'unreachable',
        message: `the OpenID provider ${issuer} is unreachable: connection refused`,
      });
    } finally {
      await down.teardown();
    }
  });

  // Last: it stops the provider. The sign-in that reaches it no more answers 503 with the reason, not 500.
  test('an unreachable provider answers 503 that says so, not 500', async () => {
    const { location, cookie } = await start();
    const { callbackUrl } = await provider.browser().signIn(location, { redirectUri, login: 'alice', password: 'alice-password' });
    await provider.stop();
    const res = await callback(callbackUrl, cookie);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string; reason: string; message: string } }).error).toEqual({
      code: 'oidc_provider',
      reason: 'unreachable',
      message: `the OpenID provider ${provider.issuer} is unreachable: connection refused`,
    });
    expect(cookieOf(res, 'drydock_session')).toBeUndefined();
    const [failed] = await sql`select result, detail from audit_log where action = 'auth.oidc.sign-in.failed' and result = 503`;
    expect(failed).toMatchObject({ detail: { reason: 'unreachable' } });
  });
});
