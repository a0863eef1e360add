import { randomBytes } from 'node:crypto';
import {
  ConflictError,
  type CreatedRegistrationToken,
  ensureDefaultEnvironments,
  ForbiddenError,
  isId,
  newId,
  NotFoundError,
  type NewRegistrationTokenBody,
  type NewTeamBody,
  type Principal,
  type RegistrationTokenView,
  type TeamPatch,
  type TeamView,
} from '@drydock/core';
import { hashToken } from './auth.ts';
import type { ApiDeps } from './context.ts';

// Teams people create and rename, and the tokens a team's admins issue so that agents register into that team.

/** Agent registration tokens start with this, so a leaked one is recognisable (and told apart from API tokens). */
export const REGISTRATION_TOKEN_PREFIX = 'ddr_';

function teamRows(deps: ApiDeps, userId: string) {
  return deps.db
    .selectFrom('memberships as m')
    .innerJoin('teams as t', 't.id', 'm.team_id')
    .select(['t.id', 't.name', 't.description', 't.created_at', 'm.role'])
    .where('m.user_id', '=', userId);
}

function teamView(principal: Principal, r: { id: string; name: string; description: string; created_at: Date; role: TeamView['role'] }): TeamView {
  return { id: r.id, name: r.name, description: r.description, role: r.role, current: r.id === principal.teamId, createdAt: r.created_at.toISOString() };
}

/** The caller's teams; a service account (or the local admin without memberships) sees the one it acts in. */
export async function listTeams(deps: ApiDeps, principal: Principal): Promise<TeamView[]> {
  if (principal.userId) {
    const rows = await teamRows(deps, principal.userId).orderBy('t.name').execute();
    if (rows.length > 0) return rows.map((r) => teamView(principal, r));
  }
  const team = await deps.db.selectFrom('teams').select(['id', 'name', 'description', 'created_at']).where('id', '=', principal.teamId).executeTakeFirst();
  return team ? [teamView(principal, { ...team, role: principal.role ?? 'viewer' })] : [];
}

/**
 * Any admin of a team may create another; they become its admin. A person, not a service account: a team
 * whose only admin is an account nobody signs in as could never be managed from the UI.
 */
export async function createTeam(deps: ApiDeps, principal: Principal, body: NewTeamBody): Promise<TeamView> {
  if (!principal.userId) throw new ForbiddenError('a service account cannot create teams; a person who is an admin creates them');
  const created = await deps.db.transaction().execute(async (tx) => {
    const team = await tx
      .insertInto('teams')
      .values({ id: body.id, name: body.name, description: body.description ?? '' })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning(['id', 'name', 'description', 'created_at'])
      .executeTakeFirst();
    if (!team) return undefined;
    await tx.insertInto('memberships').values({ user_id: principal.userId!, team_id: team.id, role: 'admin' }).execute();
    return team;
  });
  if (!created) throw new ConflictError(`a team with the id ${body.id} exists; choose another id`);
  await ensureDefaultEnvironments(deps.db, created.id);
  return teamView(principal, { ...created, role: 'admin' });
}

/** An admin of the team renames or describes it; for someone outside the team it does not exist. */
export async function changeTeam(deps: ApiDeps, principal: Principal, teamId: string, patch: TeamPatch): Promise<TeamView> {
  const role = principal.userId
    ? (await deps.db.selectFrom('memberships').select('role').where('user_id', '=', principal.userId).where('team_id', '=', teamId).executeTakeFirst())?.role
    : teamId === principal.teamId
      ? principal.role
      : undefined;
  if (!role) throw new NotFoundError('team', teamId);
  if (role !== 'admin') throw new ForbiddenError(`only admins of team ${teamId} rename or describe it`);
  const team = await deps.db
    .updateTable('teams')
    .set({ ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.description !== undefined ? { description: patch.description } : {}) })
    .where('id', '=', teamId)
    .returning(['id', 'name', 'description', 'created_at'])
    .executeTakeFirst();
  if (!team) throw new NotFoundError('team', teamId);
  return teamView(principal, { ...team, role });
}

type RegistrationTokenRow = {
  id: string;
  name: string;
  prefix: string;
  team_id: string;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  uses: number;
};

function registrationTokenView(r: RegistrationTokenRow): RegistrationTokenView {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    teamId: r.team_id,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    revokedAt: r.revoked_at?.toISOString() ?? null,
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
    uses: r.uses,
  };
}

const REGISTRATION_COLUMNS = ['id', 'name', 'prefix', 'team_id', 'created_by', 'created_at', 'expires_at', 'revoked_at', 'last_used_at', 'uses'] as const;

/** A team admin's token that registers agents into the current team until it expires or is revoked; shown once. */
export async function issueRegistrationToken(deps: ApiDeps, principal: Principal, body: NewRegistrationTokenBody): Promise<CreatedRegistrationToken> {
  const token = `${REGISTRATION_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await deps.db
    .insertInto('agent_registration_tokens')
    .values({
      id: newId(),
      team_id: principal.teamId,
      name: body.name,
      token_hash: hashToken(token),
      prefix: token.slice(0, 10),
      created_by: principal.name,
      expires_at: new Date(Date.now() + body.expiresInDays * 86_400_000),
    })
    .returning(REGISTRATION_COLUMNS)
    .executeTakeFirstOrThrow();
  return { ...registrationTokenView(row), token };
}

export async function listRegistrationTokens(deps: ApiDeps, principal: Principal): Promise<RegistrationTokenView[]> {
  const rows = await deps.db.selectFrom('agent_registration_tokens').select(REGISTRATION_COLUMNS).where('team_id', '=', principal.teamId).orderBy('created_at', 'desc').execute();
  return rows.map(registrationTokenView);
}

/** Agents already registered keep their own tokens: revoking stops new registrations only. */
export async function revokeRegistrationToken(deps: ApiDeps, principal: Principal, id: string): Promise<RegistrationTokenView> {
  if (!isId(id)) throw new NotFoundError('registration token', id);
  const row = await deps.db
    .updateTable('agent_registration_tokens')
    .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(new Date())) }))
    .where('id', '=', id)
    .where('team_id', '=', principal.teamId)
    .returning(REGISTRATION_COLUMNS)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('registration token', id);
  return registrationTokenView(row);
}

/** The team a registration token registers into; undefined for a token this API never issued. */
export async function teamOfRegistrationToken(deps: ApiDeps, token: string): Promise<{ teamId: string; tokenId: string } | { refused: string } | undefined> {
  if (!token.startsWith(REGISTRATION_TOKEN_PREFIX)) return undefined;
  const row = await deps.db.selectFrom('agent_registration_tokens').select(['id', 'team_id', 'expires_at', 'revoked_at']).where('token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row) return undefined;
  if (row.revoked_at) return { refused: `this registration token was revoked at ${row.revoked_at.toISOString()}; ask an admin of the team for a new one` };
  if (row.expires_at <= new Date()) return { refused: `this registration token expired at ${row.expires_at.toISOString()}; ask an admin of the team for a new one` };
  return { teamId: row.team_id, tokenId: row.id };
}
