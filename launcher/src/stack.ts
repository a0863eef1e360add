import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import postgres from 'postgres';
import { assertPortFree, type Config, loadConfig, REPO_ROOT } from '@drydock/core';
import { type DevServerOptions, ensureNamespace, ensureSearchAttributes, provisionTemporalBinary, startDevServer } from '@drydock/temporal';
import { ManagedProcess } from './managed-process.ts';
import { APP_ROLE, ensureAppDatabase, startEmbeddedPostgres } from './postgres.ts';
import { loadOrCreateLocalSecrets } from './secrets.ts';
import { SupervisedService } from './supervised-service.ts';

export const PROCESS_NAMES = ['api', 'worker', 'agent', 'web'] as const;
export type ProcessName = (typeof PROCESS_NAMES)[number];

const ENTRIES: Record<ProcessName, { entry: string; ready: RegExp }> = {
  api: { entry: 'api/src/main.ts', ready: /API listening on/ },
  worker: { entry: 'temporal/src/worker.main.ts', ready: /central worker polling/ },
  agent: { entry: 'agent/src/main.ts', ready: /agent for host \S+ polling/ },
  web: { entry: 'web/main.ts', ready: /web UI listening on/ },
};

export interface StackOptions {
  /** Raw settings, parsed by the one config schema; children get the same. */
  env: Record<string, string | undefined>;
  processes?: readonly ProcessName[];
  echo?: boolean;
  restart?: boolean;
  log?: (line: string) => void;
}

export interface Stack {
  config: Config;
  databaseUrl: string;
  temporalAddress: string;
  processes: Partial<Record<ProcessName, ManagedProcess>>;
  /** The Temporal dev server, when the stack started one (no TEMPORAL_ADDRESS). */
  devServer: SupervisedService | undefined;
  /** Embedded PostgreSQL, when the stack started it (no DATABASE_URL). */
  postgres: SupervisedService | undefined;
  stop(): Promise<void>;
}

