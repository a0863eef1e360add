import { type Kysely, sql } from 'kysely';

/**
 * A schedule fires a run on one host (`target` run) or a bulk execution over a host selector with its options
 * (`target` bulk, no host). A firing records the bulk execution it started and its workflow's run id; the
 * execution records its schedule.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('schedules')
    .addColumn('target', 'text', (c) => c.notNull().defaultTo('run').check(sql`target in ('run', 'bulk')`))
    .addColumn('selector', 'jsonb')
    .addColumn('bulk_options', 'jsonb')
    .execute();
  await db.schema.alterTable('schedules').alterColumn('host_id', (c) => c.dropNotNull()).execute();
  await db.schema.alterTable('schedule_firings').addColumn('bulk_id', 'uuid').addColumn('workflow_run_id', 'text').execute();
  // Firings triggered or buffered within one second share a workflow id (the Schedule appends the second): the run id tells them apart.
  await db.schema.alterTable('schedule_firings').dropConstraint('schedule_firings_workflow_id_key').execute();
  await db.schema.alterTable('schedule_firings').addUniqueConstraint('schedule_firings_execution', ['workflow_id', 'workflow_run_id']).execute();
  await db.schema.alterTable('bulk_executions').addColumn('schedule_id', 'uuid').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('bulk_executions').dropColumn('schedule_id').execute();
  await db.schema.alterTable('schedule_firings').dropConstraint('schedule_firings_execution').execute();
  await db.schema.alterTable('schedule_firings').dropColumn('workflow_run_id').dropColumn('bulk_id').execute();
  await db.schema.alterTable('schedule_firings').addUniqueConstraint('schedule_firings_workflow_id_key', ['workflow_id']).execute();
  await db.deleteFrom('schedules' as never).where(sql`target`, '=', 'bulk').execute();
  await db.schema.alterTable('schedules').alterColumn('host_id', (c) => c.setNotNull()).execute();
  await db.schema.alterTable('schedules').dropColumn('bulk_options').dropColumn('selector').dropColumn('target').execute();
}
