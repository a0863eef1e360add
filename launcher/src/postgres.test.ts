import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, migrateToLatest, openDatabase } from '@drydock/core';
import { APP_ROLE, ensureAppDatabase, ensureDatabase, startEmbeddedPostgres } from './postgres.ts';

// Real PostgreSQL binaries from npm, in a data directory made the way installs before random passwords made it.

let dir: string;
let port: number;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drydock-pg-upgrade-'));
  // As root, Postgres runs as the `postgres` user, which must be able to reach its data directory.
  await chmod(dir, 0o755);
  port = await freePort();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const signIn = async (url: string) => {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await sql`select current_user as role`;
  } finally {
    await sql.end();
  }
};

describe('an embedded PostgreSQL data directory from before random passwords', () => {
  test('keeps its data; the old password opens nothing; Drydock connects as a role that is no superuser and owns every table', async () => {
    // What an older launcher did: superuser drydock with the fixed password, the schema made by that superuser.
    const old = await startEmbeddedPostgres({ dir: join(dir, 'data'), port, password: 'drydock' });
    try {
      const oldUrl = await ensureDatabase(old.serverUrl, 'drydock');
      const database = openDatabase(oldUrl);
      try {
        await migrateToLatest(database.db);
        await database.db.insertInto('teams').values({ id: 'kept', name: 'Kept across the upgrade' }).execute();
      } finally {
        await database.close();
      }
    } finally {
      await old.stop();
    }

    const secrets = { superuser: 'new-superuser-password-0123456789', app: 'new-app-password-0123456789' };
    for (const round of ['upgrade', 'next start']) {
      const pg = await startEmbeddedPostgres({ dir: join(dir, 'data'), port, password: secrets.superuser });
      try {
        const appUrl = await ensureAppDatabase(pg.serverUrl, { database: 'drydock', role: APP_ROLE, password: secrets.app });
        expect(new URL(appUrl).username, round).toBe(APP_ROLE);
        await expect(signIn(`postgres://drydock:drydock@127.0.0.1:${port}/postgres`), round).rejects.toMatchObject({ code: '28P01' });
        expect(await signIn(pg.serverUrl.replace(/\/?$/, '/postgres')), round).toEqual([{ role: 'drydock' }]);

        const app = openDatabase(appUrl);
        try {
          // The migrations the superuser ran are the app role's now: it migrates, reads and writes everything.
          await migrateToLatest(app.db);
          expect(await app.db.selectFrom('teams').select('name').where('id', '=', 'kept').execute()).toEqual([{ name: 'Kept across the upgrade' }]);
          await app.db.insertInto('teams').values({ id: `added-${round.replace(' ', '-')}`, name: round }).execute();
          const [role] = await app.sql`select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user`;
          expect(role, round).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });
          const owners = await app.sql`
            select distinct pg_get_userbyid(c.relowner) as owner from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'S', 'v', 'm', 'p')`;
          expect(owners, round).toEqual([{ owner: APP_ROLE }]);
          // No superuser power through the back door: it cannot read the server's files or make a role.
          await expect(app.sql`select pg_read_file('PG_VERSION')`).rejects.toMatchObject({ code: '42501' });
          await expect(app.sql`create role intruder superuser`).rejects.toMatchObject({ code: '42501' });
        } finally {
          await app.close();
        }
      } finally {
        await pg.stop();
      }
    }
  });
});
