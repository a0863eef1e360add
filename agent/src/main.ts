import { loadConfig } from '@drydock/core';
import { agentQueue, installWorkerRuntime } from '@drydock/temporal';
import { createAgent } from './agent.ts';

const config = loadConfig();
installWorkerRuntime(config);
const agent = await createAgent(config);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => agent.shutdown());
console.log(`agent for host ${agent.identity.hostId} polling "${agentQueue(agent.identity.hostId)}" on ${config.temporalAddress}`);
await agent.run();
