import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The latest figures the host's agent sent with its heartbeat; null until an agent that sends them beats.
  await db.schema
    .alterTable('hosts')
    .addColumn('load1', 'double precision')
    .addColumn('load5', 'double precision')
    .addColumn('load15', 'double precision')
    .addColumn('mem_total_mb', 'integer')
    .addColumn('mem_used_mb', 'integer')
    .addColumn('disk_total_mb', 'integer')
    .addColumn('disk_used_mb', 'integer')
    .addColumn('uptime_seconds', 'integer')
    .addColumn('running_jobs', 'integer')
    .execute();

  // Why a token stopped working: after an admin's revocation the host may not register again with the secret.
  await db.schema
    .alterTable('agents')
    .addColumn('revoked_reason', 'text', (c) => c.check(sql`revoked_reason in ('replaced', 'rotated', 'revoked')`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('agents').dropColumn('revoked_reason').execute();
  for (const c of ['load1', 'load5', 'load15', 'mem_total_mb', 'mem_used_mb', 'disk_total_mb', 'disk_used_mb', 'uptime_seconds', 'running_jobs']) {
    await db.schema.alterTable('hosts').dropColumn(c).execute();
  }
}
