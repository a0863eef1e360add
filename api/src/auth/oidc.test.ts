import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, GroupMapSchema, membershipsFromGroups } from '@drydock/core';
import { type OidcTestProvider, startOidcProvider } from '../../../tests/support/oidc-provider.ts';
import { createOidcSignIn, type OidcChecks, OidcProviderError, type OidcSignInOptions, OidcSignInError } from './oidc.ts';

const REDIRECT = 'http://127.0.0.1:3000/auth/oidc/callback';
const OTHER_APP_REDIRECT = 'http://127.0.0.1:4000/callback';
const users = [
  { login: 'alice', password: 'alice-password', email: 'alice@example.com', name: 'Alice Example', groups: ['drydock-admins', 'platform-oncall', 'everyone'] },
  { login: 'bob', password: 'bob-password', email: 'bob@example.com', name: 'Bob Example', groups: [] },
];

let main: OidcTestProvider;
/** Another provider that also has a client called drydock: the mix-up attacker's, or simply another company's. */
let other: OidcTestProvider;
/** A provider whose clock runs two hours behind: its ID tokens have expired when they are issued. */
let late: OidcTestProvider;

beforeAll(async () => {
  const drydock = { clientId: 'drydock', clientSecret: 'drydock-client-secret', redirectUris: [REDIRECT] };
  [main, other, late] = await Promise.all([
    startOidcProvider({
      clients: [drydock, { clientId: 'drydock-public', redirectUris: [REDIRECT] }, { clientId: 'other-app', clientSecret: 'other-app-secret', redirectUris: [OTHER_APP_REDIRECT] }],
      users,
    }),
    startOidcProvider({ clients: [drydock], users: [{ login: 'mallory', password: 'mallory-password', email: 'mallory@example.net', name: 'Mallory', groups: ['drydock-admins'] }], claimsInIdToken: true }),
    startOidcProvider({ clients: [drydock], users, clockOffsetSeconds: -2 * 3600 }),
  ]);
});

afterAll(async () => {
  await Promise.all([main?.stop(), other?.stop(), late?.stop()]);
});

function signInWith(provider: OidcTestProvider, overrides: Partial<OidcSignInOptions> = {}) {
  return createOidcSignIn({
    issuerUrl: provider.issuer,
    clientId: 'drydock',
    clientSecret: 'drydock-client-secret',
    redirectUri: REDIRECT,
    scopes: ['openid', 'email', 'profile', 'groups'],
    groupsClaim: 'groups',
    ...overrides,
  });
}

async function failureOf<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof type) return err;
  throw new Error(`expected ${type.name}, got ${String(err)}`);
}
const refusal = (promise: Promise<unknown>) => failureOf(promise, OidcSignInError);
const providerError = (promise: Promise<unknown>) => failureOf(promise, OidcProviderError);

/** A person signing in at `provider` in a fresh browser; returns where the provider sent them back. */
async function signInAt(provider: OidcTestProvider, url: URL, login = 'alice', password = `${login}-password`, redirectUri = REDIRECT): Promise<string> {
  return (await provider.browser().signIn(url, { redirectUri, login, password })).callbackUrl;
}

/** The token endpoint's answers as openid-client sees them, with `change` applied: a network path the attacker controls. */
function tokenEndpointFetch(change: (body: Record<string, unknown>) => Record<string, unknown>): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input instanceof Request ? input.url : input).endsWith('/token') || !res.ok) return res;
    return new Response(JSON.stringify(change((await res.json()) as Record<string, unknown>)), { status: res.status, headers: res.headers });
  };
}

