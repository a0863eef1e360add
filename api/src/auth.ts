import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { type AccessNeed, type AgentRevokedReason, ForbiddenError, hasAccess, type Principal, roleAtLeast, TOKEN_SCOPES, UnauthorizedError, type User } from '@drydock/core';
import type { ApiDeps, ApiEnv } from './context.ts';
import { principalOfSession, principalOfToken } from './identity-service.ts';

export const AGENT_ROUTES = '/api/v1/agent/';
/** Sign-in, first-admin setup and password reset: the caller has no credential yet; each route checks its own proof. */
export const SIGN_IN_ROUTES = new Set(['/api/v1/auth/sign-in', '/api/v1/auth/setup', '/api/v1/auth/reset', '/api/v1/auth/status', '/api/v1/auth/oidc/start', '/api/v1/auth/oidc/callback', '/api/v1/auth/negotiate']);
const PUBLIC_ROUTES = new Set(['/health', '/api/v1/openapi.json', '/api/v1/schemas/manifest.json', '/api/v1/agents/register', '/api/v1/docs', ...SIGN_IN_ROUTES]);
/** The API reference page's scripts and styles. */
const PUBLIC_PREFIX = '/api/v1/docs/';
/** Webhooks authenticate by the provider's signature over the body, checked in the route. */
const SIGNED_ROUTES = '/api/v1/webhooks/';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const SESSION_COOKIE = 'drydock_session';
/** Not HttpOnly: the page reads it and sends it back as the header, which a cross-site form cannot set. */
export const CSRF_COOKIE = 'drydock_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newAgentToken(): string {
  return `dda_${randomBytes(32).toString('base64url')}`;
}

export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Why a token no longer works, for the agent's log: it tells the operator what to do next. */
function revokedMessage(hostId: string, at: Date, reason: AgentRevokedReason | null): string {
  const when = at.toISOString();
  if (reason === 'revoked') {
    return `an admin revoked the agent token of host ${hostId} at ${when}; an admin can issue a new one with POST /api/v1/agents/hosts/${hostId}/rotate`;
  }
  if (reason === 'rotated') return `the agent token of host ${hostId} was replaced by a newer one at ${when} (token rotation); use the newer token`;
  return `the agent token of host ${hostId} was retired at ${when}, when the host registered again; register the agent again`;
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** The routes' `user`, as they have always read it: the caller, with the team and role of this request. */
function userOf(p: Principal, createdAt: Date): User {
  return {
    id: p.actorId,
    team_id: p.teamId,
    email: p.name,
    name: p.name,
    role: p.role ?? 'viewer',
    password_hash: null,
    disabled: false,
    failed_attempts: 0,
    locked_until: null,
    created_at: createdAt,
  };
}

function localPrincipal(local: User): Principal {
  return { auth: 'local', actorId: local.id, userId: local.id, serviceAccountId: null, name: local.email, teamId: local.team_id, role: 'admin', scopes: TOKEN_SCOPES };
}

export function setPrincipal(c: Context<ApiEnv>, principal: Principal): void {
  c.set('principal', principal);
  c.set('user', userOf(principal, new Date(0)));
}

/**
 * The single gate every route passes: agent routes take agent tokens only; user routes take a session cookie
 * (with its CSRF header on a mutating call) or an API token (`ddp_`), or, in the local mode only, nothing;
 * agent tokens never open user routes. Each route then says what it needs with `requireAccess`.
 */
export function authMiddleware(deps: ApiDeps) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const path = c.req.path;
    if (path.startsWith(AGENT_ROUTES)) {
      const token = bearer(c.req.header('authorization'));
      if (!token) throw new UnauthorizedError('agent routes need an agent token (Authorization: Bearer dda_…); a user session or API token does not open them');
      const agent = await deps.db
        .selectFrom('agents')
        .select(['id', 'host_id', 'team_id', 'revoked_at', 'revoked_reason'])
        .where('token_hash', '=', hashToken(token))
        .executeTakeFirst();
      if (!agent) throw new UnauthorizedError('agent token is unknown; register the agent again');
      if (agent.revoked_at) throw new UnauthorizedError(revokedMessage(agent.host_id, agent.revoked_at, agent.revoked_reason));
      c.set('agent', { agentId: agent.id, hostId: agent.host_id, teamId: agent.team_id });
      c.set('principal', { auth: 'agent', actorId: agent.id, userId: null, serviceAccountId: null, name: `agent:${agent.host_id}`, teamId: agent.team_id, role: null, scopes: [] });
      return next();
    }
    if (PUBLIC_ROUTES.has(path) || path.startsWith(PUBLIC_PREFIX) || path.startsWith(SIGNED_ROUTES) || c.req.method === 'OPTIONS') return next();
    const token = bearer(c.req.header('authorization'));
    if (token?.startsWith('dda_')) throw new ForbiddenError('agent tokens are accepted on agent routes only');
    if (token !== undefined) {
      if (!token.startsWith('ddp_')) throw new UnauthorizedError('bearer token is unknown: user routes take an API token (ddp_…) from POST /api/v1/tokens');
      setPrincipal(c, await principalOfToken(deps, token));
      return next();
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) {
      const { principal, csrfSecret } = await principalOfSession(deps, cookie);
      // The codec changes nothing and takes JSON only (a preflight CORS answers for Temporal Web alone): no CSRF token to send.
      if (!SAFE_METHODS.has(c.req.method) && !path.startsWith('/api/v1/codec/')) {
        const sent = c.req.header(CSRF_HEADER);
        if (!sent || !secretsEqual(sent, csrfSecret)) {
          throw new ForbiddenError(`a call with a session cookie that changes something needs the ${CSRF_HEADER} header with the session's CSRF token (from GET /api/v1/me or the ${CSRF_COOKIE} cookie)`);
        }
      }
      setPrincipal(c, principal);
      return next();
    }
    if (deps.config.DRYDOCK_AUTH_MODE === 'local' && deps.localUser) {
      setPrincipal(c, localPrincipal(deps.localUser));
      return next();
    }
    throw new UnauthorizedError('sign in first (POST /api/v1/auth/sign-in), or send an API token: Authorization: Bearer ddp_…');
  });
}

/** What a route needs of its caller, checked after the gate has said who it is. */
export function requireAccess(need: AccessNeed) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new UnauthorizedError('sign in first (POST /api/v1/auth/sign-in), or send an API token: Authorization: Bearer ddp_…');
    if (!hasAccess(principal, need)) {
      if (!roleAtLeast(principal.role, need.role)) {
        throw new ForbiddenError(`this needs the ${need.role} role in team ${principal.teamId}; you are ${principal.role ?? 'an agent'} there: ask an admin of the team`);
      }
      throw new ForbiddenError(`this API token lacks the scope ${need.scope}; create one that has it (POST /api/v1/tokens with scopes ["${need.scope}"])`);
    }
    return next();
  });
}
