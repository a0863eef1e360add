import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { ApiDeps, ApiEnv, AuditNote } from './context.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Agent telemetry (log batches, heartbeats) is traffic, not an action anyone takes. */
const UNAUDITED = [/^\/api\/v1\/agent\/runs\/[^/]+\/(logs|artifacts)$/, /^\/api\/v1\/agent\/heartbeat$/, /^\/api\/v1\/codec\//];

export function noteAudit(c: Context<ApiEnv>, note: AuditNote): void {
  c.set('audit', note);
}

export function clientIp(c: Context<ApiEnv>): string | null {
  let remote: string | undefined;
  try {
    remote = getConnInfo(c).remote.address;
  } catch {
    remote = undefined;
  }
  // The web server proxies for browsers; trust its forwarded address only when it connects from this machine.
  const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
  const loopback = !remote || remote === '127.0.0.1' || remote === '::1' || remote === '::ffff:127.0.0.1';
  return (loopback && forwarded) || remote || null;
}

/**
 * Every mutating call leaves a row: who, what, on which resource, from where, and how it ended. The database
 * chains it (migration 018): this writer only says what happened.
 */
export function auditMiddleware(deps: ApiDeps) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    await next();
    if (!MUTATING.has(c.req.method) || UNAUDITED.some((r) => r.test(c.req.path))) return;
    const note = c.get('audit');
    const user = c.get('user');
    const agent = c.get('agent');
    const principal = c.get('principal');
    // A token's use on a mutating route names the token, so a leaked one can be traced.
    const detail = principal?.tokenId ? { ...note?.detail, auth: 'token', tokenId: principal.tokenId } : (note?.detail ?? null);
    await deps.db
      .insertInto('audit_log')
      .values({
        team_id: note?.teamId ?? user?.team_id ?? agent?.teamId ?? deps.config.DRYDOCK_TEAM,
        actor_id: user?.id ?? agent?.agentId ?? null,
        actor_name: user?.email ?? (agent ? `agent:${agent.hostId}` : 'anonymous'),
        action: note?.action ?? `${c.req.method} ${c.req.routePath}`,
        resource: note?.resource ?? null,
        ip: clientIp(c),
        user_agent: c.req.header('user-agent') ?? null,
        result: c.res.status,
        detail,
        request_id: c.get('requestId') ?? null,
      })
      .execute();
  });
}
