import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '@drydock/core';
import { verifyAuditChain } from '@drydock/api/audit-chain';
import { dropDatabase, ensureDatabase } from '@drydock/launcher';

// The audit trail on a real PostgreSQL: chained by the database, append-only for the app, and every kind of
// tampering a superuser can do is named by the verifier.

const serverUrl = inject('postgresServerUrl');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** A database of its own, migrated, with a few rows of two teams written the way the API writes them. */
async function chainedDatabase(): Promise<{ handle: DatabaseHandle; superuser: postgres.Sql }> {
  const name = `drydock_audit_${randomBytes(4).toString('hex')}`;
  const url = await ensureDatabase(serverUrl, name);
  const handle = openDatabase(url);
  const superuser = postgres(url, { max: 1, onnotice: () => {} });
  cleanups.push(() => dropDatabase(serverUrl, name), () => handle.close(), () => superuser.end());
  await migrateToLatest(handle.db);
  for (const [i, team] of ['red', 'red', 'blue', 'red', 'red', 'blue', 'red'].entries()) {
    await handle.db
      .insertInto('audit_log')
      .values({
        team_id: team,
        actor_id: `user-${i}`,
        actor_name: `user${i}@example.com`,
        action: i % 2 ? 'run.start' : 'host.create',
        resource: `host:h${i}`,
        ip: '192.0.2.7',
        user_agent: 'curl/8',
        result: 201,
        detail: { n: i, note: 'ünïcödé, "quoted", \n new line', nested: { b: [1, 2.5, null], a: true } },
        request_id: `req-${i}`,
      })
      .execute();
  }
  return { handle, superuser };
}

const redRows = async (sql: postgres.Sql) =>
  (await sql<{ id: string; seq: string }[]>`select id::text, team_seq::text as seq from audit_log where team_id = 'red' order by team_seq`).map((r) => r.id);

describe('the audit chain', () => {
  test('the database chains every row per team, and the verifier agrees with it', async () => {
    const { handle, superuser } = await chainedDatabase();
    const report = await verifyAuditChain(handle.db);
    expect(report.ok).toBe(true);
    expect(report.teams.map((t) => [t.teamId, t.rows, t.head?.seq])).toEqual([
      ['blue', 2, 2],
      ['red', 5, 5],
    ]);
    // A writer cannot choose its place in the chain: the trigger sets number and hashes, whatever was sent.
    await superuser`insert into audit_log (team_id, actor_name, action, result, team_seq, prev_hash, hash) values ('red', 'forger', 'x', 200, 1, null, 'f00')`;
    const [forged] = await superuser`select team_seq::text as seq, hash from audit_log where actor_name = 'forger'`;
    expect(forged?.seq).toBe('6');
    expect(forged?.hash).not.toBe('f00');
    expect((await verifyAuditChain(handle.db, { teamId: 'red' })).ok).toBe(true);
  });

  test('concurrent writers on many connections never fork the chain', async () => {
    const { handle } = await chainedDatabase();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        handle.db.insertInto('audit_log').values({ team_id: 'red', actor_name: `w${i}`, action: 'run.start', result: 201 }).execute(),
      ),
    );
    const report = await verifyAuditChain(handle.db, { teamId: 'red' });
    expect(report).toMatchObject({ ok: true, teams: [{ teamId: 'red', rows: 65, head: { seq: 65 } }] });
  });

  test('a row changed by a superuser behind the triggers is named', async () => {
    const { handle, superuser } = await chainedDatabase();
    const ids = await redRows(superuser);
    await superuser.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_log set actor_name = 'someone-else@example.com' where id = ${ids[2]!}`;
    });
    const report = await verifyAuditChain(handle.db);
    expect(report.ok).toBe(false);
    const red = report.teams.find((t) => t.teamId === 'red')!;
    expect(red.firstBreak).toMatchObject({ kind: 'changed', rowId: ids[2], seq: 3 });
    expect(red.firstBreak?.message).toMatch(new RegExp(`row ${ids[2]} \\(#3 of team red.*was changed after it was written`));
    // The other team's chain is untouched and says so.
    expect(report.teams.find((t) => t.teamId === 'blue')?.firstBreak).toBeNull();
  });

  test('a changed detail (JSON) is named as well', async () => {
    const { handle, superuser } = await chainedDatabase();
    const ids = await redRows(superuser);
    await superuser.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_log set detail = jsonb_set(detail, '{n}', '99') where id = ${ids[1]!}`;
    });
    expect((await verifyAuditChain(handle.db, { teamId: 'red' })).teams[0]?.firstBreak).toMatchObject({ kind: 'changed', rowId: ids[1], seq: 2 });
  });

  test('a deleted row is named by the row after it', async () => {
    const { handle, superuser } = await chainedDatabase();
    const ids = await redRows(superuser);
    await superuser.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from audit_log where id = ${ids[1]!}`;
    });
    const red = (await verifyAuditChain(handle.db, { teamId: 'red' })).teams[0]!;
    expect(red.firstBreak).toMatchObject({ kind: 'deleted', rowId: ids[2], seq: 3 });
    expect(red.firstBreak?.message).toMatch(/^row #2 is missing before row .*: deleted$/);
  });

  test('a deleted row whose successors were renumbered is still found', async () => {
    const { handle, superuser } = await chainedDatabase();
    const ids = await redRows(superuser);
    await superuser.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from audit_log where id = ${ids[0]!}`;
      for (const id of ids.slice(1)) await tx`update audit_log set team_seq = team_seq - 1 where id = ${id}`;
    });
    expect((await verifyAuditChain(handle.db, { teamId: 'red' })).teams[0]?.firstBreak).toMatchObject({ kind: 'replaced', rowId: ids[1], seq: 1 });
  });

  test('two rows swapped in order are named', async () => {
    const { handle, superuser } = await chainedDatabase();
    const ids = await redRows(superuser);
    await superuser.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_log set team_seq = -1 where id = ${ids[1]!}`;
      await tx`update audit_log set team_seq = 2 where id = ${ids[2]!}`;
      await tx`update audit_log set team_seq = 3 where id = ${ids[1]!}`;
    });
    const red = (await verifyAuditChain(handle.db, { teamId: 'red' })).teams[0]!;
    expect(red.firstBreak).toMatchObject({ kind: 'reordered', rowId: ids[2], seq: 2 });
    expect(red.firstBreak?.message).toContain(`it was written after row ${ids[1]} (#3), not after row ${ids[0]} (#1)`);
  });
});

