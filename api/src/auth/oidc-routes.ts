import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { clientIp } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { CALLER, errors, resourceRouter } from '../contract.ts';
import { beginOidcSignIn, finishOidcSignIn, OIDC_COOKIE } from './oidc-sign-in.ts';
import { OidcProviderError, type OidcSignIn, OidcSignInError } from './oidc.ts';
import { auditSignIn as audit, secureCookies as secure, setSessionCookies } from './sign-in-common.ts';

const redirect = (description: string) => ({ description, headers: z.object({ location: z.string() }) });

/** The provider, not the user, is the trouble: it does not answer (503), or answers wrongly or refuses Drydock's client (502). */
const providerErrors = errors([502, 'The OpenID provider answered wrongly, or refused Drydock’s client: the message says what to fix'], [503, 'The OpenID provider does not answer; try again shortly']);

function providerFailure(c: Context<ApiEnv>, err: OidcProviderError) {
  return c.json({ error: { code: err.code, reason: err.reason, message: err.message } }, err.reason === 'unreachable' ? 503 : 502);
}

const start = createRoute({
  method: 'get',
  path: '/start',
  tags: ['identity'],
  summary: 'Sign in with the OpenID provider: sends the browser to it',
  description: 'Only when `DRYDOCK_OIDC_ISSUER` is set. Authorization code flow with PKCE (S256), state and nonce; the checks wait ten minutes for the callback, under an HttpOnly cookie.',
  security: CALLER.anyone,
  responses: { 302: redirect("The provider's sign-in page"), ...providerErrors },
});

const callback = createRoute({
  method: 'get',
  path: '/callback',
  tags: ['identity'],
  summary: 'Where the OpenID provider sends the browser back: checks everything, then starts a session',
  description:
    'The state must be the one this browser started with (once: a replayed callback is refused), the code is redeemed with the PKCE verifier, and the ID token must come from `DRYDOCK_OIDC_ISSUER`, for this client, with this sign-in’s nonce. The user is created on their first sign-in; the groups claim gives teams and roles through `DRYDOCK_OIDC_GROUP_MAP`. When nobody can administer Drydock yet, the first person to sign in becomes admin of the first team.',
  security: CALLER.anyone,
  request: {
    query: z.looseObject({
      code: z.string().optional().meta({ description: 'The authorization code' }),
      state: z.string().optional(),
      iss: z.string().optional().meta({ description: 'The issuer (RFC 9207), checked against DRYDOCK_OIDC_ISSUER' }),
      error: z.string().optional().meta({ description: 'The provider ended the sign-in instead (the user cancelled, or may not use Drydock)' }),
    }),
  },
  responses: { 303: redirect('Signed in: to the web UI, with the session cookie set'), ...errors([401, 'A check failed; sign in again'], [403, 'Your groups give no team, or the user is disabled']), ...providerErrors },
});

/** `/api/v1/auth/oidc`: single sign-on through the configured OpenID provider, ending in a normal session. */
export function oidcRoutes(deps: ApiDeps, oidc: OidcSignIn) {
  const cookiePath = '/api/v1/auth/oidc';
  return resourceRouter()
    .openapi(start, async (c) => {
      let begun: { url: URL; cookie: string };
      try {
        begun = await beginOidcSignIn(deps, oidc);
      } catch (err) {
        if (err instanceof OidcProviderError) return providerFailure(c, err);
        throw err;
      }
      const { url, cookie } = begun;
      setCookie(c, OIDC_COOKIE, cookie, { path: cookiePath, httpOnly: true, sameSite: 'Lax', secure: secure(deps, c), maxAge: 600 });
      return c.redirect(url.href, 302);
    })
    .openapi(callback, async (c) => {
      const cookie = getCookie(c, OIDC_COOKIE);
      deleteCookie(c, OIDC_COOKIE, { path: cookiePath });
      const meta = { ip: clientIp(c), userAgent: c.req.header('user-agent') ?? null };
      try {
        const { session, identity, firstAdmin } = await finishOidcSignIn(deps, oidc, c.req.url, cookie, meta);
        setSessionCookies(deps, c, session);
        const p = session.principal;
        await audit(deps, c, { team: p.teamId, actorId: p.actorId, actor: p.name, action: 'auth.oidc.sign-in', result: 303, detail: { issuer: identity.issuer, subject: identity.subject, groups: identity.groups, ...(firstAdmin ? { firstAdmin: true } : {}) } });
        return c.redirect(deps.config.publicUrl, 303);
      } catch (err) {
        const reason = err instanceof OidcSignInError || err instanceof OidcProviderError ? err.reason : err instanceof Error ? err.name : 'error';
        const provider = err instanceof OidcProviderError;
        const result = provider ? (err.reason === 'unreachable' ? 503 : 502) : err instanceof OidcSignInError ? 401 : 403;
        await audit(deps, c, { team: deps.config.DRYDOCK_TEAM, actorId: null, actor: 'anonymous', action: 'auth.oidc.sign-in.failed', result, detail: { reason } });
        if (provider) return providerFailure(c, err);
        throw err;
      }
    });
}
