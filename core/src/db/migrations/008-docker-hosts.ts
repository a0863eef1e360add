import { type Kysely, sql } from 'kysely';

// A Docker engine is a host too: `runner: docker` runs go to one, chosen like any host (tags, environment).
// For docker hosts `address` holds the engine's unix socket path.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').dropConstraint('hosts_transport').execute();
  await db.schema.alterTable('hosts').addCheckConstraint('hosts_transport', sql`transport in ('agent', 'ssh', 'winrm', 'docker')`).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').dropConstraint('hosts_transport').execute();
  await db.schema.alterTable('hosts').addCheckConstraint('hosts_transport', sql`transport in ('agent', 'ssh', 'winrm')`).execute();
}
