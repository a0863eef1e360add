import { type Kysely, sql } from 'kysely';

/**
 * Per-host concurrency for hosts without an agent (SSH, WinRM, Docker engines): a host runs at most
 * max_concurrent_jobs jobs at once (DRYDOCK_AGENTLESS_MAX_CONCURRENT_JOBS when null), whoever started them. A job
 * holds one numbered slot, leased and renewed while it runs, so a crashed worker's slot frees itself.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').addColumn('max_concurrent_jobs', 'integer').execute();
  await db.schema
    .createTable('host_slots')
    .addColumn('host_id', 'text', (c) => c.notNull().references('hosts.id').onDelete('cascade'))
    .addColumn('slot', 'integer', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('host_slots_pk', ['host_id', 'slot'])
    .execute();
  await sql`alter table hosts add constraint hosts_max_concurrent_jobs check (max_concurrent_jobs between 1 and 1000)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('host_slots').ifExists().execute();
  await db.schema.alterTable('hosts').dropColumn('max_concurrent_jobs').execute();
}
