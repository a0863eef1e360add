import { DEFAULT_ENVIRONMENTS } from './api/environments.ts';
import { newId } from './ids.ts';
import type { Db } from './db/database.ts';
import type { User } from './db/schema.ts';

/** Local mode (DRYDOCK_AUTH_MODE=local): one team and one admin, created on first start and reused after. */
export async function ensureLocalAdmin(db: Db, teamId: string, email: string): Promise<User> {
  await db.insertInto('teams').values({ id: teamId, name: teamId }).onConflict((oc) => oc.column('id').doNothing()).execute();
  await ensureDefaultEnvironments(db, teamId);
  await db
    .insertInto('users')
    .values({ id: newId(), team_id: teamId, email, name: 'Local admin', role: 'admin' })
    .onConflict((oc) => oc.column('email').doNothing())
    .execute();
  const user = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
  await db.insertInto('memberships').values({ user_id: user.id, team_id: teamId, role: 'admin' }).onConflict((oc) => oc.doNothing()).execute();
  return user;
}

/** A team starts with dev, staging, uat and preprod, none protected; a name it already has is left as it is. */
export async function ensureDefaultEnvironments(db: Db, teamId: string): Promise<void> {
  await db
    .insertInto('environments')
    .values(DEFAULT_ENVIRONMENTS.map((e) => ({ team_id: teamId, name: e.name, colour: e.colour })))
    .onConflict((oc) => oc.columns(['team_id', 'name']).doNothing())
    .execute();
}
