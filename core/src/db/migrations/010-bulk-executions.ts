import { type Kysely, sql } from 'kysely';

/**
 * Bulk executions: one row per execution, and one run row per host (runs.bulk_id), written when the execution
 * is created, so the grid is a query over runs and every host's run has the ordinary run page and log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('bulk_executions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('script_id', 'text', (c) => c.notNull())
    .addColumn('script_name', 'text', (c) => c.notNull())
    .addColumn('script_version', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running', 'paused', 'stopping', 'succeeded', 'failed', 'cancelled')`))
    .addColumn('stop_reason', 'text')
    .addColumn('selector', 'jsonb', (c) => c.notNull())
    .addColumn('options', 'jsonb', (c) => c.notNull())
    .addColumn('params', 'jsonb', (c) => c.notNull())
    .addColumn('initiator_id', 'text', (c) => c.notNull())
    .addColumn('initiator_name', 'text', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('waves', 'jsonb', (c) => c.notNull())
    .addColumn('current_wave', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rerun_of', 'uuid', (c) => c.references('bulk_executions.id'))
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('workflow_run_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('bulk_executions_team_created').on('bulk_executions').columns(['team_id', 'created_at']).execute();
  await db.schema
    .alterTable('runs')
    .addColumn('bulk_id', 'uuid', (c) => c.references('bulk_executions.id'))
    .addColumn('bulk_position', 'integer')
    .addColumn('bulk_wave', 'integer')
    .execute();
  await db.schema.createIndex('runs_bulk').on('runs').columns(['bulk_id', 'bulk_position']).where(sql.ref('bulk_id'), 'is not', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('runs_bulk').ifExists().execute();
  await db.schema.alterTable('runs').dropColumn('bulk_wave').dropColumn('bulk_position').dropColumn('bulk_id').execute();
  await db.schema.dropTable('bulk_executions').ifExists().execute();
}
