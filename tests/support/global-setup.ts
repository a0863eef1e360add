import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, REPO_ROOT } from '@drydock/core';
import { type PostgresHandle, startEmbeddedPostgres } from '@drydock/launcher';
import { type DevServer, provisionTemporalBinary, startDevServer } from '@drydock/temporal';

/**
 * One real Temporal dev server (in memory, from the existing binary, never a download) and one real
 * PostgreSQL for the whole run; each test file gets its own database and Temporal namespace on them.
 */
export default async function setup(project: TestProject) {
  const bin = await provisionTemporalBinary({ dataDir: join(REPO_ROOT, '.data'), log: console.log });
  const devServer: DevServer = await startDevServer({ bin, port: await freePort(), headless: true });

  let pg: PostgresHandle | undefined;
  let pgDir: string | undefined;
  let serverUrl: string;
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = '/';
    serverUrl = url.toString().replace(/\/$/, '');
  } else {
    pgDir = await mkdtemp(join(tmpdir(), 'drydock-pg-'));
    // As root, Postgres runs as the `postgres` user, which must be able to reach its data directory.
    await chmod(pgDir, 0o755);
    pg = await startEmbeddedPostgres({ dir: join(pgDir, 'data'), port: await freePort() });
    serverUrl = pg.serverUrl;
  }

  project.provide('temporalAddress', devServer.address);
  project.provide('temporalBin', bin);
  project.provide('postgresServerUrl', serverUrl);

  return async () => {
    await devServer.stop();
    await pg?.stop();
    if (pgDir) await rm(pgDir, { recursive: true, force: true });
  };
}