describe('OpenID Connect sign-in against a real provider', () => {
  it('signs a user in with the code flow and PKCE, with the groups from the provider', async () => {
    const oidc = signInWith(main);
    const { url, checks } = await oidc.begin();
    expect(url.origin + url.pathname).toBe(`${main.issuer}/auth`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'drydock',
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email profile groups',
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
    });
    expect(url.searchParams.get('code_challenge')).toBe(createHash('sha256').update(checks.codeVerifier).digest('base64url'));

    const callback = await signInAt(main, url);
    expect(new URL(callback).searchParams.get('iss')).toBe(main.issuer);
    const identity = await oidc.finish(callback, checks);
    expect(identity).toEqual({
      issuer: main.issuer,
      subject: 'sub-alice',
      email: 'alice@example.com',
      emailVerified: true,
      name: 'Alice Example',
      groups: ['drydock-admins', 'platform-oncall', 'everyone'],
    });

    const map = GroupMapSchema.parse({ 'drydock-admins': { team: 'platform', role: 'admin' }, 'platform-oncall': { team: 'platform', role: 'operator' } });
    expect(membershipsFromGroups(identity.groups, map)).toEqual([{ team: 'platform', role: 'admin', groups: ['drydock-admins'] }]);
  });

  it('signs in through a public client, on PKCE alone', async () => {
    const oidc = signInWith(main, { clientId: 'drydock-public', clientSecret: undefined });
    const { url, checks } = await oidc.begin();
    expect((await oidc.finish(await signInAt(main, url, 'bob'), checks)).subject).toBe('sub-bob');
  });

  it('gives no groups to a user who has none, and reads them from the ID token where the provider puts them there', async () => {
    const oidc = signInWith(main);
    const begun = await oidc.begin();
    expect((await oidc.finish(await signInAt(main, begun.url, 'bob'), begun.checks)).groups).toEqual([]);

    const elsewhere = signInWith(other);
    const there = await elsewhere.begin();
    expect(await elsewhere.finish(await signInAt(other, there.url, 'mallory'), there.checks)).toMatchObject({ issuer: other.issuer, groups: ['drydock-admins'] });
  });

  it('passes on that the user cancelled at the provider', async () => {
    const oidc = signInWith(main);
    const { url, checks } = await oidc.begin();
    const { callbackUrl } = await main.browser().signIn(url, { redirectUri: REDIRECT, cancel: true });
    const err = await refusal(oidc.finish(callbackUrl, checks));
    expect(err.reason).toBe('provider_refused');
    expect(err.message).toBe('the OpenID provider ended the sign-in: access_denied (the user cancelled the sign-in)');
  });
});

describe('OpenID Connect attacks, each refused', () => {
  it('a forged state, and a callback in a browser that started no sign-in; the real callback still works after', async () => {
    const oidc = signInWith(main);
    const { url, checks } = await oidc.begin();
    const callback = new URL(await signInAt(main, url));

    const forged = new URL(callback);
    forged.searchParams.set('state', 'attacker-chosen-state');
    const err = await refusal(oidc.finish(forged, checks));
    expect(err).toMatchObject({ reason: 'state_mismatch', code: 'unauthorized' });
    expect(err.message).toBe('the sign-in callback does not belong to the sign-in this browser started (state mismatch); sign in again');

    const noCookie = await refusal(oidc.finish(callback, undefined as unknown as OidcChecks));
    expect(noCookie).toMatchObject({ reason: 'state_mismatch', message: 'no sign-in was started in this browser (or it expired); sign in again' });

    expect((await oidc.finish(callback, checks)).subject).toBe('sub-alice');
  });

  it('a replayed callback: the provider has already spent its code', async () => {
    const oidc = signInWith(main);
    const { url, checks } = await oidc.begin();
    const callback = await signInAt(main, url);
    expect((await oidc.finish(callback, checks)).subject).toBe('sub-alice');
    const err = await refusal(oidc.finish(callback, checks));
    expect(err.reason).toBe('code_rejected');
    expect(err.message).toMatch(/^the OpenID provider refused the authorization code \(.+\): it was used already, has expired, or belongs to another client or sign-in; sign in again$/);
  });

  it("a callback with this browser's state but another sign-in's nonce", async () => {
    const oidc = signInWith(main);
    const first = await oidc.begin();
    const second = await oidc.begin();
    const callback = await signInAt(main, first.url);
    const err = await refusal(oidc.finish(callback, { ...first.checks, nonce: second.checks.nonce }));
    expect(err).toMatchObject({ reason: 'nonce_mismatch', message: 'the ID token belongs to another sign-in (nonce mismatch); sign in again' });
  });

  it("another client's authorization code, and another client's ID token", async () => {
    const oidc = signInWith(main);
    const { url, checks } = await oidc.begin();
    // The other application's sign-in, carrying Drydock's state and nonce as an attacker would copy them.
    let theirIdToken = '';
    const otherApp = signInWith(main, {
      clientId: 'other-app',
      clientSecret: 'other-app-secret',
      redirectUri: OTHER_APP_REDIRECT,
      fetch: tokenEndpointFetch((body) => ((theirIdToken = String(body.id_token)), body)),
    });
    const theirs = await otherApp.begin();
    const theirUrl = new URL(theirs.url);
    theirUrl.searchParams.set('state', checks.state);
    theirUrl.searchParams.set('nonce', checks.nonce);
    const theirCallback = await signInAt(main, theirUrl, 'alice', 'alice-password', OTHER_APP_REDIRECT);

    const injected = await refusal(oidc.finish(theirCallback, checks));
    expect(injected.reason).toBe('code_rejected');

    await otherApp.finish(theirCallback, { ...theirs.checks, state: checks.state, nonce: checks.nonce });
    expect(theirIdToken).toMatch(/^ey/);
    // Their ID token, genuinely signed by the provider and with this sign-in's nonce, in the answer to Drydock's own token request.
    const substituted = signInWith(main, { fetch: tokenEndpointFetch((body) => ({ ...body, id_token: theirIdToken })) });
    const err = await refusal(substituted.finish(await signInAt(main, url), checks));
    expect(err).toMatchObject({ reason: 'audience_mismatch', message: 'the ID token was issued to another client than drydock' });
  });

  it("another provider's answer to Drydock's request (a mix-up), and another provider's ID token", async () => {
    const oidc = signInWith(main);
    const { url, checks } = await oidc.begin();
    // The request reaches the other provider, which signs its own user in and sends the browser back with Drydock's state.
    const toOther = new URL(`${other.issuer}/auth${url.search}`);
    let otherIdToken = '';
    const otherSide = signInWith(other, { fetch: tokenEndpointFetch((body) => ((otherIdToken = String(body.id_token)), body)) });
    const mixedUp = await signInAt(other, toOther, 'mallory');
    expect(new URL(mixedUp).searchParams.get('state')).toBe(checks.state);
    const err = await refusal(oidc.finish(mixedUp, checks));
    expect(err).toMatchObject({ reason: 'issuer_mismatch', message: `the sign-in answer comes from another provider than ${main.issuer}; sign in again` });

    await otherSide.finish(mixedUp, checks);
    expect(otherIdToken).toMatch(/^ey/);
    const substituted = signInWith(main, { fetch: tokenEndpointFetch((body) => ({ ...body, id_token: otherIdToken })) });
    const claimed = await refusal(substituted.finish(await signInAt(main, url), checks));
    expect(claimed.reason).toBe('issuer_mismatch');
  });

  it('an ID token that has expired when it arrives', async () => {
    const oidc = signInWith(late);
    const { url, checks } = await oidc.begin();
    const err = await refusal(oidc.finish(await signInAt(late, url), checks));
    expect(err).toMatchObject({ reason: 'expired', message: "the ID token has expired: if this repeats, the provider's clock or Drydock's is wrong" });
  });
});

