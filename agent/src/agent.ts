import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Config } from '@drydock/core';
import type { AgentHeartbeat } from '@drydock/core/run-contract';
import { agentQueue, dataConverterFromConfig } from '@drydock/temporal';
import { createAgentActivities } from './activities.ts';
import { apiLink, postHeartbeat } from './api-link.ts';
import { AttemptJournal } from './attempt-journal.ts';
import { reapOrphans } from './script-runner.ts';
import { captureLimits } from './capture.ts';
import { artifactUploader } from './capture-upload.ts';
import { scriptFetcher } from './script-fetch.ts';
import { secretFetcher } from './secret-fetch.ts';
import { type AgentSettings, agentPolls } from './agent-config.ts';
import type { AgentLog } from './agent-log.ts';
import { hostMetrics } from './host-metrics.ts';
import { AGENT_VERSION, type AgentIdentity, obtainIdentity, refusal, rotateToken } from './identity.ts';
import { jobPolicy } from './job-policy.ts';
import { hasProcessLimits, locatePrlimit } from './resource-limits.ts';


export interface Agent {
  readonly identity: AgentIdentity;
  run(): Promise<void>;
  shutdown(): void;
  /** Swaps the agent's token for a new one; the old one stops working at once. */
  rotateToken(): Promise<void>;
  /** Set when the agent stopped itself because the API refused its token, saying why. */
  readonly stopReason: string | undefined;
}

/**
 * A per-host Temporal worker: registers with the API, then polls `agent-<hostId>` and runs what arrives.
 * The moment the API refuses its token (revoked, or replaced) it stops polling, so it takes no more runs.
 */
