import { serve } from '@hono/node-server';
import { sql } from 'kysely';
import {
  assertPortFree,
  CatalogStore,
  type Config,
  ensureLocalAdmin,
  migrateToLatest,
  openDatabase,
  outageWatch,
  secretBoxFromConfig,
  untilDatabaseAnswers,
} from '@drydock/core';
import { connectClient, ensureSearchAttributes } from '@drydock/temporal';
import { createApp } from './app.ts';
import { announceSetupLink } from './identity-service.ts';
import { createLogBus } from './log-bus.ts';
import { ensureLocalCatalog } from './repository-service.ts';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(config: Config, databaseUrl: string): Promise<ApiServer> {
  await assertPortFree(config.DRYDOCK_API_PORT, config.DRYDOCK_API_HOST, 'the API', 'DRYDOCK_API_PORT');
  // Until it is ready the API answers anyway: /health says what it waits for, every other route 503, so a
  // monitor or an agent sees "starting", not a refused connection, while the database is away.
  let waitingFor = 'the API is starting';
  let app: ReturnType<typeof createApp> | undefined;
  const server = serve({
    fetch: (req, env) => {
      if (app) return app.fetch(req, env);
      const health = new URL(req.url).pathname === '/health';
      return Response.json(health ? { status: 'degraded', reason: waitingFor } : { error: { code: 'unavailable', message: `${waitingFor}; try again shortly` } }, { status: 503 });
    },
    hostname: config.DRYDOCK_API_HOST,
    port: config.DRYDOCK_API_PORT,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const database = openDatabase(databaseUrl);
  const where = new URL(databaseUrl).host;
  let temporal: Awaited<ReturnType<typeof connectClient>> | undefined;
  let logBus: Awaited<ReturnType<typeof createLogBus>> | undefined;
  const databaseOutage = outageWatch({ what: `the database at ${where}`, probe: () => sql`select 1`.execute(database.db), say: (line) => console.error(line) });
  try {
    await untilDatabaseAnswers(() => sql`select 1`.execute(database.db), {
      where,
      say: (line) => console.error(line),
      onWait: (reason) => (waitingFor = `the API is starting: the database at ${where} does not answer (${reason})`),
    });
    waitingFor = 'the API is starting';
    await migrateToLatest(database.db);
    const localUser = config.DRYDOCK_AUTH_MODE === 'local' ? await ensureLocalAdmin(database.db, config.DRYDOCK_TEAM, config.DRYDOCK_LOCAL_ADMIN_EMAIL) : undefined;
    temporal = await connectClient(config);
    // Runs are started with Drydock's search attributes; a namespace without them would refuse every start.
    await ensureSearchAttributes(temporal.connection, config.TEMPORAL_NAMESPACE);
    logBus = await createLogBus(database.sql, databaseUrl);
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
    // Before the catalog: the link's team is the one the local catalog belongs to.
    if (config.DRYDOCK_AUTH_MODE === 'accounts') await announceSetupLink(deps);
    await ensureLocalCatalog(deps);
    app = createApp(deps);
  } catch (err) {
    server.close();
    await logBus?.close().catch(() => {});
    await temporal?.close().catch(() => {});
    await database.close().catch(() => {});
    throw err;
  }
  const bus = logBus;
  const client = temporal;
  let closing: Promise<void> | undefined;
  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // SSE clients hold connections open; end them rather than wait.
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    // Postgres may be going down at the same moment (Ctrl-C signals every process): closing is best effort.
    databaseOutage.stop();
    await bus.close().catch(() => {});
    await client.close().catch(() => {});
    await database.close().catch(() => {});
  };
  // Idempotent: Ctrl-C reaches the process directly and again through the launcher.
  return { url: config.apiUrl, close: () => (closing ??= close()) };
}
