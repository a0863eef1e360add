import { type Kysely, sql } from 'kysely';

/**
 * The values of a run's secret parameters, sealed with the master key for as long as the run lives: workflow
 * inputs carry only the rows' ids. A row belongs to one run, or to a bulk execution whose runs all share it;
 * a vault: reference is kept as the reference and resolved by whoever executes the run.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('run_secrets')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'uuid', (c) => c.references('runs.id').onDelete('cascade'))
    .addColumn('bulk_id', 'uuid', (c) => c.references('bulk_executions.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value_enc', 'text')
    .addColumn('vault_ref', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('run_secrets_owner', sql`(run_id is null) <> (bulk_id is null)`)
    .addCheckConstraint('run_secrets_value', sql`(value_enc is null) <> (vault_ref is null)`)
    .execute();
  await db.schema.createIndex('run_secrets_run').on('run_secrets').column('run_id').execute();
  await db.schema.createIndex('run_secrets_bulk').on('run_secrets').column('bulk_id').execute();
  // The sweep of runs that never ended deletes by expiry.
  await db.schema.createIndex('run_secrets_expires').on('run_secrets').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('run_secrets').ifExists().execute();
}
