import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '@drydock/core';
import type { AgentHeartbeat } from '@drydock/core/run-contract';
import { agentQueue, dataConverterFromConfig } from '@drydock/temporal';
import {
  AGENT_VERSION,
  type AgentIdentity,
  type AgentSettings,
  apiLink,
  AttemptJournal,
  createAgentActivities,
  createAgentLog,
  hasProcessLimits,
  hostMetrics,
  jobPolicy,
  loadAgentSettings,
  locatePrlimit,
  obtainIdentity,
  postHeartbeat,
  journalDir,
  reapOrphans,
  refusal,
} from '@drydock/agent';
import { captureLimits } from '../../agent/src/capture.ts';
import { artifactUploader } from '../../agent/src/capture-upload.ts';
import { scriptFetcher } from '../../agent/src/script-fetch.ts';
import type { FleetSpec } from './agent-fleet.ts';

// One OS process serving many simulated hosts: each registers like an agent, heartbeats like one and runs
// the agent's own activities on its own `agent-<hostId>` queue. Only the Temporal connection is shared.
// Started by startAgentFleet (agent-fleet.ts) with the stack's settings in the environment and the spec file as argv[2].

const READY_LINE = 'agent fleet ready:';

/** Runs `task` over `items` with at most `limit` at a time: the API and Temporal see a steady stream, not a burst of 500. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i]!, i);
      }
    }),
  );
}

interface FleetHost {
  settings: AgentSettings;
  identity: AgentIdentity;
  jobs: { running: number };
  refused: AbortController;
  journal?: AttemptJournal;
  worker?: Worker;
  beat(): Promise<void>;
}

const started = performance.now();
const config = loadConfig();
const spec = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as FleetSpec;
// The settings a lone agent would read from this environment (timeouts, allowed commands, limits); each host then gets its own name, tags and directories.
const { settings: base, notes } = await loadAgentSettings(config);
const log = createAgentLog(base.logLevel);
for (const note of notes) log.warn(note);
// The agent's SDK log level, less the one line each activity-only worker prints at start: 500 of them say nothing.
Runtime.install({
  logger: new DefaultLogger(base.logLevel === 'debug' ? 'DEBUG' : base.logLevel === 'error' ? 'ERROR' : 'WARN', (entry) => {
    if (!entry.message.startsWith('No workflows registered')) console.error(`${entry.level}: ${entry.message}${entry.meta ? ` ${inspect(entry.meta, { breakLength: Infinity })}` : ''}`);
  }),
});
const prlimit = hasProcessLimits(base.limits) ? await locatePrlimit() : undefined;
// One process, one network path to the API: an outage is said once for the fleet, not once per host.
const link = apiLink(base.apiUrl, log);

/** In the spec's order, whatever order the registrations finished in. */
const hosts: FleetHost[] = [];
let stopping = false;
const stopHost = (host: FleetHost) => {
  if (host.worker?.getState() === 'RUNNING') host.worker.shutdown();
};
const shutdown = () => {
  stopping = true;
  for (const host of hosts) if (host) stopHost(host);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, shutdown);
// The starter holds our stdin open and never writes: its end means the test or bench died (even by kill -9), and the fleet goes with it.
process.stdin.once('end', shutdown).resume();