export async function createAgent(config: Config, settings: AgentSettings, log: AgentLog): Promise<Agent> {
  // Checked before registering: an agent that cannot apply its limits must not take runs. Windows has no
  // prlimit: there, the runs it takes say in their logs which limits do not hold.
  const windows = process.platform === 'win32';
  const prlimit = !windows && hasProcessLimits(settings.limits) ? await locatePrlimit() : undefined;
  const policy = jobPolicy(settings, prlimit);
  if (policy.notEnforced) log.warn(policy.notEnforced);
  let current = await obtainIdentity({
    apiUrl: settings.apiUrl,
    hostName: settings.hostName,
    stateFile: settings.stateFile,
    token: settings.token,
    registrationSecret: settings.registrationSecret,
    tags: settings.tags,
    log: log.info,
  });
  const hostId = current.hostId;
  await mkdir(settings.workDir, { recursive: true, mode: 0o700 });
  for (const orphan of await reapOrphans(settings.workDir)) {
    const what = windows ? `process ${orphan.pgid} and the processes it started` : `process group ${orphan.pgid}`;
    log.warn(`ended the work of a previous agent process: ${orphan.dir}${orphan.killed ? ` (killed ${what})` : ''}`);
  }

  const refused = new AbortController();
  const jobs = { running: 0 };
  let stopReason: string | undefined;
  let rotating: Promise<void> | undefined;
  const link = apiLink(settings.apiUrl, log);
  const journal = new AttemptJournal({
    dir: journalDir(settings.stateFile, hostId),
    shipping: { apiUrl: settings.apiUrl, token: () => current.token, log: log.warn, onUnauthorized: (token) => void confirmAccess(token), stop: refused.signal, link },
    log,
  });

  const connection = await NativeConnection.connect({ address: settings.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: settings.temporalNamespace,
    taskQueue: agentQueue(hostId),
    identity: `drydock-agent/${AGENT_VERSION}@${hostId}`,
    activities: createAgentActivities({
      hostId,
      workDir: settings.workDir,
      policy,
      jobs,
      fetchScript: scriptFetcher({ apiUrl: settings.apiUrl, token: () => current.token }),
      fetchSecrets: secretFetcher({ apiUrl: settings.apiUrl, token: () => current.token }),
      capture: { upload: artifactUploader({ apiUrl: settings.apiUrl, token: () => current.token }), limits: captureLimits(config) },
      journal,
    }),
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentJobs,
    // Polls grow with job slots, slowly: Temporal's frontend allows 1,200 per namespace, shared by every agent.
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: agentPolls(settings.maxConcurrentJobs) },
    // Cancellation reaches an activity only in a heartbeat response: keep that round trip short.
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
    shutdownGraceTime: '5 seconds',
    dataConverter: dataConverterFromConfig(config),
  });

  const shutdown = () => {
    // Ctrl-C reaches the process directly and again through the launcher: the second request is a no-op.
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };

  /** The API refused `token`: stop, unless that token was rotated away meanwhile. */
  const onRefused = async (token: string, reason: string) => {
    if (rotating) await rotating;
    if (token !== current.token || stopReason) return;
    stopReason = reason;
    log.error(`the API refused this agent's token for host ${hostId} (${reason}); stopping: this agent takes no more runs`);
    refused.abort();
    shutdown();
  };

  let liveOnly = false;
  const beat = async (): Promise<void> => {
    const token = current.token;
    const metrics = liveOnly ? {} : await hostMetrics(settings.workDir, jobs.running).catch(() => ({}));
    const body: AgentHeartbeat = { tags: settings.tags, ...metrics };
    const res = await postHeartbeat(settings.apiUrl, token, body, link);
    if (!res) return;
    if (res.status === 401) return onRefused(token, await refusal(res));
    if (res.status === 400 && !liveOnly) {
      // An API older than this agent knows no host metrics: liveness matters more than figures.
      liveOnly = true;
      log.warn(`the API does not take host metrics (${await refusal(res)}); sending liveness only`);
      return beat();
    }
    await res.body?.cancel();
    if (!res.ok) log.warn(`heartbeat answered HTTP ${res.status}`);
  };

  let checking: Promise<void> | undefined;
  /** A 401 on a log batch: ask at once rather than at the next beat whether the token is still good. */
  const confirmAccess = (token: string) => {
    if (token !== current.token || stopReason) return;
    checking ??= beat()
      .catch((err: Error) => log.warn(`heartbeat failed: ${err.message}`))
      .finally(() => (checking = undefined));
  };

  const rotate = (): Promise<void> =>
    (rotating ??= (async () => {
      try {
        current = await rotateToken({ apiUrl: settings.apiUrl, stateFile: settings.stateFile, identity: current });
        log.info(`rotated the agent token of host ${hostId}; the old one no longer works`);
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 401) {
          rotating = undefined;
          return onRefused(current.token, (err as Error).message);
        }
        log.warn(`could not rotate the agent token of host ${hostId}: ${(err as Error).message}; keeping the current one`);
      } finally {
        rotating = undefined;
      }
    })());

  return {
    get identity() {
      return current;
    },
    get stopReason() {
      return stopReason;
    },
    rotateToken: rotate,
    shutdown,
    async run() {
      const resumed = await journal.resume().catch((err: Error) => {
        log.warn(`could not read the attempt journal in ${journal.dir}: ${err.message}`);
        return [];
      });
      if (resumed.length > 0) log.info(`sending the log lines of ${resumed.length} attempt(s) that a previous agent process could not deliver`);
      const running = worker.run();
      let stopped = false;
      let beatTimer: NodeJS.Timeout | undefined;
      const loop = async () => {
        await beat().catch((err: Error) => log.warn(`heartbeat failed: ${err.message}`));
        if (!stopped) beatTimer = setTimeout(() => void loop(), settings.heartbeatIntervalMs);
      };
      void loop();
      const rotation = settings.tokenRotationMs ? setInterval(() => void rotate(), settings.tokenRotationMs) : undefined;
      const sweep = setInterval(() => void journal.sweep().catch(() => {}), 3_600_000);
      try {
        await running;
      } finally {
        stopped = true;
        clearTimeout(beatTimer);
        clearInterval(rotation);
        clearInterval(sweep);
        await connection.close();
      }
    },
  };
}

/** Where an agent keeps its attempts' journal: beside its state file, which outlives reboots, unlike temp_dir. */
export function journalDir(stateFile: string, hostId: string): string {
  return join(dirname(stateFile), 'journal', hostId);
}