describe('append-only', () => {
  test('UPDATE, DELETE and TRUNCATE are refused, with a message that says why', async () => {
    const { superuser } = await chainedDatabase();
    for (const statement of ['update audit_log set actor_name = $$x$$', 'delete from audit_log', 'truncate audit_log']) {
      await expect(superuser.unsafe(statement), statement).rejects.toThrow(/the audit log is append-only: (UPDATE|DELETE|TRUNCATE) on audit_log is refused/);
    }
  });

  test('the app role, owner of the database as the launcher makes it, cannot change rows even with the triggers disabled', async () => {
    const role = `audit_app_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
    cleanups.push(async () => {
      await admin.unsafe(`drop database if exists ${role}`);
      await admin.unsafe(`drop role if exists ${role}`);
      await admin.end();
    });
    await admin.unsafe(`create role ${role} login nosuperuser nocreatedb nocreaterole password '${password}'`);
    await admin.unsafe(`create database ${role} owner ${role}`);
    const url = new URL(`${serverUrl}/${role}`);
    url.username = role;
    url.password = password;
    const app = openDatabase(url.toString(), { max: 1 });
    try {
      await migrateToLatest(app.db);
      await app.db.insertInto('audit_log').values({ team_id: 'red', actor_name: 'a', action: 'run.start', result: 201 }).execute();
      const [owner] = await app.sql`select tableowner from pg_tables where tablename = 'audit_log'`;
      expect(owner?.tableowner).toBe(role);
      await app.sql`alter table audit_log disable trigger user`;
      for (const statement of ['update audit_log set actor_name = $$x$$', 'delete from audit_log', 'truncate audit_log']) {
        await expect(app.sql.unsafe(statement), statement).rejects.toMatchObject({ code: '42501', message: 'permission denied for table audit_log' });
      }
      expect(await app.sql`select count(*)::int as n from audit_log`).toEqual([{ n: 1 }]);
    } finally {
      await app.close();
    }
  });
});
