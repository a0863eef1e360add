import { join } from 'node:path';
import { ConfigError, loadConfig, PortInUseError, REPO_ROOT } from '@drydock/core';
import { TemporalProvisioningError } from '@drydock/temporal';
import { loadOrCreateLocalSecrets } from './secrets.ts';
import { startStack } from './stack.ts';

const log = (line: string) => console.log(`[drydock] ${line}`);

try {
  const base = loadConfig();
  const secrets = await loadOrCreateLocalSecrets(join(base.DRYDOCK_DATA_DIR, 'secrets.json'));
  const env = {
    ...process.env,
    DRYDOCK_AGENT_REGISTRATION_SECRET: process.env.DRYDOCK_AGENT_REGISTRATION_SECRET ?? secrets.registrationSecret,
    DRYDOCK_CODEC_KEY: process.env.DRYDOCK_CODEC_KEY ?? secrets.codecKey,
    DRYDOCK_MASTER_KEY: process.env.DRYDOCK_MASTER_KEY ?? secrets.masterKey,
    DRYDOCK_CATALOG_DIR: process.env.DRYDOCK_CATALOG_DIR ?? join(REPO_ROOT, 'examples/scripts-repo'),
  };
  const stack = await startStack({ env, echo: true, restart: true, log });
  const c = stack.config;
  console.log(
    [
      '',
      'Drydock is up.',
      `  Web UI         ${c.webUrl}`,
      `  API            ${c.apiUrl}/api/v1  (reference: ${c.apiUrl}/api/v1/docs)`,
      `  Temporal Web   ${c.temporalUiUrl}`,
      `  Temporal       ${stack.temporalAddress}${stack.devServer ? ' (dev server, data in .data/temporal.db)' : ''}`,
      `  PostgreSQL     ${stack.postgres ? `embedded, data in ${join(c.DRYDOCK_DATA_DIR, 'postgres')}` : 'DATABASE_URL'}`,
      `  Agent          host "${c.DRYDOCK_AGENT_HOST}"`,
      'Ctrl-C stops everything; data stays for the next start.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    await stack.stop();
    log('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
} catch (err) {
  if (err instanceof ConfigError || err instanceof PortInUseError || err instanceof TemporalProvisioningError) {
    console.error(`drydock: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
