import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '@drydock/core';
import { agentQueue, codecFromConfig } from '@drydock/temporal';
import { createAgentActivities } from './activities.ts';
import { AGENT_VERSION, type AgentIdentity, obtainIdentity } from './identity.ts';

export interface Agent {
  identity: AgentIdentity;
  run(): Promise<void>;
  shutdown(): void;
}

const HOST_HEARTBEAT_MS = 10_000;

/** A per-host Temporal worker: registers with the API, then polls `agent-<hostId>` and runs what arrives. */
export async function createAgent(config: Config, log: (message: string) => void = console.log): Promise<Agent> {
  const hostName = config.DRYDOCK_AGENT_HOST;
  const identity = await obtainIdentity({
    apiUrl: config.apiUrl,
    hostName,
    stateFile: config.DRYDOCK_AGENT_STATE_FILE ?? join(config.DRYDOCK_DATA_DIR, 'agents', `${hostName}.json`),
    registrationSecret: config.DRYDOCK_AGENT_REGISTRATION_SECRET,
    tags: config.DRYDOCK_AGENT_TAGS,
    log,
  });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const codec = codecFromConfig(config);
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: agentQueue(identity.hostId),
    identity: `drydock-agent/${AGENT_VERSION}@${identity.hostId}`,
    activities: createAgentActivities({
      hostId: identity.hostId,
      workDir: config.DRYDOCK_AGENT_WORK_DIR ?? join(tmpdir(), 'drydock-agent', identity.hostId),
      shipper: { apiUrl: config.apiUrl, token: identity.token, log },
    }),
    maxConcurrentActivityTaskExecutions: config.DRYDOCK_AGENT_MAX_CONCURRENT_JOBS,
    // Cancellation reaches an activity only in a heartbeat response: keep that round trip short.
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
    shutdownGraceTime: '5 seconds',
    dataConverter: codec ? { payloadCodecs: [codec] } : undefined,
  });

  const beat = async () => {
    try {
      const res = await fetch(`${config.apiUrl}/api/v1/agent/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${identity.token}`, 'content-type': 'application/json' },
        // Tags travel with every beat, so a changed DRYDOCK_AGENT_TAGS takes effect without registering again.
        body: JSON.stringify({ tags: config.DRYDOCK_AGENT_TAGS }),
        signal: AbortSignal.timeout(5_000),
      });
      await res.body?.cancel();
      if (res.status === 401) log(`the API no longer accepts this agent's token for host ${identity.hostId}`);
    } catch {
      // The API is down; Temporal keeps the runs going and the next beat reports liveness again.
    }
  };
  void beat();
  const heartbeat = setInterval(() => void beat(), HOST_HEARTBEAT_MS);

  return {
    identity,
    async run() {
      try {
        await worker.run();
      } finally {
        clearInterval(heartbeat);
        await connection.close();
      }
    },
    shutdown() {
      // Ctrl-C reaches the process directly and again through the launcher: the second request is a no-op.
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
