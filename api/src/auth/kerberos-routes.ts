import { createRoute, z } from '@hono/zod-openapi';
import { ForbiddenError } from '@drydock/core';
import { clientIp } from '../audit.ts';
import type { ApiDeps } from '../context.ts';
import { CALLER, errors, resourceRouter } from '../contract.ts';
import { startSession } from '../identity-service.ts';
import { type KerberosSignIn, KerberosUserRefused, userOfPrincipal } from './kerberos-sign-in.ts';
import { auditSignIn, setSessionCookies } from './sign-in-common.ts';
import { type KerberosUser, type NegotiateResult, SpnegoError, type SpnegoVerifier, userFromPrincipal } from './spnego.ts';

const negotiate = createRoute({
  method: 'get',
  path: '/negotiate',
  tags: ['identity'],
  summary: 'Sign in with Kerberos (SPNEGO): a Windows-domain browser or `curl --negotiate` gets a session',
  description:
    'Without `Authorization: Negotiate <token>` the answer is 401 with `WWW-Authenticate: Negotiate`, which makes a browser that trusts this site send its Kerberos ticket. The ticket must be for the service principal `DRYDOCK_KERBEROS_SERVICE` from a realm in `DRYDOCK_KERBEROS_REALMS`; the principal `name@REALM` is the user linked to it before, else the one user whose email is `name@<realm in lower case>` (or `name@DRYDOCK_KERBEROS_EMAIL_DOMAIN`). No user is created. 404 when Kerberos is not configured.',
  security: CALLER.anyone,
  responses: {
    303: {
      description: "Signed in: to the web UI, with the session cookie set and Drydock's mutual-authentication token in `WWW-Authenticate`",
      headers: z.object({ location: z.string(), 'www-authenticate': z.string().optional() }),
    },
    ...errors(
      [401, 'No Negotiate token, or one Kerberos refuses (`reason` says why); `WWW-Authenticate: Negotiate` asks for one'],
      [403, 'No Drydock user matches the principal, or the user is disabled or in no team'],
      [404, 'Kerberos sign-in is not configured here (`code` is `not_configured`)'],
      [503, 'Kerberos sign-in is configured but its keytab cannot serve: the message says what to fix'],
    ),
  },
});

/** `/api/v1/auth/negotiate`: Kerberos sign-in over HTTP (RFC 4559), ending in a normal session. Always mounted, so an unconfigured Drydock says so. */
export function kerberosRoutes(deps: ApiDeps, kerberos: KerberosSignIn | undefined) {
  return resourceRouter().openapi(negotiate, async (c) => {
    if (!kerberos) {
      const body = {
        error: { code: 'not_configured', message: 'Kerberos sign-in is not configured on this Drydock: an operator sets DRYDOCK_KERBEROS_KEYTAB and DRYDOCK_KERBEROS_REALMS (docs/operators.md, "Kerberos sign-in")' },
      };
      return c.json(body, 404);
    }
    let verifier: SpnegoVerifier;
    try {
      verifier = await kerberos.verifier;
    } catch (err) {
      const body = { error: { code: 'unavailable', message: `Kerberos sign-in cannot start: ${(err as Error).message}; fix the setting and restart the API` } };
      return c.json(body, 503);
    }
    const failed = (actor: string, result: number, detail: Record<string, unknown>) =>
      auditSignIn(deps, c, { team: deps.config.DRYDOCK_TEAM, actorId: null, actor, action: 'auth.kerberos.sign-in.failed', result, detail });

    let negotiated: NegotiateResult | undefined;
    let user: KerberosUser;
    try {
      negotiated = await verifier.verify(c.req.header('authorization'));
      user = userFromPrincipal(negotiated.principal, kerberos.settings.realms);
    } catch (err) {
      if (!(err instanceof SpnegoError)) throw err;
      // A missing header is the first step of every negotiation, not a failure worth a row.
      if (err.reason !== 'missing') {
        // A principal Kerberos proved but Drydock refuses (another realm, a service) is named; a bad token has none.
        await failed(negotiated?.principal ?? 'anonymous', 401, { reason: err.reason, ...(negotiated ? { principal: negotiated.principal } : {}) });
      }
      c.header('WWW-Authenticate', 'Negotiate');
      const body = { error: { code: err.code, reason: err.reason, message: err.message } };
      return c.json(body, 401);
    }

    try {
      const found = await userOfPrincipal(deps, user, kerberos.settings);
      const session = await startSession(deps, found.id, found.email, { ip: clientIp(c), userAgent: c.req.header('user-agent') ?? null });
      setSessionCookies(deps, c, session);
      const p = session.principal;
      await auditSignIn(deps, c, {
        team: p.teamId,
        actorId: p.actorId,
        actor: p.name,
        action: 'auth.kerberos.sign-in',
        result: 303,
        detail: { principal: user.principal, ...(found.linked ? { linked: true } : {}) },
      });
    } catch (err) {
      // startSession refuses a user in no team.
      if (err instanceof ForbiddenError) await failed(user.principal, 403, { reason: err instanceof KerberosUserRefused ? err.reason : 'no_team', principal: user.principal });
      throw err;
    }
    // Mutual authentication: the client checks that it spoke to the service its ticket was for.
    if (negotiated.responseToken) c.header('WWW-Authenticate', `Negotiate ${negotiated.responseToken}`);
    return c.redirect(deps.config.publicUrl, 303);
  });
}