describe('OpenID provider problems, said so an operator can act', () => {
  it('an unreachable provider', async () => {
    const port = await freePort();
    const err = await providerError(signInWith(main, { issuerUrl: `http://127.0.0.1:${port}` }).begin());
    expect(err).toMatchObject({ reason: 'unreachable', message: `the OpenID provider http://127.0.0.1:${port} is unreachable: connection refused` });
  });

  it('discovers the provider again on the next sign-in after a failed discovery', async () => {
    let networkDown = true;
    const oidc = signInWith(main, {
      fetch: (input, init) =>
        networkDown ? Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })) : fetch(input, init),
    });
    expect((await providerError(oidc.begin())).reason).toBe('unreachable');
    networkDown = false;
    const { url, checks } = await oidc.begin();
    expect((await oidc.finish(await signInAt(main, url), checks)).subject).toBe('sub-alice');
  });

  it('a wrong client secret', async () => {
    const oidc = signInWith(main, { clientSecret: 'not-the-secret' });
    const { url, checks } = await oidc.begin();
    const err = await providerError(oidc.finish(await signInAt(main, url), checks));
    expect(err.reason).toBe('misconfigured');
    expect(err.message).toMatch(/^the OpenID provider refused Drydock's client drydock \(invalid_client\): check DRYDOCK_OIDC_CLIENT_ID and DRYDOCK_OIDC_CLIENT_SECRET$/);
    expect(err.message).not.toContain('not-the-secret');
  });

  it('an issuer written differently from how the provider names itself', async () => {
    const err = await providerError(signInWith(main, { issuerUrl: main.issuer.replace('127.0.0.1', 'localhost') }).begin());
    expect(err).toMatchObject({ reason: 'misconfigured' });
    expect(err.message).toMatch(/describes itself as another issuer: set DRYDOCK_OIDC_ISSUER to the issuer exactly as the provider names it$/);
  });

  it('an issuer over plain http off loopback', () => {
    expect(() => signInWith(main, { issuerUrl: 'http://login.example.com' })).toThrow('DRYDOCK_OIDC_ISSUER must be an https URL (plain http only on loopback, for tests): http://login.example.com');
  });
});
