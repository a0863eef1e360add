import { type Kysely, sql } from 'kysely';

/**
 * OpenID Connect sign-in (decision 025): the provider's user (issuer + subject) linked to a Drydock user, and the
 * sign-ins under way: the state, nonce and PKCE verifier between the redirect to the provider and its callback,
 * kept here under the hash of a random cookie value and deleted when the callback uses them, so each works once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('external_identities')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_sign_in_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('external_identities_pkey', ['issuer', 'subject'])
    .execute();
  await db.schema
    .createTable('oidc_sign_ins')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('oidc_sign_ins').ifExists().execute();
  await db.schema.dropTable('external_identities').ifExists().execute();
}
