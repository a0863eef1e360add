import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('hosts')
    .addColumn('address', 'text')
    .addColumn('port', 'integer')
    .addColumn('username', 'text')
    .addColumn('credential_id', 'uuid', (c) => c.references('credentials.id'))
    .addColumn('jump_host_id', 'text', (c) => c.references('hosts.id'))
    // Pinned on first use, verified on every connection after.
    .addColumn('host_key', 'text')
    .addColumn('environment', 'text')
    .addColumn('host_group', 'text')
    .execute();
  await db.schema.alterTable('hosts').addCheckConstraint('hosts_transport', sql`transport in ('agent', 'ssh')`).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').dropConstraint('hosts_transport').execute();
  for (const c of ['address', 'port', 'username', 'credential_id', 'jump_host_id', 'host_key', 'environment', 'host_group']) {
    await db.schema.alterTable('hosts').dropColumn(c).execute();
  }
}
