import type { Context } from 'hono';
import { setCookie } from 'hono/cookie';
import { clientIp } from '../audit.ts';
import { CSRF_COOKIE, SESSION_COOKIE } from '../auth.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import type { NewSession } from '../identity-service.ts';

/** What single sign-on routes (OIDC, Kerberos) share: cookie flags, the session's cookies, and their audit rows. */

export function secureCookies(deps: ApiDeps, c: Context<ApiEnv>): boolean {
  return deps.config.publicUrl.startsWith('https:') || c.req.header('x-forwarded-proto') === 'https';
}

/** The session cookie (HttpOnly) and its CSRF cookie (readable by the page), both until the session's absolute expiry. */
export function setSessionCookies(deps: ApiDeps, c: Context<ApiEnv>, session: NewSession): void {
  const options = { path: '/', sameSite: 'Lax', secure: secureCookies(deps, c), expires: session.absoluteExpiresAt } as const;
  setCookie(c, SESSION_COOKIE, session.cookie, { ...options, httpOnly: true });
  setCookie(c, CSRF_COOKIE, session.csrfToken, options);
}

/** A sign-in's audit row, written here because these routes are GETs, which the audit middleware leaves alone. */
export async function auditSignIn(
  deps: ApiDeps,
  c: Context<ApiEnv>,
  row: { team: string; actorId: string | null; actor: string; action: string; result: number; detail: Record<string, unknown> },
): Promise<void> {
  await deps.db
    .insertInto('audit_log')
    .values({
      team_id: row.team,
      actor_id: row.actorId,
      actor_name: row.actor,
      action: row.action,
      resource: null,
      ip: clientIp(c),
      user_agent: c.req.header('user-agent') ?? null,
      result: row.result,
      detail: row.detail,
      request_id: c.get('requestId') ?? null,
    })
    .execute();
}
