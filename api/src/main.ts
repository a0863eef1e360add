import { loadConfig, logStrayErrors } from '@drydock/core';
import { startApiServer } from './server.ts';

const config = loadConfig();
if (!config.DATABASE_URL) throw new Error('the API needs DATABASE_URL');
const api = await startApiServer(config, config.DATABASE_URL);
logStrayErrors('api');
console.log(`API listening on ${api.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void api.close().then(() => process.exit(0)));
}
