import { type Kysely, sql } from 'kysely';

/**
 * Schedules (each mirrored by a Temporal Schedule `schedule/<id>`), their firings (started, skipped by a
 * blackout window, or failed before a run could start), the runs they start, and blackout windows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('schedules')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('script', 'action')`))
    .addColumn('script_id', 'text', (c) => c.notNull())
    .addColumn('host_id', 'text', (c) => c.notNull())
    .addColumn('params', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // The spec as the user gave it (ScheduleSpecInput): the Temporal Schedule is rebuilt from it.
    .addColumn('spec', 'jsonb', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('schedules_team_name', ['team_id', 'name'])
    .execute();

  await db.schema
    .createTable('schedule_firings')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('schedule_id', 'uuid', (c) => c.notNull().references('schedules.id').onDelete('cascade'))
    .addColumn('team_id', 'text', (c) => c.notNull())
    // The firing's workflow: an activity retried after a crash finds its firing instead of making another.
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('scheduled_at', 'timestamptz', (c) => c.notNull())
    .addColumn('fired_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('started', 'skipped', 'failed')`))
    .addColumn('reason', 'text')
    .addColumn('blackout_name', 'text')
    .addColumn('run_id', 'uuid')
    .execute();
  await db.schema.createIndex('schedule_firings_by_schedule').on('schedule_firings').columns(['schedule_id', 'fired_at']).execute();

  await db.schema.alterTable('runs').addColumn('schedule_id', 'uuid').execute();

  await db.schema
    .createTable('blackout_windows')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    // The window as @drydock/core/blackout reads it (weekly or once).
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addColumn('created_by_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Skipped firings are recorded with the window's name, so a name means one window per environment.
    .addUniqueConstraint('blackout_windows_team_env_name', ['team_id', 'environment', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('blackout_windows').ifExists().execute();
  await db.schema.alterTable('runs').dropColumn('schedule_id').execute();
  await db.schema.dropTable('schedule_firings').ifExists().execute();
  await db.schema.dropTable('schedules').ifExists().execute();
}
