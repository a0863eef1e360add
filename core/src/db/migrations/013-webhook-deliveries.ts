import { type Kysely, sql } from 'kysely';

/**
 * The delivery ids of push webhooks already taken, per repository: a replayed delivery (the provider's
 * redelivery, or someone resending a captured request) is acknowledged and ignored. Kept a week.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('repository_id', 'text', (c) => c.notNull().references('script_repositories.id').onDelete('cascade'))
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('webhook_deliveries_pkey', ['repository_id', 'delivery_id'])
    .execute();
  // Pruning deletes by age within a repository.
  await db.schema.createIndex('webhook_deliveries_received').on('webhook_deliveries').columns(['repository_id', 'received_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').ifExists().execute();
}
