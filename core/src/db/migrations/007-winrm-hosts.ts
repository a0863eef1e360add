import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').dropConstraint('hosts_transport').execute();
  await db.schema.alterTable('hosts').addCheckConstraint('hosts_transport', sql`transport in ('agent', 'ssh', 'winrm')`).execute();
  // WinRM authentication: 'basic' or 'ntlm'; for WinRM hosts host_key holds the pinned certificate fingerprint.
  await db.schema.alterTable('hosts').addColumn('auth_method', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').dropColumn('auth_method').execute();
  await db.schema.alterTable('hosts').dropConstraint('hosts_transport').execute();
  await db.schema.alterTable('hosts').addCheckConstraint('hosts_transport', sql`transport in ('agent', 'ssh')`).execute();
}
