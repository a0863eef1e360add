import { newId } from './ids.ts';
import type { Db } from './db/database.ts';
import type { User } from './db/schema.ts';

/** Local mode: one team and one admin, created on first start and reused after. */
export async function ensureLocalAdmin(db: Db, teamId: string, email: string): Promise<User> {
  await db.insertInto('teams').values({ id: teamId, name: teamId }).onConflict((oc) => oc.column('id').doNothing()).execute();
  await db
    .insertInto('users')
    .values({ id: newId(), team_id: teamId, email, name: 'Local admin', role: 'admin' })
    .onConflict((oc) => oc.column('email').doNothing())
    .execute();
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
}
