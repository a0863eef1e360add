import { type Kysely, sql } from 'kysely';

/**
 * Teams get a description (admins create and rename them through the API now), and each team its own agent
 * registration tokens: stored as their SHA-256, with an expiry and a revocation, so that an agent registering
 * with one lands in that team. The global registration secret keeps registering into the default team.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('teams').addColumn('description', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema
    .createTable('agent_registration_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('agent_registration_tokens_team').on('agent_registration_tokens').column('team_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agent_registration_tokens').ifExists().execute();
  await db.schema.alterTable('teams').dropColumn('description').execute();
}