/** Brings up whatever of Drydock is not given from outside: Postgres, Temporal, then API, worker, agent, web. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => {});
  const config = loadConfig(options.env);
  const wanted = options.processes ?? PROCESS_NAMES;
  await mkdir(config.DRYDOCK_DATA_DIR, { recursive: true });

  if (wanted.includes('api')) await assertPortFree(config.DRYDOCK_API_PORT, config.DRYDOCK_API_HOST, 'the API', 'DRYDOCK_API_PORT');
  if (wanted.includes('web')) await assertPortFree(config.DRYDOCK_WEB_PORT, config.DRYDOCK_WEB_HOST, 'the web UI', 'DRYDOCK_WEB_PORT');
  if (!config.DATABASE_URL) await assertPortFree(config.DRYDOCK_PG_PORT, '127.0.0.1', 'embedded PostgreSQL', 'DRYDOCK_PG_PORT');
  if (!config.TEMPORAL_ADDRESS) {
    await assertPortFree(config.DRYDOCK_TEMPORAL_PORT, '127.0.0.1', 'the Temporal dev server', 'DRYDOCK_TEMPORAL_PORT');
    await assertPortFree(config.DRYDOCK_TEMPORAL_UI_PORT, '127.0.0.1', 'Temporal Web', 'DRYDOCK_TEMPORAL_UI_PORT');
  }

  const started: { stop(): Promise<void>; expectExit?(): void }[] = [];
  const stopAll = async () => {
    // Ctrl-C reaches every process at once; none of them may be restarted while the stack goes down.
    for (const s of started) s.expectExit?.();
    for (const s of started.reverse()) await s.stop().catch((err: Error) => log(`stopping: ${err.message}`));
  };

  try {
    let pg: SupervisedService | undefined;
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      // Its passwords are local secrets, like the codec key: made on the first start, kept in .data/secrets.json.
      const secrets = await loadOrCreateLocalSecrets(join(config.DRYDOCK_DATA_DIR, 'secrets.json'));
      const dir = join(config.DRYDOCK_DATA_DIR, 'postgres');
      log(`starting embedded PostgreSQL on 127.0.0.1:${config.DRYDOCK_PG_PORT}`);
      let serverUrl = '';
      pg = new SupervisedService({
        name: 'postgres',
        address: `127.0.0.1:${config.DRYDOCK_PG_PORT}`,
        restart: options.restart,
        say: options.log,
        start: async () => {
          const handle = await startEmbeddedPostgres({ dir, port: config.DRYDOCK_PG_PORT, password: secrets.postgresPassword });
          serverUrl = handle.serverUrl;
          return handle;
        },
      });
      await pg.start();
      started.push(pg);
      databaseUrl = await ensureAppDatabase(serverUrl, { database: 'drydock', role: APP_ROLE, password: secrets.postgresAppPassword });
    }

    let devServer: SupervisedService | undefined;
    if (!config.TEMPORAL_ADDRESS) {
      const bin = await provisionTemporalBinary({ configured: config.DRYDOCK_TEMPORAL_BIN, dataDir: config.DRYDOCK_DATA_DIR, log });
      log(`starting the Temporal dev server (${bin}) on ${config.temporalAddress}`);
      const dbFile = join(config.DRYDOCK_DATA_DIR, 'temporal.db');
      const serverOptions: DevServerOptions = {
        bin,
        dbFile,
        partitions: await taskQueuePartitions(dbFile),
        port: config.DRYDOCK_TEMPORAL_PORT,
        uiPort: config.DRYDOCK_TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        codecEndpoint: config.DRYDOCK_CODEC_KEY ? `${config.apiUrl}/api/v1/codec` : undefined,
      };
      devServer = new SupervisedService({ name: 'temporal', address: config.temporalAddress, restart: options.restart, say: options.log, start: () => startDevServer(serverOptions) });
      await devServer.start();
      started.push(devServer);
    }
    const connection = await Connection.connect({ address: config.temporalAddress });
    try {
      await ensureNamespace(connection, config.TEMPORAL_NAMESPACE);
      await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
    } finally {
      await connection.close();
    }

    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...options.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: config.temporalAddress };
    const processes: Partial<Record<ProcessName, ManagedProcess>> = {};
    for (const name of PROCESS_NAMES) {
      if (!wanted.includes(name)) continue;
      const p = new ManagedProcess({
        name,
        entry: resolve(REPO_ROOT, ENTRIES[name].entry),
        env: childEnv,
        ready: ENTRIES[name].ready,
        echo: options.echo,
        restart: options.restart,
      });
      await p.start();
      started.push(p);
      processes[name] = p;
      if (name === 'worker' && config.DRYDOCK_CATALOG_DIR && processes.api) await localCatalogSynced(databaseUrl, log);
    }

    return {
      config,
      databaseUrl,
      temporalAddress: config.temporalAddress,
      processes,
      devServer,
      postgres: pg,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The first sync of the local catalog, so the stack is usable once it says it is up. The launcher holds no API
 * credential (a fresh start has no admin yet), so it reads the repository's state from the database it set up.
 */
async function localCatalogSynced(databaseUrl: string, log: (line: string) => void): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [repo] = await sql<{ status: string; last_sync_error: string | null }[]>`
        select status, last_sync_error from script_repositories where id = 'local-catalog'`.catch(() => []);
      if (repo?.status === 'ok') return;
      if (repo?.status === 'failed') {
        log(`the local catalog did not sync: ${repo.last_sync_error}`);
        return;
      }
      if (Date.now() > deadline) {
        log('the local catalog has not synced after 60 s; it will appear when it does');
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await sql.end();
  }
}

/**
 * One partition per task queue (see DevServerOptions.partitions). A temporal.db from before ran four, and
 * tasks waiting in partitions 1 to 3 would never be read with one: the first start after the upgrade writes
 * to one partition and still reads four, so those drain; the starts after it read one.
 */
async function taskQueuePartitions(dbFile: string): Promise<{ read: number; write: number }> {
  const marker = `${dbFile}.partitions`;
  const state = await readFile(marker, 'utf8').then((s) => s.trim(), () => undefined);
  if (state === '1' || !existsSync(dbFile)) {
    if (state !== '1') await writeFile(marker, '1\n');
    return { read: 1, write: 1 };
  }
  // An older temporal.db: this start drains the other partitions; the next one reads only the first.
  await writeFile(marker, '1\n');
  return { read: 4, write: 1 };
}
