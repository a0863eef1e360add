import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { type AgentRevokedReason, ForbiddenError, UnauthorizedError } from '@drydock/core';
import type { ApiDeps, ApiEnv } from './context.ts';

export const AGENT_ROUTES = '/api/v1/agent/';
const PUBLIC_ROUTES = new Set(['/health', '/api/v1/openapi.json', '/api/v1/schemas/manifest.json', '/api/v1/agents/register', '/api/v1/docs']);
/** The API reference page's scripts and styles. */
const PUBLIC_PREFIX = '/api/v1/docs/';
/** Webhooks authenticate by the provider's signature over the body, checked in the route. */
const SIGNED_ROUTES = '/api/v1/webhooks/';

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

/**
 * The single gate every route passes: agent routes take agent tokens only, user routes take a user
 * (in local mode the provisioned local admin), and agent tokens never open user routes.
 */
export function authMiddleware(deps: ApiDeps) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const path = c.req.path;
    if (path.startsWith(AGENT_ROUTES)) {
      const token = bearer(c.req.header('authorization'));
      if (!token) throw new UnauthorizedError('agent routes need an agent token (Authorization: Bearer …)');
      const agent = await deps.db
        .selectFrom('agents')
        .select(['id', 'host_id', 'team_id', 'revoked_at', 'revoked_reason'])
        .where('token_hash', '=', hashToken(token))
        .executeTakeFirst();
      if (!agent) throw new UnauthorizedError('agent token is unknown; register the agent again');
      if (agent.revoked_at) throw new UnauthorizedError(revokedMessage(agent.host_id, agent.revoked_at, agent.revoked_reason));
      c.set('agent', { agentId: agent.id, hostId: agent.host_id, teamId: agent.team_id });
      return next();
    }
    if (PUBLIC_ROUTES.has(path) || path.startsWith(PUBLIC_PREFIX) || path.startsWith(SIGNED_ROUTES) || c.req.method === 'OPTIONS') return next();
    const token = bearer(c.req.header('authorization'));
    if (token?.startsWith('dda_')) throw new ForbiddenError('agent tokens are accepted on agent routes only');
    // Local mode issues no user token: one this API cannot check is refused, never taken as the local admin.
    if (token !== undefined) throw new UnauthorizedError('bearer token is unknown: this Drydock issues no user tokens (local mode), so user routes take none; send the request without it');
    c.set('user', deps.localUser);
    return next();
  });
}
