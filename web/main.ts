import { loadConfig, logStrayErrors } from '@drydock/core';
import { startWebServer } from './server.ts';

try {
  const server = await startWebServer(loadConfig());
  logStrayErrors('web');
  console.log(`Drydock web UI listening on ${server.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  console.error(`drydock web: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
