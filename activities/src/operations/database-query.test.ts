import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createConnection } from 'mysql2/promise';
import postgres from 'postgres';
import { describe, expect, test as baseTest } from 'vitest';
import { type DatabaseQueryOperation, OperationSchema } from '@drydock/core/operations';
import type { OperationResult } from '@drydock/core/operations';
import { renderOperation } from '@drydock/core/operations';
import { runOperation } from './run-operation.ts';

// The machine's own servers: PostgreSQL with trust auth for postgres, MariaDB with root and no password.
const PG = { host: '127.0.0.1', port: 5432, database: 'postgres', user: 'postgres' };
const MARIADB = { host: '127.0.0.1', port: 3306, database: 'test', user: 'root' };

interface Table {
  name: string;
  count: () => Promise<number>;
  /** How many sessions are running exactly this statement now. */
  running: (statement: string) => Promise<number>;
}

const test = baseTest
  .extend('pgTable', { scope: 'file' }, async ({}, { onCleanup }): Promise<Table> => {
    const sql = postgres({ ...PG, max: 1, onnotice: () => {} });
    const name = `drydock_ops_${randomBytes(4).toString('hex')}`;
    await sql.unsafe(`CREATE TABLE ${name} (n int NOT NULL, state text NOT NULL)`);
    await sql.unsafe(`INSERT INTO ${name} SELECT g, CASE WHEN g % 2 = 0 THEN 'done' ELSE 'queued' END FROM generate_series(1, 5) g`);
    onCleanup(async () => {
      await sql.unsafe(`DROP TABLE IF EXISTS ${name}`);
      await sql.end();
    });
    return {
      name,
      count: async () => Number((await sql.unsafe(`SELECT count(*) AS c FROM ${name}`))[0]!.c),
      running: async (statement) => Number((await sql`SELECT count(*) AS c FROM pg_stat_activity WHERE state = 'active' AND query = ${statement}`)[0]!.c),
    };
  })
  .extend('mariadbTable', { scope: 'file' }, async ({}, { onCleanup }): Promise<Table> => {
    const connection = await createConnection({ ...MARIADB, password: '' });
    const name = `drydock_ops_${randomBytes(4).toString('hex')}`;
    await connection.query(`CREATE TABLE ${name} (n int NOT NULL, state varchar(20) NOT NULL)`);
    await connection.query(`INSERT INTO ${name} VALUES (1, 'queued'), (2, 'done'), (3, 'queued'), (4, 'done'), (5, 'queued')`);
    onCleanup(async () => {
      await connection.query(`DROP TABLE IF EXISTS ${name}`);
      await connection.query(`DROP TABLE IF EXISTS ${name}_copy`);
      await connection.end();
    });
    return {
      name,
      count: async () => {
        const [rows] = await connection.query(`SELECT count(*) AS c FROM ${name}`);
        return Number((rows as { c: number }[])[0]!.c);
      },
      running: async (statement) => {
        const [rows] = await connection.query(`SELECT count(*) AS c FROM information_schema.PROCESSLIST WHERE INFO = ?`, [statement]);
        return Number((rows as { c: number }[])[0]!.c);
      },
    };
  });

