import { serve } from '@hono/node-server';
import { sql } from 'kysely';
import { assertPortFree, CatalogStore, type Config, ensureLocalAdmin, migrateToLatest, openDatabase, outageWatch, secretBoxFromConfig } from '@drydock/core';
import { connectClient, ensureSearchAttributes } from '@drydock/temporal';
import { createApp } from './app.ts';
import { createLogBus } from './log-bus.ts';
import { ensureLocalCatalog } from './repository-service.ts';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(config: Config, databaseUrl: string): Promise<ApiServer> {
  await assertPortFree(config.DRYDOCK_API_PORT, config.DRYDOCK_API_HOST, 'the API', 'DRYDOCK_API_PORT');
  const database = openDatabase(databaseUrl);
  await migrateToLatest(database.db);
  const localUser = await ensureLocalAdmin(database.db, config.DRYDOCK_TEAM, config.DRYDOCK_LOCAL_ADMIN_EMAIL);
  const temporal = await connectClient(config);
  // Runs are started with Drydock's search attributes; a namespace without them would refuse every start.
  await ensureSearchAttributes(temporal.connection, config.TEMPORAL_NAMESPACE);
  const logBus = await createLogBus(database.sql, databaseUrl);
  const databaseOutage = outageWatch({
    what: `the database at ${new URL(databaseUrl).host}`,
    probe: () => sql`select 1`.execute(database.db),
    say: (line) => console.error(line),
  });
  const deps = {
    config,
    db: database.db,
    temporal: temporal.client,
    catalog: new CatalogStore(database.db),
    secrets: secretBoxFromConfig(config),
    logBus,
    localUser,
    databaseOutage,
  };
  await ensureLocalCatalog(deps);
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.DRYDOCK_API_HOST, port: config.DRYDOCK_API_PORT });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  let closing: Promise<void> | undefined;
  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // SSE clients hold connections open; end them rather than wait.
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    // Postgres may be going down at the same moment (Ctrl-C signals every process): closing is best effort.
    databaseOutage.stop();
    await logBus.close().catch(() => {});
    await temporal.close().catch(() => {});
    await database.close().catch(() => {});
  };
  // Idempotent: Ctrl-C reaches the process directly and again through the launcher.
  return { url: config.apiUrl, close: () => (closing ??= close()) };
}
