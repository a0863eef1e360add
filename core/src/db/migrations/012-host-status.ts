import type { Kysely } from 'kysely';

/**
 * Why an SSH, WinRM or Docker host needs a person: the reason its last contact failed at the transport level
 * (refused, auth, host key or certificate, engine socket), cleared by the next contact that succeeds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').addColumn('last_error', 'text').addColumn('last_error_at', 'timestamptz').execute();
  // The hosts list reads each agent host's latest token to tell a revoked agent from a silent one.
  await db.schema.createIndex('agents_host_created').on('agents').columns(['host_id', 'created_at desc']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('agents_host_created').ifExists().execute();
  await db.schema.alterTable('hosts').dropColumn('last_error').dropColumn('last_error_at').execute();
}