function query(
  engine: 'postgresql' | 'mysql',
  sql: string,
  extra: Partial<DatabaseQueryOperation> = {},
  options: { secrets?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<OperationResult> {
  const connection = engine === 'postgresql' ? PG : MARIADB;
  return runOperation(
    { type: 'database_query', engine, connection, query: sql, ...extra },
    { signal: options.signal ?? new AbortController().signal, secrets: options.secrets ?? {} },
  );
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('database_query on PostgreSQL', () => {
  test('a scalar in range passes; the first column of the first row is the value', async ({ pgTable }) => {
    const result = await query('postgresql', `SELECT count(*) AS jobs FROM ${pgTable.name} WHERE state = 'queued'`, { expect: { min: 1, max: 5 } });
    expect(result).toMatchObject({
      ok: true,
      value: 3,
      checks: [
        { name: 'query', ok: true, detail: 'returned 1 row; first value (jobs): 3' },
        { name: 'value >= 1', ok: true, detail: '3 >= 1' },
        { name: 'value <= 5', ok: true, detail: '3 <= 5' },
      ],
    });
    expect(result.output[0]).toBe(`PostgreSQL postgres@127.0.0.1:5432/postgres, read-only: SELECT count(*) AS jobs FROM ${pgTable.name} WHERE state = 'queued'`);
  });

  test('a scalar out of range fails and says by how much', async ({ pgTable }) => {
    const result = await query('postgresql', `SELECT max(n) FROM ${pgTable.name}`, { expect: { max: 4, equals: 5 } });
    expect(result.ok).toBe(false);
    expect(result.checks.slice(1)).toEqual([
      { name: 'value <= 4', ok: false, detail: '5 is above the maximum 4' },
      { name: 'value = 5', ok: true, detail: '5 = 5' },
    ]);
  });

  test('parameters are bound values, so a quote in one is just data', async ({ pgTable }) => {
    const op = OperationSchema.parse({
      type: 'database_query',
      engine: 'postgresql',
      connection: PG,
      query: `SELECT count(*) FROM ${pgTable.name} WHERE state = {{state}} OR state = {{evil}}`,
      expect: { equals: 2 },
    });
    const result = await runOperation(renderOperation(op, { state: 'done', evil: "x' OR '1'='1" }), { signal: new AbortController().signal, secrets: {} });
    expect(result).toMatchObject({ ok: true, value: 2 });
  });

  test('a write is refused by the read-only transaction, and nothing changes', async ({ pgTable }) => {
    const result = await query('postgresql', `INSERT INTO ${pgTable.name} VALUES (99, 'queued')`);
    expect(result.checks).toEqual([
      { name: 'query', ok: false, detail: 'refused: the query tried to write, and operations run in a read-only transaction (cannot execute INSERT in a read-only transaction)' },
    ]);
    const escape = await query('postgresql', `DO $$ BEGIN SET TRANSACTION READ WRITE; DELETE FROM ${pgTable.name}; END $$`);
    expect(escape.checks[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused: the query tried to leave the read-only transaction/) });
    expect(await pgTable.count()).toBe(5);
  });

  test('two statements are refused before anything is sent', async ({ pgTable }) => {
    const sql = `SELECT 1; DELETE FROM ${pgTable.name}`;
    expect(OperationSchema.safeParse({ type: 'database_query', engine: 'postgresql', connection: PG, query: sql }).success).toBe(false);
    const result = await query('postgresql', sql);
    expect(result.checks).toEqual([{ name: 'query', ok: false, detail: 'refused: the query must be exactly one statement, and it has 2' }]);
    expect(await pgTable.count()).toBe(5);
  });

  test('no rows is not a number', async ({ pgTable }) => {
    const result = await query('postgresql', `SELECT n FROM ${pgTable.name} WHERE n > 100`, { expect: { min: 0 } });
    expect(result).toMatchObject({
      ok: false,
      value: null,
      checks: [
        { name: 'query', ok: true, detail: 'returned no rows' },
        { name: 'value >= 0', ok: false, detail: 'the query returned no row, not a number' },
      ],
    });
  });

  test('a syntax error is one line', async () => {
    const result = await query('postgresql', 'SELEC 1');
    expect(result.checks).toEqual([{ name: 'query', ok: false, detail: 'SQL syntax error: syntax error at or near "SELEC"' }]);
  });

  test('a query over its timeout is cancelled by the server', async () => {
    const result = await query('postgresql', 'SELECT pg_sleep(30)', { timeout_seconds: 1 });
    expect(result.checks).toEqual([{ name: 'query', ok: false, detail: 'the query ran longer than 1 s and was cancelled' }]);
  });

  test('abort cancels the statement on the server, not only on this side', async ({ pgTable }) => {
    const statement = 'SELECT pg_sleep(30)';
    const controller = new AbortController();
    const pending = query('postgresql', statement, {}, { signal: controller.signal });
    await expect.poll(() => pgTable.running(statement), { timeout: 10_000 }).toBe(1);
    controller.abort();
    expect((await pending).checks).toEqual([{ name: 'query', ok: false, detail: 'cancelled' }]);
    await expect.poll(() => pgTable.running(statement), { timeout: 10_000 }).toBe(0);
  });

  test('an unreachable server is one clear line', async () => {
    const port = await closedPort();
    const refused = await query('postgresql', 'SELECT 1', { connection: { ...PG, port } });
    expect(refused.checks).toEqual([
      { name: 'query', ok: false, detail: `cannot reach PostgreSQL at 127.0.0.1:${port}: connection refused (is it running, and on that port?)` },
    ]);
    const unknown = await query('postgresql', 'SELECT 1', { connection: { ...PG, host: 'db.drydock.invalid' } });
    expect(unknown.checks).toEqual([{ name: 'query', ok: false, detail: 'cannot reach PostgreSQL at db.drydock.invalid:5432: host name not found' }]);
  });

  test('a failed login says so, and the password appears nowhere', async () => {
    const password = 'pg-pass-7f3a91';
    const lines: string[] = [];
    const result = await runOperation(
      { type: 'database_query', engine: 'postgresql', connection: { ...PG, user: 'drydock_nobody', password_param: 'db_password' }, query: 'SELECT 1' },
      { signal: new AbortController().signal, secrets: { db_password: password }, onLine: (l) => lines.push(l) },
    );
    expect(result.checks).toEqual([
      { name: 'query', ok: false, detail: 'authentication failed for user drydock_nobody on 127.0.0.1:5432: role "drydock_nobody" does not exist' },
    ]);
    expect(JSON.stringify(result)).not.toContain(password);
    expect(lines.join('\n')).not.toContain(password);
  });

  test('a password parameter without a value is a clear failure', async () => {
    const result = await query('postgresql', 'SELECT 1', { connection: { ...PG, password_param: 'db_password' } });
    expect(result.checks).toEqual([
      { name: 'query', ok: false, detail: 'the secret parameter db_password has no value, so there is no password to connect with' },
    ]);
  });
});

describe('database_query on MySQL (MariaDB)', () => {
  test('a scalar in range passes', async ({ mariadbTable }) => {
    const result = await query('mysql', `SELECT count(*) AS jobs FROM ${mariadbTable.name} WHERE state = 'queued'`, { expect: { min: 1, max: 5 } });
    expect(result).toMatchObject({
      ok: true,
      value: 3,
      checks: [
        { name: 'query', ok: true, detail: 'returned 1 row; first value (jobs): 3' },
        { name: 'value >= 1', ok: true, detail: '3 >= 1' },
        { name: 'value <= 5', ok: true, detail: '3 <= 5' },
      ],
    });
  });

  test('a scalar out of range fails', async ({ mariadbTable }) => {
    const result = await query('mysql', `SELECT sum(n) FROM ${mariadbTable.name}`, { expect: { min: 100 } });
    expect(result.ok).toBe(false);
    expect(result.value).toBe('15');
    expect(result.checks[1]).toEqual({ name: 'value >= 100', ok: false, detail: '15 is below the minimum 100' });
  });

  test('parameters are bound values', async ({ mariadbTable }) => {
    const op = OperationSchema.parse({
      type: 'database_query',
      engine: 'mysql',
      connection: MARIADB,
      query: `SELECT count(*) FROM ${mariadbTable.name} WHERE n >= {{min_n}} AND state <> {{evil}}`,
    });
    const result = await runOperation(renderOperation(op, { min_n: 3, evil: "x' OR 1=1 -- " }), { signal: new AbortController().signal, secrets: {} });
    expect(result.value).toBe(3);
  });

  test('writes are refused by the read-only transaction, DDL that commits implicitly included', async ({ mariadbTable }) => {
    const insert = await query('mysql', `INSERT INTO ${mariadbTable.name} VALUES (99, 'queued')`);
    expect(insert.checks).toEqual([
      { name: 'query', ok: false, detail: 'refused: the query tried to write, and operations run in a read-only transaction (Cannot execute statement in a READ ONLY transaction)' },
    ]);
    const ddl = await query('mysql', `CREATE TABLE ${mariadbTable.name}_copy AS SELECT * FROM ${mariadbTable.name}`);
    expect(ddl.checks[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused: the query tried to write/) });
    expect(await mariadbTable.count()).toBe(5);
  });

  test('two statements are refused', async ({ mariadbTable }) => {
    const result = await query('mysql', `SELECT 1; DELETE FROM ${mariadbTable.name}`);
    expect(result.checks).toEqual([{ name: 'query', ok: false, detail: 'refused: the query must be exactly one statement, and it has 2' }]);
    expect(await mariadbTable.count()).toBe(5);
  });

  test('a query over its timeout is cancelled by the server', async () => {
    const result = await query('mysql', 'SELECT SLEEP(30)', { timeout_seconds: 1 });
    expect(result.checks).toEqual([{ name: 'query', ok: false, detail: 'the query ran longer than 1 s and was cancelled' }]);
  });

  test('abort ends the statement on the server too', async ({ mariadbTable }) => {
    const statement = 'SELECT SLEEP(30)';
    const controller = new AbortController();
    const pending = query('mysql', statement, {}, { signal: controller.signal });
    await expect.poll(() => mariadbTable.running(statement), { timeout: 10_000 }).toBe(1);
    controller.abort();
    expect((await pending).checks).toEqual([{ name: 'query', ok: false, detail: 'cancelled' }]);
    await expect.poll(() => mariadbTable.running(statement), { timeout: 10_000 }).toBe(0);
  });

  test('a syntax error is one line', async () => {
    const result = await query('mysql', 'SELEC 1');
    expect(result.checks[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/^SQL syntax error: You have an error in your SQL syntax;/) });
  });

  test('an unreachable server is one clear line', async () => {
    const port = await closedPort();
    const result = await query('mysql', 'SELECT 1', { connection: { ...MARIADB, port } });
    expect(result.checks).toEqual([
      { name: 'query', ok: false, detail: `cannot reach MySQL at 127.0.0.1:${port}: connection refused (is it running, and on that port?)` },
    ]);
  });

  test('a failed login says so, and the password appears nowhere', async () => {
    const password = 'maria-pass-2c81e0';
    const result = await query('mysql', 'SELECT 1', { connection: { ...MARIADB, user: 'drydock_nobody', password_param: 'db_password' } }, { secrets: { db_password: password } });
    expect(result.checks).toEqual([
      { name: 'query', ok: false, detail: expect.stringMatching(/^authentication failed for user drydock_nobody on 127\.0\.0\.1:3306: Access denied for user 'drydock_nobody'@/) },
    ]);
    expect(JSON.stringify(result)).not.toContain(password);
  });
});
