import { type Kysely, sql } from 'kysely';

/**
 * The audit trail becomes append-only and hash-chained per team (decision 025). The database itself chains
 * each row in a BEFORE INSERT trigger, under a per-team advisory lock, so every writer (the API, a later
 * activity, a hand-written INSERT) extends the chain the same way and two writers cannot fork it.
 *
 * A row's hash is sha256 over its canonical content: the fields below, each written as `~` when null or
 * `<octet length>:<text>` otherwise, concatenated. `api/src/audit/chain.ts` recomputes it independently.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('audit_log')
    .addColumn('team_seq', 'bigint')
    .addColumn('prev_hash', 'text')
    .addColumn('hash', 'text')
    .addColumn('request_id', 'text')
    .execute();

  await sql`
    create function audit_log_field(v text) returns text language sql immutable as $$
      select case when v is null then '~' else octet_length(v)::text || ':' || v end
    $$`.execute(db);
  await sql`
    create function audit_log_hash(r audit_log) returns text language sql stable as $$
      select encode(sha256(convert_to(
        audit_log_field(r.prev_hash) || audit_log_field(r.team_id) || audit_log_field(r.actor_id) ||
        audit_log_field(r.actor_name) || audit_log_field(r.action) || audit_log_field(r.resource) ||
        audit_log_field(r.ip) || audit_log_field(r.user_agent) || audit_log_field(r.result::text) ||
        audit_log_field(r.detail::text) || audit_log_field(r.request_id) ||
        audit_log_field(to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
        'UTF8')), 'hex')
    $$`.execute(db);

  // Rows written before the chain existed are chained once, in the order they were written.
  await sql`
    do $$
    declare r audit_log; last_team text; last_seq bigint; last_hash text;
    begin
      for r in select * from audit_log order by team_id, id loop
        if last_team is distinct from r.team_id then
          last_seq := 0; last_hash := null; last_team := r.team_id;
        end if;
        r.team_seq := last_seq + 1;
        r.prev_hash := last_hash;
        r.hash := audit_log_hash(r);
        update audit_log set team_seq = r.team_seq, prev_hash = r.prev_hash, hash = r.hash where id = r.id;
        last_seq := r.team_seq; last_hash := r.hash;
      end loop;
    end $$`.execute(db);
  await sql`alter table audit_log alter column team_seq set not null, alter column hash set not null`.execute(db);
  // A second safety net under the lock: two rows can never claim the same place in a team's chain.
  await db.schema.createIndex('audit_log_team_seq').unique().on('audit_log').columns(['team_id', 'team_seq']).execute();

  await sql`
    create function audit_log_chain() returns trigger language plpgsql as $$
    declare last record;
    begin
      -- Held to the end of the transaction: the next writer of this team reads this row once it is committed.
      perform pg_advisory_xact_lock(1635083380, hashtext(new.team_id));
      select team_seq, hash into last from audit_log where team_id = new.team_id order by team_seq desc limit 1;
      new.team_seq := coalesce(last.team_seq, 0) + 1;
      new.prev_hash := last.hash;
      new.created_at := coalesce(new.created_at, now());
      new.hash := audit_log_hash(new);
      return new;
    end $$`.execute(db);
  await sql`create trigger audit_log_chain before insert on audit_log for each row execute function audit_log_chain()`.execute(db);

  await sql`
    create function audit_log_refuse() returns trigger language plpgsql as $$
    begin
      raise exception 'the audit log is append-only: % on audit_log is refused', tg_op
        using errcode = '42501', hint = 'audit rows are never changed or removed; npm run audit:verify checks the chain';
    end $$`.execute(db);
  await sql`create trigger audit_log_append_only before update or delete on audit_log for each row execute function audit_log_refuse()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_log_refuse()`.execute(db);
  // The owner (the app role in the launcher's shape) gives up the rights too, so a dropped trigger is not enough.
  await sql`
    do $$
    begin
      execute format('revoke update, delete, truncate on audit_log from %I',
        (select tableowner from pg_tables where schemaname = current_schema() and tablename = 'audit_log'));
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    do $$
    begin
      execute format('grant update, delete, truncate on audit_log to %I',
        (select tableowner from pg_tables where schemaname = current_schema() and tablename = 'audit_log'));
    end $$`.execute(db);
  for (const trigger of ['audit_log_no_truncate', 'audit_log_append_only', 'audit_log_chain']) {
    await sql`drop trigger if exists ${sql.id(trigger)} on audit_log`.execute(db);
  }
  for (const fn of ['audit_log_refuse()', 'audit_log_chain()', 'audit_log_hash(audit_log)', 'audit_log_field(text)']) {
    await sql.raw(`drop function if exists ${fn}`).execute(db);
  }
  await db.schema.dropIndex('audit_log_team_seq').ifExists().execute();
  await db.schema.alterTable('audit_log').dropColumn('team_seq').dropColumn('prev_hash').dropColumn('hash').dropColumn('request_id').execute();
}
