import { loadConfig } from '@drydock/core';
import { CENTRAL_QUEUE } from './names.ts';
import { installWorkerRuntime } from './runtime.ts';
import { createCentralWorker } from './worker.ts';

const config = loadConfig();
installWorkerRuntime(config);
if (!config.DATABASE_URL) throw new Error('the central worker needs DATABASE_URL');
const worker = await createCentralWorker(config, config.DATABASE_URL);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
console.log(`central worker polling "${CENTRAL_QUEUE}" on ${config.temporalAddress}`);
await worker.run();
