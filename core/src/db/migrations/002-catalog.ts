import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('credentials')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('https_token', 'ssh_key', 'password')`))
    .addColumn('username', 'text')
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('credentials_team_name', ['team_id', 'name'])
    .execute();

  await db.schema
    .createTable('script_repositories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('git', 'directory')`))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('branch', 'text', (c) => c.notNull().defaultTo('main'))
    .addColumn('path', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('provider', 'text', (c) => c.notNull().defaultTo('generic'))
    .addColumn('credential_id', 'uuid', (c) => c.references('credentials.id'))
    .addColumn('webhook_secret_enc', 'text')
    .addColumn('sync_interval_seconds', 'integer', (c) => c.notNull().defaultTo(300))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('new'))
    .addColumn('head', 'text')
    .addColumn('last_sync_at', 'timestamptz')
    .addColumn('last_sync_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('repository_syncs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('repository_id', 'text', (c) => c.notNull().references('script_repositories.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('head', 'text')
    .addColumn('added', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('removed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('problems', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('repository_syncs_repo').on('repository_syncs').columns(['repository_id', 'started_at desc']).execute();

  // The catalog as of each repository's last good sync; one row per script id per team.
  await db.schema
    .createTable('catalog_scripts')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('repository_id', 'text', (c) => c.notNull().references('script_repositories.id').onDelete('cascade'))
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('tags', sql`text[]`, (c) => c.notNull())
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('catalog_scripts_pk', ['team_id', 'id'])
    .execute();

  // Every version ever seen, keyed by the commit that last changed the manifest or its script.
  await db.schema
    .createTable('script_versions')
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('script_id', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('repository_id', 'text', (c) => c.notNull().references('script_repositories.id').onDelete('cascade'))
    .addColumn('manifest', 'jsonb', (c) => c.notNull())
    .addColumn('script_content', 'text')
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('committed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('changes', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('script_versions_pk', ['team_id', 'script_id', 'version'])
    .execute();
  await db.schema.createIndex('script_versions_by_time').on('script_versions').columns(['team_id', 'script_id', 'committed_at desc']).execute();

  await db.schema
    .createTable('catalog_problems')
    .addColumn('repository_id', 'text', (c) => c.notNull().references('script_repositories.id').onDelete('cascade'))
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('line', 'integer')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('head', 'text')
    .execute();
  await db.schema.createIndex('catalog_problems_repo').on('catalog_problems').column('repository_id').execute();

  await db.schema
    .createTable('action_templates')
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('manifest', 'jsonb', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('action_templates_pk', ['team_id', 'id'])
    .execute();

  await db.schema.alterTable('runs').addColumn('source', 'text', (c) => c.notNull().defaultTo('script')).execute();
  await db.schema.alterTable('hosts').addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').dropColumn('tags').execute();
  await db.schema.alterTable('runs').dropColumn('source').execute();
  for (const t of ['action_templates', 'catalog_problems', 'script_versions', 'catalog_scripts', 'repository_syncs', 'script_repositories', 'credentials']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
