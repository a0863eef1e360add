import { type Kysely, sql } from 'kysely';

/**
 * A mirror of each host's lock (holder and queue) for the locks and hosts pages, written by hostLockWorkflow on
 * every change. Temporal stays the source of truth: nothing decides from this table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('host_locks')
    .addColumn('host_id', 'text', (c) => c.primaryKey().references('hosts.id').onDelete('cascade'))
    .addColumn('lock_type', 'text', (c) => c.check(sql`lock_type in ('execution', 'maintenance', 'emergency')`))
    .addColumn('holder', 'jsonb')
    .addColumn('queue', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('acquired_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  // The hosts page asks which hosts are under maintenance on every load.
  await db.schema.createIndex('host_locks_type').on('host_locks').columns(['lock_type', 'expires_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('host_locks').ifExists().execute();
}
