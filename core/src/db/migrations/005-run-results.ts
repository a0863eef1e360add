import type { Kysely } from 'kysely';

/** A host operation's structured result (checks, value) kept with the run. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('result', 'jsonb').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('result').execute();
}
