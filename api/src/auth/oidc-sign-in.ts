import { randomBytes } from 'node:crypto';
import { type Config, ForbiddenError, membershipsFromGroups, newId, type TeamRole } from '@drydock/core';
import { hashToken } from '../auth.ts';
import type { ApiDeps } from '../context.ts';
import { type NewSession, type RequestMeta, startSession } from '../identity-service.ts';
import { createOidcSignIn, type OidcIdentity, type OidcSignIn, OidcSignInError } from './oidc.ts';

/** How long a started sign-in waits for the provider's callback. */
const SIGN_IN_MINUTES = 10;
export const OIDC_COOKIE = 'drydock_oidc';

export function oidcFromConfig(config: Config): OidcSignIn | undefined {
  return config.oidc ? createOidcSignIn(config.oidc) : undefined;
}

/** Starts a sign-in: its checks are kept under a random cookie value, for one callback within ten minutes. */
export async function beginOidcSignIn(deps: ApiDeps, oidc: OidcSignIn): Promise<{ url: URL; cookie: string }> {
  const { url, checks } = await oidc.begin();
  const cookie = randomBytes(32).toString('base64url');
  await deps.db.deleteFrom('oidc_sign_ins').where('expires_at', '<', new Date()).execute();
  await deps.db
    .insertInto('oidc_sign_ins')
    .values({ id_hash: hashToken(cookie), state: checks.state, nonce: checks.nonce, code_verifier: checks.codeVerifier, expires_at: new Date(Date.now() + SIGN_IN_MINUTES * 60_000) })
    .execute();
  return { url, cookie };
}

/** Takes the checks of this browser's sign-in, once: a replayed callback finds none. */
async function takeChecks(deps: ApiDeps, cookie: string | undefined) {
  if (!cookie) return undefined;
  const row = await deps.db.deleteFrom('oidc_sign_ins').where('id_hash', '=', hashToken(cookie)).returningAll().executeTakeFirst();
  if (!row || row.expires_at < new Date()) return undefined;
  return { state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier };
}

/** Whether nobody can administer Drydock yet: no admin with a password or a provider account. */
async function noAdminYet(deps: ApiDeps): Promise<boolean> {
  const admin = await deps.db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select('u.id')
    .where('m.role', '=', 'admin')
    .where((eb) => eb.or([eb('u.password_hash', 'is not', null), eb.exists(eb.selectFrom('external_identities as x').select('x.user_id').whereRef('x.user_id', '=', 'u.id'))]))
    .executeTakeFirst();
  return !admin;
}

/**
 * The Drydock user of a provider's user: found by issuer and subject, else created on this first sign-in. The
 * groups claim decides the teams and roles of every team the group map names, at each sign-in; when nobody can
 * administer Drydock yet, the first person to sign in becomes admin of the first team (`DRYDOCK_TEAM`).
 */
async function userOf(deps: ApiDeps, identity: OidcIdentity): Promise<{ id: string; email: string; firstAdmin: boolean; teams: { team: string; role: TeamRole }[] }> {
  const { config } = deps;
  const granted: { team: string; role: TeamRole }[] = membershipsFromGroups(identity.groups, config.oidc?.groupMap ?? {}).map((m) => ({ team: m.team, role: m.role }));
  const firstAdmin = await noAdminYet(deps);
  if (firstAdmin && !granted.some((g) => g.team === config.DRYDOCK_TEAM && g.role === 'admin')) {
    const rest = granted.filter((g) => g.team !== config.DRYDOCK_TEAM);
    granted.splice(0, granted.length, { team: config.DRYDOCK_TEAM, role: 'admin' }, ...rest);
  }
  return deps.db.transaction().execute(async (tx) => {
    const linked = await tx.selectFrom('external_identities').select('user_id').where('issuer', '=', identity.issuer).where('subject', '=', identity.subject).executeTakeFirst();
    let user = linked ? await tx.selectFrom('users').select(['id', 'email', 'disabled']).where('id', '=', linked.user_id).executeTakeFirst() : undefined;
    if (!user) {
      if (granted.length === 0) {
        throw new ForbiddenError(`your groups at the OpenID provider (${identity.groups.join(', ') || 'none'}) give no team in Drydock; ask an admin to map one of them (DRYDOCK_OIDC_GROUP_MAP)`);
      }
      // A provider user is never merged into an existing account by email: the provider does not prove it owns that account.
      const email = identity.email ?? `${identity.subject}@${new URL(identity.issuer).hostname}`;
      const taken = await tx.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
      if (taken) throw new ForbiddenError(`a Drydock account with the email ${email} exists already and is not linked to this provider; an admin can link it`);
      const home = granted[0]!;
      user = await tx
        .insertInto('users')
        .values({ id: newId(), team_id: home.team, email, name: identity.name ?? email, role: home.role })
        .returning(['id', 'email', 'disabled'])
        .executeTakeFirstOrThrow();
      await tx.insertInto('external_identities').values({ issuer: identity.issuer, subject: identity.subject, user_id: user.id }).execute();
    } else {
      await tx.updateTable('external_identities').set({ last_sign_in_at: new Date() }).where('issuer', '=', identity.issuer).where('subject', '=', identity.subject).execute();
    }
    if (user.disabled) throw new ForbiddenError('this user is disabled; an admin of the team can enable them');
    const mapped = new Set(Object.values(config.oidc?.groupMap ?? {}).flatMap((grants) => grants.map((g) => g.team)));
    for (const { team, role } of granted) {
      await tx.insertInto('teams').values({ id: team, name: team }).onConflict((oc) => oc.column('id').doNothing()).execute();
      await tx
        .insertInto('memberships')
        .values({ user_id: user.id, team_id: team, role })
        .onConflict((oc) => oc.columns(['user_id', 'team_id']).doUpdateSet({ role }))
        .execute();
    }
    // Teams the group map governs follow the groups: a group taken away at the provider takes the team away here.
    const keep = granted.map((g) => g.team);
    const governed = [...mapped].filter((t) => !keep.includes(t));
    if (governed.length > 0) await tx.deleteFrom('memberships').where('user_id', '=', user.id).where('team_id', 'in', governed).execute();
    return { id: user.id, email: user.email, firstAdmin, teams: granted };
  });
}

/** Finishes a sign-in at the provider's callback: every check (state, PKCE, nonce, issuer, audience), then a session. */
export async function finishOidcSignIn(deps: ApiDeps, oidc: OidcSignIn, callbackUrl: string, cookie: string | undefined, meta: RequestMeta): Promise<{ session: NewSession; identity: OidcIdentity; firstAdmin: boolean }> {
  const checks = await takeChecks(deps, cookie);
  if (!checks) throw new OidcSignInError('state_mismatch', 'no sign-in was started in this browser, or it was used or expired; sign in again');
  const identity = await oidc.finish(callbackUrl, checks);
  const user = await userOf(deps, identity);
  return { session: await startSession(deps, user.id, user.email, meta), identity, firstAdmin: user.firstAdmin };
}
