import { type Kysely, sql } from 'kysely';

/**
 * Notifications: channels per team (secrets sealed), rules that route events to channels, personal
 * preferences for events of one's own runs, the events themselves and one delivery per event and target,
 * keyed `<eventId>/<channelId>` as its delivery workflow is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_channels')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('email', 'slack', 'teams', 'webhook')`))
    // What may be shown: email recipients, an SMTP server's host and user; never a password, URL token or signing secret.
    .addColumn('config', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // The secret part (webhook URLs, the signing secret, an SMTP password), sealed with the master key.
    .addColumn('sealed', 'text')
    // Where it sends, without secrets: `https://hooks.slack.com/services/…`, or the recipients.
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('notification_channels_team_name', ['team_id', 'name'])
    .execute();

  await db.schema
    .createTable('notification_rules')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('events', sql`text[]`, (c) => c.notNull())
    // Empty filters match everything.
    .addColumn('scripts', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('environments', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('channel_ids', sql`uuid[]`, (c) => c.notNull())
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('notification_rules_team_name', ['team_id', 'name'])
    .execute();

  await db.schema
    .createTable('notification_preferences')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('mute', 'subscribe')`))
    .addPrimaryKeyConstraint('notification_preferences_pk', ['user_id', 'team_id', 'event'])
    .execute();

  await db.schema
    .createTable('notification_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    // The channel-neutral Notification every channel renders.
    .addColumn('notification', 'jsonb', (c) => c.notNull())
    .addColumn('run_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('notification_deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull().references('notification_events.id').onDelete('cascade'))
    .addColumn('channel_id', 'uuid', (c) => c.references('notification_channels.id').onDelete('set null'))
    // A personal subscription: an email to this user rather than a team channel.
    .addColumn('user_id', 'uuid')
    .addColumn('channel_name', 'text', (c) => c.notNull())
    .addColumn('channel_kind', 'text', (c) => c.notNull())
    // Email recipients for this delivery when they differ from the channel's: a muted owner left out, a subscriber alone.
    .addColumn('recipients', sql`text[]`)
    // `<eventId>/<channelId>`, the delivery workflow's id after `notify/`: one delivery per event and channel.
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'retrying', 'delivered', 'failed')`))
    // Every attempt: number, outcome, the receiver's status and the start of its answer, when and how long.
    .addColumn('attempts', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('notification_deliveries_by_team').on('notification_deliveries').columns(['team_id', 'created_at']).execute();
  await db.schema.createIndex('notification_deliveries_by_channel').on('notification_deliveries').columns(['channel_id', 'updated_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notification_deliveries').ifExists().execute();
  await db.schema.dropTable('notification_events').ifExists().execute();
  await db.schema.dropTable('notification_preferences').ifExists().execute();
  await db.schema.dropTable('notification_rules').ifExists().execute();
  await db.schema.dropTable('notification_channels').ifExists().execute();
}
