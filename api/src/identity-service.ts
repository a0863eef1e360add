import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import {
  ensureDefaultEnvironments,
  ConflictError,
  type CreatedToken,
  ForbiddenError,
  hashPassword,
  isId,
  type Me,
  type MemberView,
  newId,
  NotFoundError,
  type Principal,
  type TeamRole,
  TOKEN_SCOPES,
  type TokenScope,
  type TokenView,
  UnauthorizedError,
  verifyAgainstDecoy,
  verifyPassword,
} from '@drydock/core';
import type { ApiDeps } from './context.ts';
import { hashToken } from './auth.ts';

// Sessions, API tokens, service accounts, members and one-time links: everything the gate and the identity
// routes read and write. Every secret handed out is random and stored as its SHA-256 only.

export const MAX_FAILED_SIGN_INS = 5;
export const LOCKOUT_MINUTES = 15;
const LINK_HOURS = 24;
/** Last-used and idle expiry are written at most this often: a busy client costs no write per request. */
const TOUCH_MS = 60_000;

const WRONG_CREDENTIALS = 'email or password is wrong';

function secret(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

async function roleIn(deps: ApiDeps, userId: string, teamId: string): Promise<TeamRole | undefined> {
  const row = await deps.db.selectFrom('memberships').select('role').where('user_id', '=', userId).where('team_id', '=', teamId).executeTakeFirst();
  return row?.role;
}

export async function principalOfToken(deps: ApiDeps, token: string): Promise<Principal> {
  const row = await deps.db
    .selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('service_accounts as s', 's.id', 't.service_account_id')
    .leftJoin('memberships as m', (j) => j.onRef('m.user_id', '=', 't.user_id').onRef('m.team_id', '=', 't.team_id'))
    .select([
      't.id',
      't.team_id',
      't.user_id',
      't.service_account_id',
      't.scopes',
      't.expires_at',
      't.revoked_at',
      't.last_used_at',
      'u.email',
      'u.disabled as user_disabled',
      'm.role as member_role',
      's.name as account_name',
      's.role as account_role',
      's.disabled as account_disabled',
    ])
    .where('t.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) throw new UnauthorizedError('API token is unknown: create one with POST /api/v1/tokens (or on the Tokens page)');
  if (row.revoked_at) throw new UnauthorizedError(`API token was revoked at ${row.revoked_at.toISOString()}; create a new one`);
  if (row.expires_at && row.expires_at <= new Date()) throw new UnauthorizedError(`API token expired at ${row.expires_at.toISOString()}; create a new one`);
  let principal: Principal;
  if (row.user_id) {
    if (row.user_disabled) throw new UnauthorizedError("API token's owner is disabled; an admin of the team can enable them");
    if (!row.member_role) throw new UnauthorizedError(`API token's owner is no longer a member of team ${row.team_id}`);
    principal = { auth: 'token', actorId: row.user_id, userId: row.user_id, serviceAccountId: null, name: row.email ?? row.user_id, teamId: row.team_id, role: row.member_role, scopes: row.scopes, tokenId: row.id };
  } else {
    if (row.account_disabled || !row.account_role) throw new UnauthorizedError('API token belongs to a disabled service account');
    const account = row.service_account_id!;
    principal = { auth: 'token', actorId: account, userId: null, serviceAccountId: account, name: `service:${row.account_name}`, teamId: row.team_id, role: row.account_role, scopes: row.scopes, tokenId: row.id };
  }
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > TOUCH_MS) {
    await deps.db.updateTable('api_tokens').set({ last_used_at: sql<Date>`now()` }).where('id', '=', row.id).execute();
  }
  return principal;
}

export async function principalOfSession(deps: ApiDeps, cookie: string): Promise<{ principal: Principal; csrfSecret: string }> {
  const idHash = hashToken(cookie);
  const row = await deps.db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('memberships as m', (j) => j.onRef('m.user_id', '=', 's.user_id').onRef('m.team_id', '=', 's.team_id'))
    .select(['s.user_id', 's.team_id', 's.csrf_secret', 's.last_seen_at', 's.idle_expires_at', 's.absolute_expires_at', 'u.email', 'u.disabled', 'm.role'])
    .where('s.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) throw new UnauthorizedError('session is unknown or signed out; sign in again');
  const now = new Date();
  if (row.idle_expires_at <= now || row.absolute_expires_at <= now) {
    await deps.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    throw new UnauthorizedError('session expired; sign in again');
  }
  if (row.disabled) throw new UnauthorizedError('this user is disabled; an admin of the team can enable them');
  if (!row.role) throw new UnauthorizedError(`you are no longer a member of team ${row.team_id}; sign in again`);
  if (now.getTime() - row.last_seen_at.getTime() > TOUCH_MS) {
    const idle = new Date(Math.min(now.getTime() + deps.config.DRYDOCK_SESSION_IDLE_HOURS * 3_600_000, row.absolute_expires_at.getTime()));
    await deps.db.updateTable('sessions').set({ last_seen_at: now, idle_expires_at: idle }).where('id_hash', '=', idHash).execute();
  }
  return {
    principal: { auth: 'session', actorId: row.user_id, userId: row.user_id, serviceAccountId: null, name: row.email, teamId: row.team_id, role: row.role, scopes: TOKEN_SCOPES, sessionIdHash: idHash },
    csrfSecret: row.csrf_secret,
  };
}

export interface NewSession {
  cookie: string;
  csrfToken: string;
  absoluteExpiresAt: Date;
  principal: Principal;
}

/** A session for a user who has proved who they are (a password, a setup link, an OpenID provider). */
export async function startSession(deps: ApiDeps, userId: string, email: string, meta: RequestMeta): Promise<NewSession> {
  const member = await deps.db
    .selectFrom('memberships')
    .select(['team_id', 'role'])
    .where('user_id', '=', userId)
    .orderBy(sql`team_id = ${deps.config.DRYDOCK_TEAM}`, 'desc')
    .orderBy('created_at')
    .executeTakeFirst();
  if (!member) throw new ForbiddenError('this user belongs to no team yet; ask an admin to add them to one');
  const cookie = secret();
  const csrfToken = secret();
  const now = Date.now();
  const absoluteExpiresAt = new Date(now + deps.config.DRYDOCK_SESSION_MAX_DAYS * 86_400_000);
  const idle = new Date(Math.min(now + deps.config.DRYDOCK_SESSION_IDLE_HOURS * 3_600_000, absoluteExpiresAt.getTime()));
  await deps.db
    .insertInto('sessions')
    .values({ id_hash: hashToken(cookie), user_id: userId, team_id: member.team_id, csrf_secret: csrfToken, last_seen_at: new Date(now), idle_expires_at: idle, absolute_expires_at: absoluteExpiresAt, ip: meta.ip, user_agent: meta.userAgent })
    .execute();
  return {
    cookie,
    csrfToken,
    absoluteExpiresAt,
    principal: { auth: 'session', actorId: userId, userId, serviceAccountId: null, name: email, teamId: member.team_id, role: member.role, scopes: TOKEN_SCOPES, sessionIdHash: hashToken(cookie) },
  };
}

/**
 * Local sign-in. An unknown email and a wrong password get the same answer, after the same work; five wrong
 * passwords in a row lock the account for 15 minutes; a disabled user is told so only with the right password.
 */
export async function signIn(deps: ApiDeps, email: string, password: string, meta: RequestMeta): Promise<NewSession> {
  const user = await deps.db.selectFrom('users').select(['id', 'email', 'password_hash', 'disabled', 'failed_attempts', 'locked_until']).where('email', '=', email).executeTakeFirst();
  if (!user?.password_hash) {
    await verifyAgainstDecoy(password);
    throw new UnauthorizedError(WRONG_CREDENTIALS);
  }
  if (user.locked_until && user.locked_until > new Date()) {
    throw new UnauthorizedError(`too many wrong passwords: sign-in is locked until ${user.locked_until.toISOString()}; try again then, or ask an admin for a reset link`);
  }
  if (!(await verifyPassword(password, user.password_hash))) {
    const failed = user.failed_attempts + 1;
    const lock = failed >= MAX_FAILED_SIGN_INS;
    await deps.db
      .updateTable('users')
      .set({ failed_attempts: lock ? 0 : failed, locked_until: lock ? new Date(Date.now() + LOCKOUT_MINUTES * 60_000) : null })
      .where('id', '=', user.id)
      .execute();
    throw new UnauthorizedError(WRONG_CREDENTIALS);
  }
  if (user.disabled) throw new ForbiddenError('this user is disabled; an admin of the team can enable them');
  await deps.db.updateTable('users').set({ failed_attempts: 0, locked_until: null }).where('id', '=', user.id).execute();
  return startSession(deps, user.id, user.email, meta);
}

export async function signOut(deps: ApiDeps, principal: Principal): Promise<void> {
  if (principal.sessionIdHash) await deps.db.deleteFrom('sessions').where('id_hash', '=', principal.sessionIdHash).execute();
}

/** Every session of the caller, on every device; their API tokens stay (revoke those one by one). */
export async function signOutEverywhere(deps: ApiDeps, principal: Principal): Promise<number> {
  if (!principal.userId) return 0;
  const result = await deps.db.deleteFrom('sessions').where('user_id', '=', principal.userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function me(deps: ApiDeps, principal: Principal, csrfToken: string | undefined): Promise<Me> {
  const teams = principal.userId
    ? await deps.db
        .selectFrom('memberships as m')
        .innerJoin('teams as t', 't.id', 'm.team_id')
        .select(['t.id', 't.name', 'm.role'])
        .where('m.user_id', '=', principal.userId)
        .orderBy('t.name')
        .execute()
    : [];
  const user = principal.userId ? await deps.db.selectFrom('users').select(['name', 'email']).where('id', '=', principal.userId).executeTakeFirst() : undefined;
  const role = principal.role ?? 'viewer';
  return {
    id: principal.actorId,
    name: user?.name ?? principal.name,
    email: user?.email ?? principal.name,
    role,
    teamId: principal.teamId,
    teams: teams.length > 0 ? teams : [{ id: principal.teamId, name: principal.teamId, role }],
    auth: principal.auth === 'agent' ? 'token' : principal.auth,
    scopes: [...principal.scopes],
    ...(csrfToken ? { csrfToken } : {}),
  };
}

export async function csrfTokenOf(deps: ApiDeps, principal: Principal): Promise<string | undefined> {
  if (!principal.sessionIdHash) return undefined;
  const row = await deps.db.selectFrom('sessions').select('csrf_secret').where('id_hash', '=', principal.sessionIdHash).executeTakeFirst();
  return row?.csrf_secret;
}

/** A session moves to another team of its user; a team the user is not in answers as an unknown one. */
export async function switchTeam(deps: ApiDeps, principal: Principal, teamId: string): Promise<Principal> {
  if (!principal.sessionIdHash || !principal.userId) throw new ForbiddenError('an API token acts in its own team; only a signed-in session switches teams');
  const role = await roleIn(deps, principal.userId, teamId);
  if (!role) throw new NotFoundError('team', teamId);
  await deps.db.updateTable('sessions').set({ team_id: teamId }).where('id_hash', '=', principal.sessionIdHash).execute();
  return { ...principal, teamId, role };
}

type TokenRow = {
  id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  team_id: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  owner: string | null;
};

function tokenView(t: TokenRow): TokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    scopes: t.scopes,
    teamId: t.team_id,
    owner: t.owner ?? '?',
    createdAt: t.created_at.toISOString(),
    expiresAt: t.expires_at?.toISOString() ?? null,
    lastUsedAt: t.last_used_at?.toISOString() ?? null,
    revokedAt: t.revoked_at?.toISOString() ?? null,
  };
}

function tokenRows(deps: ApiDeps) {
  return deps.db
    .selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('service_accounts as s', 's.id', 't.service_account_id')
    .select(['t.id', 't.name', 't.prefix', 't.scopes', 't.team_id', 't.created_at', 't.expires_at', 't.last_used_at', 't.revoked_at', sql<string | null>`coalesce(u.email, 'service:' || s.name)`.as('owner')]);
}

async function issueToken(deps: ApiDeps, owner: { userId: string | null; serviceAccountId: string | null }, teamId: string, createdBy: string, body: { name: string; scopes: TokenScope[]; expiresInDays?: number | undefined }): Promise<CreatedToken> {
  const token = secret('ddp_');
  const id = newId();
  await deps.db
    .insertInto('api_tokens')
    .values({
      id,
      team_id: teamId,
      user_id: owner.userId,
      service_account_id: owner.serviceAccountId,
      name: body.name,
      scopes: [...new Set(body.scopes)],
      token_hash: hashToken(token),
      prefix: token.slice(0, 10),
      created_by: createdBy,
      expires_at: body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null,
    })
    .execute();
  const row = await tokenRows(deps).where('t.id', '=', id).executeTakeFirstOrThrow();
  return { ...tokenView(row), token };
}

/** A personal token: it acts as its owner, with their role in the current team, limited to its scopes. */
export async function createPersonalToken(deps: ApiDeps, principal: Principal, body: { name: string; scopes: TokenScope[]; expiresInDays?: number | undefined }): Promise<CreatedToken> {
  if (!principal.userId) throw new ForbiddenError('a service account cannot create tokens; an admin creates them (POST /api/v1/service-accounts/{id}/tokens)');
  return issueToken(deps, { userId: principal.userId, serviceAccountId: null }, principal.teamId, principal.actorId, body);
}

export async function listPersonalTokens(deps: ApiDeps, principal: Principal): Promise<TokenView[]> {
  if (!principal.userId) return [];
  const rows = await tokenRows(deps).where('t.user_id', '=', principal.userId).where('t.team_id', '=', principal.teamId).orderBy('t.created_at', 'desc').execute();
  return rows.map(tokenView);
}

/** Its owner revokes a token, and so does an admin of its team; for anyone else it does not exist. */
export async function revokeToken(deps: ApiDeps, principal: Principal, id: string): Promise<TokenView> {
  if (!isId(id)) throw new NotFoundError('token', id);
  const row = await deps.db.selectFrom('api_tokens').select(['id', 'team_id', 'user_id', 'revoked_at']).where('id', '=', id).where('team_id', '=', principal.teamId).executeTakeFirst();
  const mine = row?.user_id !== null && row?.user_id === principal.userId;
  if (!row || (!mine && principal.role !== 'admin')) throw new NotFoundError('token', id);
  if (!row.revoked_at) await deps.db.updateTable('api_tokens').set({ revoked_at: sql<Date>`now()` }).where('id', '=', id).execute();
  return tokenView(await tokenRows(deps).where('t.id', '=', id).executeTakeFirstOrThrow());
}

export async function createServiceAccount(deps: ApiDeps, principal: Principal, body: { name: string; role: TeamRole }) {
  const taken = await deps.db.selectFrom('service_accounts').select('id').where('team_id', '=', principal.teamId).where('name', '=', body.name).executeTakeFirst();
  if (taken) throw new ConflictError(`team ${principal.teamId} has a service account named ${body.name}; choose another name`);
  const id = newId();
  await deps.db.insertInto('service_accounts').values({ id, team_id: principal.teamId, name: body.name, role: body.role, created_by: principal.actorId }).execute();
  return (await listServiceAccounts(deps, principal)).find((a) => a.id === id)!;
}

export async function listServiceAccounts(deps: ApiDeps, principal: Principal) {
  const accounts = await deps.db.selectFrom('service_accounts').selectAll().where('team_id', '=', principal.teamId).where('disabled', '=', false).orderBy('name').execute();
  const tokens = accounts.length === 0 ? [] : await tokenRows(deps).where('t.service_account_id', 'in', accounts.map((a) => a.id)).orderBy('t.created_at', 'desc').select('t.service_account_id').execute();
  return accounts.map((a) => ({
    id: a.id,
    name: a.name,
    role: a.role,
    createdAt: a.created_at.toISOString(),
    tokens: tokens.filter((t) => t.service_account_id === a.id).map(tokenView),
  }));
}

export async function createServiceAccountToken(deps: ApiDeps, principal: Principal, accountId: string, body: { name: string; scopes: TokenScope[]; expiresInDays?: number | undefined }): Promise<CreatedToken> {
  if (!isId(accountId)) throw new NotFoundError('service account', accountId);
  const account = await deps.db.selectFrom('service_accounts').select('id').where('id', '=', accountId).where('team_id', '=', principal.teamId).where('disabled', '=', false).executeTakeFirst();
  if (!account) throw new NotFoundError('service account', accountId);
  return issueToken(deps, { userId: null, serviceAccountId: accountId }, principal.teamId, principal.actorId, body);
}

function memberRows(deps: ApiDeps, teamId: string) {
  return deps.db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email', 'u.name', 'm.role', 'u.disabled', 'u.password_hash', 'u.locked_until'])
    .where('m.team_id', '=', teamId);
}

function memberView(r: { id: string; email: string; name: string; role: TeamRole; disabled: boolean; password_hash: string | null; locked_until: Date | null }): MemberView {
  const locked = r.locked_until && r.locked_until > new Date() ? r.locked_until.toISOString() : null;
  return { userId: r.id, email: r.email, name: r.name, role: r.role, disabled: r.disabled, hasPassword: r.password_hash !== null, lockedUntil: locked };
}

export async function listMembers(deps: ApiDeps, teamId: string): Promise<MemberView[]> {
  return (await memberRows(deps, teamId).orderBy('u.email').execute()).map(memberView);
}

async function member(deps: ApiDeps, teamId: string, userId: string): Promise<MemberView> {
  if (!isId(userId)) throw new NotFoundError('member', userId);
  const row = await memberRows(deps, teamId).where('u.id', '=', userId).executeTakeFirst();
  if (!row) throw new NotFoundError('member', userId);
  return memberView(row);
}

async function issueLink(deps: ApiDeps, kind: 'setup' | 'reset', userId: string | null, createdBy: string | null, page: string) {
  const token = secret();
  const expiresAt = new Date(Date.now() + LINK_HOURS * 3_600_000);
  if (userId) await deps.db.deleteFrom('one_time_links').where('user_id', '=', userId).where('used_at', 'is', null).execute();
  await deps.db.insertInto('one_time_links').values({ id: newId(), kind, token_hash: hashToken(token), user_id: userId, created_by: createdBy, expires_at: expiresAt }).execute();
  return { token, url: `${deps.config.publicUrl}/${page}?token=${token}`, expiresAt: expiresAt.toISOString() };
}

/** Adds a user to the caller's team; a new user gets a link that sets their password. */
export async function addMember(deps: ApiDeps, principal: Principal, body: { email: string; name?: string | undefined; role: TeamRole }) {
  let user = await deps.db.selectFrom('users').select(['id', 'password_hash']).where('email', '=', body.email).executeTakeFirst();
  if (user && (await roleIn(deps, user.id, principal.teamId))) throw new ConflictError(`${body.email} is a member of team ${principal.teamId} already; change their role instead`);
  if (!user) {
    const id = newId();
    await deps.db.insertInto('users').values({ id, team_id: principal.teamId, email: body.email, name: body.name ?? body.email, role: body.role }).execute();
    user = { id, password_hash: null };
  }
  await deps.db.insertInto('memberships').values({ user_id: user.id, team_id: principal.teamId, role: body.role }).execute();
  const link = user.password_hash === null ? await issueLink(deps, 'reset', user.id, principal.actorId, 'reset-password') : null;
  return { member: await member(deps, principal.teamId, user.id), link: link && { url: link.url, expiresAt: link.expiresAt } };
}

async function assertNotLastAdmin(deps: ApiDeps, teamId: string, userId: string): Promise<void> {
  const admins = await memberRows(deps, teamId).where('m.role', '=', 'admin').where('u.disabled', '=', false).select('u.id as admin_id').execute();
  if (admins.length === 1 && admins[0]!.id === userId) throw new ConflictError(`this is the last admin of team ${teamId}; make another member admin first`);
}

export async function changeMember(deps: ApiDeps, principal: Principal, userId: string, body: { role?: TeamRole | undefined; disabled?: boolean | undefined }): Promise<MemberView> {
  const current = await member(deps, principal.teamId, userId);
  if ((body.role !== undefined && body.role !== 'admin' && current.role === 'admin') || (body.disabled === true && current.role === 'admin')) {
    await assertNotLastAdmin(deps, principal.teamId, userId);
  }
  if (body.role !== undefined) await deps.db.updateTable('memberships').set({ role: body.role }).where('user_id', '=', userId).where('team_id', '=', principal.teamId).execute();
  if (body.disabled !== undefined) {
    await deps.db.updateTable('users').set({ disabled: body.disabled }).where('id', '=', userId).execute();
    // A disabled user is out at once: their sessions end; their tokens stop at the next call (the gate checks).
    if (body.disabled) await deps.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }
  return member(deps, principal.teamId, userId);
}

export async function issueResetLink(deps: ApiDeps, principal: Principal, userId: string) {
  await member(deps, principal.teamId, userId);
  const link = await issueLink(deps, 'reset', userId, principal.actorId, 'reset-password');
  return { url: link.url, expiresAt: link.expiresAt };
}

async function takeLink(deps: ApiDeps, kind: 'setup' | 'reset', token: string) {
  const link = await deps.db
    .updateTable('one_time_links')
    .set({ used_at: sql<Date>`now()` })
    .where('token_hash', '=', hashToken(token))
    .where('kind', '=', kind)
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returning(['id', 'user_id'])
    .executeTakeFirst();
  if (!link) throw new UnauthorizedError(`this ${kind} link is unknown, used or expired; ${kind === 'setup' ? 'restart the API for a new one' : 'ask an admin for a new one'}`);
  return link;
}

/** A reset (or invitation) link sets the password once; every session of the user ends and the lockout is lifted. */
export async function resetPassword(deps: ApiDeps, token: string, password: string, meta: RequestMeta): Promise<NewSession> {
  const passwordHash = await hashPassword(password);
  const link = await takeLink(deps, 'reset', token);
  const user = await deps.db
    .updateTable('users')
    .set({ password_hash: passwordHash, failed_attempts: 0, locked_until: null })
    .where('id', '=', link.user_id!)
    .returning(['id', 'email', 'disabled'])
    .executeTakeFirstOrThrow();
  await deps.db.deleteFrom('sessions').where('user_id', '=', user.id).execute();
  if (user.disabled) throw new ForbiddenError('the password is set, but this user is disabled; an admin of the team can enable them');
  return startSession(deps, user.id, user.email, meta);
}

/** Setup is open while no admin has a password: the first start of an accounts-mode Drydock. */
export async function setupOpen(deps: ApiDeps): Promise<boolean> {
  const admin = await deps.db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select('u.id')
    .where('m.role', '=', 'admin')
    .where('u.password_hash', 'is not', null)
    .executeTakeFirst();
  return !admin;
}

/** A fresh one-time setup link, replacing any earlier one; undefined once an admin exists. */
export async function issueSetupLink(deps: ApiDeps): Promise<string | undefined> {
  if (!(await setupOpen(deps))) return undefined;
  await deps.db.deleteFrom('one_time_links').where('kind', '=', 'setup').execute();
  return (await issueLink(deps, 'setup', null, null, 'setup')).url;
}

export async function completeSetup(deps: ApiDeps, body: { token: string; email: string; name: string; password: string }, meta: RequestMeta): Promise<NewSession> {
  if (!(await setupOpen(deps))) throw new ConflictError('setup is done: an admin exists; sign in, or ask an admin for a reset link');
  const passwordHash = await hashPassword(body.password);
  await takeLink(deps, 'setup', body.token);
  const team = deps.config.DRYDOCK_TEAM;
  await deps.db.insertInto('teams').values({ id: team, name: team }).onConflict((oc) => oc.column('id').doNothing()).execute();
  await ensureDefaultEnvironments(deps.db, team);
  const user = await deps.db
    .insertInto('users')
    .values({ id: newId(), team_id: team, email: body.email, name: body.name, role: 'admin', password_hash: passwordHash })
    .onConflict((oc) => oc.column('email').doUpdateSet({ name: body.name, password_hash: passwordHash, disabled: false, failed_attempts: 0, locked_until: null }))
    .returning(['id', 'email'])
    .executeTakeFirstOrThrow();
  await deps.db
    .insertInto('memberships')
    .values({ user_id: user.id, team_id: team, role: 'admin' })
    .onConflict((oc) => oc.columns(['user_id', 'team_id']).doUpdateSet({ role: 'admin' }))
    .execute();
  await deps.db.deleteFrom('one_time_links').where('kind', '=', 'setup').execute();
  await rm(join(deps.config.DRYDOCK_DATA_DIR, SETUP_LINK_FILE), { force: true });
  return startSession(deps, user.id, user.email, meta);
}

/**
 * The first start of an accounts-mode Drydock has no admin and no open door: the API prints a one-time link
 * for the person at the console, and leaves it in `<data dir>/setup-link` (mode 600) for a service manager's
 * console that is not watched. Each start while setup is open replaces the link; the setup deletes the file.
 */
export async function announceSetupLink(deps: ApiDeps): Promise<void> {
  const team = deps.config.DRYDOCK_TEAM;
  await deps.db.insertInto('teams').values({ id: team, name: team }).onConflict((oc) => oc.column('id').doNothing()).execute();
  await ensureDefaultEnvironments(deps.db, team);
  const url = await issueSetupLink(deps);
  const file = join(deps.config.DRYDOCK_DATA_DIR, SETUP_LINK_FILE);
  if (!url) {
    await rm(file, { force: true });
    return;
  }
  await mkdir(deps.config.DRYDOCK_DATA_DIR, { recursive: true });
  await writeFile(file, `${url}\n`, { mode: 0o600 });
  console.log(`drydock: no admin yet. Open this one-time link to set the first admin's password (valid ${LINK_HOURS} hours; also in ${file}):\n  ${url}`);
}

export const SETUP_LINK_FILE = 'setup-link';
