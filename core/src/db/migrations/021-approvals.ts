import { type Kysely, sql } from 'kysely';

/**
 * A run or bulk execution aimed at a protected environment waits for another person's decision. The request
 * and the decision are kept on the row itself: who decided, when, why, or that nobody did in time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['runs', 'bulk_executions']) {
    await db.schema
      .alterTable(table)
      .addColumn('approval_environment', 'text')
      .addColumn('approval_expires_at', 'timestamptz')
      .addColumn('approval_decision', 'text')
      .addColumn('approval_by_id', 'text')
      .addColumn('approval_by_name', 'text')
      .addColumn('approval_comment', 'text')
      .addColumn('approval_decided_at', 'timestamptz')
      .execute();
  }
  await sql`alter table bulk_executions drop constraint bulk_executions_status_check`.execute(db);
  await sql`alter table bulk_executions add constraint bulk_executions_status_check
    check (status in ('waiting_for_approval', 'running', 'paused', 'stopping', 'succeeded', 'failed', 'cancelled', 'rejected', 'expired'))`.execute(db);
  // The "waiting for approval" list reads only the few rows that wait.
  await sql`create index runs_waiting_for_approval on runs (team_id, created_at) where status = 'waiting_for_approval'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('runs_waiting_for_approval').ifExists().execute();
  await sql`alter table bulk_executions drop constraint bulk_executions_status_check`.execute(db);
  await sql`alter table bulk_executions add constraint bulk_executions_status_check
    check (status in ('running', 'paused', 'stopping', 'succeeded', 'failed', 'cancelled'))`.execute(db);
  for (const table of ['runs', 'bulk_executions']) {
    let alter = db.schema.alterTable(table).dropColumn('approval_environment');
    for (const col of ['approval_expires_at', 'approval_decision', 'approval_by_id', 'approval_by_name', 'approval_comment', 'approval_decided_at']) alter = alter.dropColumn(col);
    await alter.execute();
  }
}
