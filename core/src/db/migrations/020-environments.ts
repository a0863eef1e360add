import { type Kysely, sql } from 'kysely';

/**
 * Environments become rows of their team: a name, a colour, a description and whether runs there wait for
 * approval. Every existing team gets the four names the code used to fix, and every name its hosts already
 * carry; hosts then reference their team's environment, so a host can only be in one that exists.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('environments')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('colour', 'text', (c) => c.notNull().defaultTo('#64748b'))
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('requires_approval', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('approval_expiry_seconds', 'integer', (c) => c.notNull().defaultTo(86_400))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('environments_pkey', ['team_id', 'name'])
    .execute();
  await sql`
    insert into environments (team_id, name, colour)
    select t.id, d.name, d.colour from teams t
    cross join (values ('dev', '#16a34a'), ('staging', '#d97706'), ('uat', '#2563eb'), ('preprod', '#9333ea')) as d(name, colour)
    on conflict do nothing`.execute(db);
  await sql`
    insert into environments (team_id, name)
    select distinct team_id, environment from hosts where environment is not null
    on conflict do nothing`.execute(db);
  await sql`
    alter table hosts add constraint hosts_environment_fkey
    foreign key (team_id, environment) references environments (team_id, name) on update cascade`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table hosts drop constraint if exists hosts_environment_fkey`.execute(db);
  await db.schema.dropTable('environments').ifExists().execute();
}
