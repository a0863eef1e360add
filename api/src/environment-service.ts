import { sql } from 'kysely';
import {
  ConflictError,
  type Environment,
  type EnvironmentPatch,
  type EnvironmentView,
  ForbiddenError,
  type NewEnvironmentBody,
  NotFoundError,
  type User,
  ValidationError,
} from '@drydock/core';
import type { ApiDeps } from './context.ts';

// Environments: each team's own list, and which of them hold runs back until someone approves.

const ROLE_RANK: Record<string, number> = { viewer: 0, operator: 1, maintainer: 2, admin: 3 };

/** The caller's role in the team is at least `role`; otherwise a 403 that says what it takes. */
export function requireRole(user: User | undefined, role: 'operator' | 'maintainer', doing: string): User {
  if (!user) throw new ForbiddenError(`sign in to ${doing}`);
  if ((ROLE_RANK[user.role] ?? -1) < ROLE_RANK[role]!) throw new ForbiddenError(`${doing} takes the ${role} role in team ${user.team_id}; you are ${user.role}`);
  return user;
}

function toView(row: Environment, hosts: number): EnvironmentView {
  return {
    name: row.name,
    colour: row.colour,
    description: row.description,
    requiresApproval: row.requires_approval,
    approvalExpirySeconds: row.approval_expiry_seconds,
    hosts,
  };
}

async function hostCounts(deps: ApiDeps, teamId: string): Promise<Map<string, number>> {
  const rows = await deps.db
    .selectFrom('hosts')
    .select(['environment', sql<string>`count(*)`.as('n')])
    .where('team_id', '=', teamId)
    .where('environment', 'is not', null)
    .groupBy('environment')
    .execute();
  return new Map(rows.map((r) => [r.environment!, Number(r.n)]));
}

export async function listEnvironments(deps: ApiDeps, teamId: string): Promise<EnvironmentView[]> {
  const [rows, counts] = await Promise.all([deps.db.selectFrom('environments').selectAll().where('team_id', '=', teamId).orderBy('name').execute(), hostCounts(deps, teamId)]);
  return rows.map((r) => toView(r, counts.get(r.name) ?? 0));
}

export async function getEnvironment(deps: ApiDeps, teamId: string, name: string): Promise<EnvironmentView> {
  const row = await deps.db.selectFrom('environments').selectAll().where('team_id', '=', teamId).where('name', '=', name).executeTakeFirst();
  if (!row) throw new NotFoundError('environment', name);
  return toView(row, (await hostCounts(deps, teamId)).get(name) ?? 0);
}

/** A host may only be put in an environment its team has: a 400 that lists the ones it has. */
export async function requireEnvironment(deps: ApiDeps, teamId: string, name: string): Promise<Environment> {
  const row = await deps.db.selectFrom('environments').selectAll().where('team_id', '=', teamId).where('name', '=', name).executeTakeFirst();
  if (row) return row;
  const known = await deps.db.selectFrom('environments').select('name').where('team_id', '=', teamId).orderBy('name').execute();
  const choices = known.length > 0 ? `one of ${known.map((k) => k.name).join(', ')}` : 'none yet';
  throw new ValidationError(`unknown environment ${name}`, { environment: [`${name} is not an environment of this team (${choices}); create it first with POST /api/v1/environments`] });
}

export async function createEnvironment(deps: ApiDeps, user: User | undefined, body: NewEnvironmentBody): Promise<EnvironmentView> {
  const caller = requireRole(user, 'maintainer', 'managing environments');
  const inserted = await deps.db
    .insertInto('environments')
    .values({
      team_id: caller.team_id,
      name: body.name,
      colour: body.colour,
      description: body.description,
      requires_approval: body.requiresApproval,
      approval_expiry_seconds: body.approvalExpirySeconds,
    })
    .onConflict((oc) => oc.columns(['team_id', 'name']).doNothing())
    .returning('name')
    .executeTakeFirst();
  if (!inserted) throw new ValidationError(`environment ${body.name} already exists`, { name: [`the team already has an environment named ${body.name}; choose another name or change that one`] });
  return getEnvironment(deps, caller.team_id, body.name);
}

export async function changeEnvironment(deps: ApiDeps, user: User | undefined, name: string, body: EnvironmentPatch): Promise<EnvironmentView> {
  const caller = requireRole(user, 'maintainer', 'managing environments');
  await getEnvironment(deps, caller.team_id, name);
  const changes = {
    ...(body.colour !== undefined ? { colour: body.colour } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.requiresApproval !== undefined ? { requires_approval: body.requiresApproval } : {}),
    ...(body.approvalExpirySeconds !== undefined ? { approval_expiry_seconds: body.approvalExpirySeconds } : {}),
  };
  if (Object.keys(changes).length > 0) {
    await deps.db.updateTable('environments').set({ ...changes, updated_at: new Date() }).where('team_id', '=', caller.team_id).where('name', '=', name).execute();
  }
  return getEnvironment(deps, caller.team_id, name);
}

export async function removeEnvironment(deps: ApiDeps, user: User | undefined, name: string): Promise<void> {
  const caller = requireRole(user, 'maintainer', 'managing environments');
  const env = await getEnvironment(deps, caller.team_id, name);
  if (env.hosts > 0) throw new ConflictError(`environment ${name} still has ${env.hosts} host${env.hosts === 1 ? '' : 's'}; move them to another environment first`);
  await deps.db.deleteFrom('environments').where('team_id', '=', caller.team_id).where('name', '=', name).execute();
}
