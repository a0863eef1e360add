import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, ConfigError, loadConfig, PortInUseError, REPO_ROOT } from '@drydock/core';
import { TemporalProvisioningError } from '@drydock/temporal';
import { loadOrCreateLocalSecrets } from './secrets.ts';
import { startStack } from './stack.ts';

const log = (line: string) => console.log(`[drydock] ${line}`);

/** Where the API leaves the one-time setup link while no admin exists (api/src/identity-service.ts SETUP_LINK_FILE). */
const SETUP_LINK_FILE = 'setup-link';

/** What a newcomer does next: follow the setup link while there is no admin, else sign in; the local mode says it is open. */
async function nextSteps(c: Config): Promise<string[]> {
  if (c.DRYDOCK_AUTH_MODE === 'local') {
    return ['Local mode (DRYDOCK_AUTH_MODE=local): every request from this machine acts as the admin; nobody signs in.', ''];
  }
  const file = join(c.DRYDOCK_DATA_DIR, SETUP_LINK_FILE);
  const link = await readFile(file, 'utf8').then((t) => t.trim(), () => '');
  if (!link) return [`Sign in at ${c.publicUrl}/sign-in. No account yet? Ask an admin of your team for a link.`, ''];
  const rule = '='.repeat(78);
  return [
    rule,
    'FIRST START: there is no admin yet, and nobody can sign in.',
    "Open this one-time link in your browser, set the first admin's email and password, and sign in:",
    '',
    `    ${link}`,
    '',
    `It works once, for 24 hours; until it is used it is also in ${file}, and each start makes a new one.`,
    rule,
    '',
  ];
}

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
      ...(await nextSteps(c)),
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
