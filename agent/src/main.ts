import { ConfigError, loadConfig } from '@drydock/core';
import { agentQueue, installWorkerRuntime } from '@drydock/temporal';
import { createAgent } from './agent.ts';
import { AgentConfigError, loadAgentSettings } from './agent-config.ts';
import { createAgentLog } from './agent-log.ts';

/** Exit codes a service manager can tell apart (sysexits.h): don't restart into the same refusal. */
const EXIT_TOKEN_REFUSED = 77;
const EXIT_BAD_CONFIG = 78;

try {
  const config = loadConfig();
  const { settings, notes } = await loadAgentSettings(config);
  const log = createAgentLog(settings.logLevel);
  for (const note of notes) log.warn(note);
  installWorkerRuntime({ ...config, DRYDOCK_LOG_LEVEL: settings.logLevel }, { temporalAddress: settings.temporalAddress });

  const agent = await createAgent(config, settings, log);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => agent.shutdown());
  console.log(`agent for host ${agent.identity.hostId} polling "${agentQueue(agent.identity.hostId)}" on ${settings.temporalAddress}`);
  await agent.run();
  if (agent.stopReason) {
    log.error(`agent for host ${agent.identity.hostId} stopped because the API refused its token; give it a new one (token in its config file) to bring it back`);
    process.exitCode = EXIT_TOKEN_REFUSED;
  }
} catch (err) {
  const status = (err as { status?: number }).status;
  console.error(`agent: ${(err as Error).message}`);
  process.exitCode =
    err instanceof ConfigError || err instanceof AgentConfigError ? EXIT_BAD_CONFIG : status === 401 || status === 403 ? EXIT_TOKEN_REFUSED : 1;
}
// Whatever a stopped agent still waits on (a log batch, a socket), it does not outlive its worker for long.
setTimeout(() => process.exit(), 5_000).unref();