await eachLimited(spec.hosts, spec.registerConcurrency, async (h, index) => {
  if (stopping) return;
  const dir = join(spec.dir, h.id);
  const settings: AgentSettings = { ...base, hostName: h.id, tags: h.tags, stateFile: join(dir, 'state.json'), workDir: join(dir, 'work') };
  // A fleet restarted on the same directory finds its tokens in the state files, as a restarted agent does.
  const identity = await obtainIdentity({
    apiUrl: settings.apiUrl,
    hostName: settings.hostName,
    stateFile: settings.stateFile,
    registrationSecret: settings.registrationSecret,
    tags: settings.tags,
    log: log.info,
  });
  await mkdir(settings.workDir, { recursive: true, mode: 0o700 });
  for (const orphan of await reapOrphans(settings.workDir)) {
    log.warn(`${h.id}: ended the work of a previous fleet process: ${orphan.dir}${orphan.killed ? ` (killed process group ${orphan.pgid})` : ''}`);
  }
  const host: FleetHost = {
    settings,
    identity,
    jobs: { running: 0 },
    refused: new AbortController(),
    // The agent's heartbeat: liveness, tags and the machine's figures; a 401 stops this host as it stops an agent.
    async beat() {
      const body: AgentHeartbeat = { tags: settings.tags, ...(await hostMetrics(settings.workDir, host.jobs.running).catch(() => ({}))) };
      const res = await postHeartbeat(settings.apiUrl, identity.token, body, link);
      if (!res) return;
      if (res.status === 401 && !host.refused.signal.aborted) {
        log.error(`the API refused the token of host ${h.id} (${await refusal(res)}); this host takes no more runs`);
        host.refused.abort();
        stopHost(host);
        return;
      }
      await res.body?.cancel();
      if (!res.ok) log.warn(`${h.id}: heartbeat answered HTTP ${res.status}`);
    },
  };
  hosts[index] = host;
});
if (stopping) process.exit(0);

// The first beat of every host before "ready": the hosts list shows them all online from the start.
await eachLimited(hosts, spec.registerConcurrency, (host) => host.beat());

const connection = await NativeConnection.connect({ address: config.temporalAddress });
const dataConverter = dataConverterFromConfig(config);
const limits = captureLimits(config);
await eachLimited(hosts, spec.registerConcurrency, async (host) => {
  const { settings, identity } = host;
  host.journal = new AttemptJournal({
    dir: journalDir(settings.stateFile, identity.hostId),
    shipping: { apiUrl: settings.apiUrl, token: identity.token, log: log.warn, onUnauthorized: () => void host.beat(), stop: host.refused.signal, link },
    log,
  });
  await host.journal.resume();
  host.worker = await Worker.create({
    connection,
    namespace: settings.temporalNamespace,
    taskQueue: agentQueue(identity.hostId),
    identity: `drydock-agent/${AGENT_VERSION}@${identity.hostId}`,
    activities: createAgentActivities({
      hostId: identity.hostId,
      workDir: settings.workDir,
      policy: jobPolicy(settings, prlimit),
      jobs: host.jobs,
      fetchScript: scriptFetcher({ apiUrl: settings.apiUrl, token: () => identity.token }),
      capture: { upload: artifactUploader({ apiUrl: settings.apiUrl, token: () => identity.token }), limits },
      journal: host.journal,
    }),
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentJobs,
    // SDK 1.24 ignores maxConcurrentActivityTaskPolls; without this each host holds min(10, jobs) long polls, and
    // the frontend refuses polls past 1,200 per namespace (frontend.namespaceCount): 150 hosts, not 500.
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: Math.min(spec.pollers, settings.maxConcurrentJobs) },
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
    shutdownGraceTime: '5 seconds',
    dataConverter,
  });
});

const running = hosts.map((host) =>
  host.worker!.run().catch((err: Error) => {
    log.error(`${host.identity.hostId}: worker stopped: ${err.message}`);
  }),
);
if (stopping) shutdown();

// Beats spread evenly over the interval, as independent agents' would be, rather than all at once.
const interval = base.heartbeatIntervalMs;
const timers: NodeJS.Timeout[] = [];
hosts.forEach((host, i) => {
  const next = (delay: number) => {
    timers[i] = setTimeout(() => {
      void host.beat().finally(() => {
        if (!stopping && !host.refused.signal.aborted) next(interval);
      });
    }, delay);
  };
  next(Math.round(((i + 1) / hosts.length) * interval));
});

const rssMb = Math.round(process.memoryUsage.rss() / 2 ** 20);
const first = hosts[0]?.identity.hostId;
const last = hosts.at(-1)?.identity.hostId;
console.log(`${READY_LINE} ${hosts.length} hosts (${first}…${last}) polling agent-<hostId> in ${Math.round(performance.now() - started)} ms, rss ${rssMb} MiB`);

await Promise.all(running);
for (const timer of timers) clearTimeout(timer);
process.stdin.destroy();
await connection.close();
console.log('agent fleet stopped');
// Whatever a stopped host still waits on (a log batch, a socket), the process does not outlive its workers for long.
setTimeout(() => process.exit(), 5_000).unref();
