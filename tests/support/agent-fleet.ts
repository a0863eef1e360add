import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config, ENVIRONMENTS } from '@drydock/core';
import type { ApiCall } from './first-admin.ts';

type Environment = (typeof ENVIRONMENTS)[number];

/** What agent-fleet.main.ts reads from the file named in its argv. */
export interface FleetSpec {
  /** Holds `<hostId>/state.json` (its token) and `<hostId>/work` (its scripts' work directories). */
  dir: string;
  hosts: { id: string; tags: string[] }[];
  /** Activity polls each host's worker keeps open. */
  pollers: number;
  /** Registrations, first heartbeats and worker creations in flight at once. */
  registerConcurrency: number;
}

type PerHost<T> = T | ((index: number, hostId: string) => T);

export interface AgentFleetOptions {
  count: number;
  /** Host ids are `<prefix>-001` … `<prefix>-<count>`. Default `fleet`. */
  prefix?: string;
  /** Tags each host registers with (index from 1). Default `['fleet']`. */
  tags?: PerHost<string[]>;
  /** Set on each host through `PATCH /api/v1/hosts/:id`, as an admin would; null leaves it unset. */
  environment?: PerHost<Environment | null>;
  group?: PerHost<string | null>;
  /** Jobs one host runs at once (the agent's max_concurrent_jobs). Default: the agent's default, 8. */
  maxConcurrentJobs?: number;
  /** Activity polls per host. Default 1: 500 hosts hold 500 long polls on the Temporal frontend. */
  pollers?: number;
  /** Reuse a stopped or killed fleet's directory: the same hosts come back with their tokens and reap what the dead process left running. */
  dir?: string;
  /** More agent settings for every host, as environment variables (DRYDOCK_AGENT_DEFAULT_TIMEOUT, DRYDOCK_AGENT_HEARTBEAT_INTERVAL, …). */
  env?: Record<string, string>;
  /** Print the fleet's output, prefixed. */
  echo?: boolean;
  readyTimeoutMs?: number;
}

export interface AgentFleet {
  hostIds: string[];
  dir: string;
  pid: number;
  /** From spawn to the ready line: every host registered, beating and polling. */
  startMs: number;
  /** The fleet process's resident memory now, from /proc. */
  rssMb(): Promise<number>;
  /** The last lines the process printed, for a failing test's message. */
  output: string[];
  /** SIGTERM: the workers finish or abandon their jobs within the agent's grace time, then the process exits. */
  stop(): Promise<void>;
  /** SIGKILL, as a crashed machine: nothing is cleaned up, running scripts are orphaned. */
  kill(): Promise<void>;
  /** Removes the directory; after stop or kill. */
  remove(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./agent-fleet.main.ts', import.meta.url));
const READY = /^agent fleet ready:/;

function perHost<T>(value: PerHost<T> | undefined, fallback: T, index: number, hostId: string): T {
  if (value === undefined) return fallback;
  return typeof value === 'function' ? (value as (index: number, hostId: string) => T)(index, hostId) : value;
}

export function fleetHostIds(count: number, prefix = 'fleet'): string[] {
  const width = Math.max(3, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}

/**
 * Starts one real OS process serving `count` simulated agent hosts of `stack`'s Drydock: each registers
 * through the API with the registration secret, heartbeats, and runs the agent's activities on its own
 * `agent-<hostId>` queue. Resolves once every host is polling and has its environment and group set.
 */
export async function startAgentFleet(stack: { config: Config; api: ApiCall }, options: AgentFleetOptions): Promise<AgentFleet> {
  const { config } = stack;
  if (!config.DRYDOCK_AGENT_REGISTRATION_SECRET) throw new Error('the stack has no DRYDOCK_AGENT_REGISTRATION_SECRET, so a fleet cannot register');
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'drydock-fleet-')));
  const hostIds = fleetHostIds(options.count, options.prefix);
  const spec: FleetSpec = {
    dir,
    hosts: hostIds.map((id, i) => ({ id, tags: perHost(options.tags, ['fleet'], i + 1, id) })),
    pollers: options.pollers ?? 1,
    registerConcurrency: 16,
  };
  const specFile = join(dir, 'fleet.json');
  await writeFile(specFile, JSON.stringify(spec));

  // The stack's own settings, so the fleet reaches the same API, Temporal namespace and payload codec as its agent would.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DRYDOCK_DATA_DIR: config.DRYDOCK_DATA_DIR,
    DRYDOCK_API_URL: config.apiUrl,
    TEMPORAL_ADDRESS: config.temporalAddress,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    DRYDOCK_AGENT_REGISTRATION_SECRET: config.DRYDOCK_AGENT_REGISTRATION_SECRET,
    DRYDOCK_CODEC_KEY: config.DRYDOCK_CODEC_KEY,
    DRYDOCK_CODEC_KEY_ID: config.DRYDOCK_CODEC_KEY_ID,
    DRYDOCK_ARTIFACT_MAX_FILE_MB: String(config.DRYDOCK_ARTIFACT_MAX_FILE_MB),
    DRYDOCK_ARTIFACT_MAX_RUN_MB: String(config.DRYDOCK_ARTIFACT_MAX_RUN_MB),
    DRYDOCK_LOG_LEVEL: config.DRYDOCK_LOG_LEVEL,
    DRYDOCK_AGENT_CONFIG: undefined,
    ...(options.maxConcurrentJobs ? { DRYDOCK_AGENT_MAX_CONCURRENT_JOBS: String(options.maxConcurrentJobs) } : {}),
    ...options.env,
  };
  const t0 = performance.now();
  // stdin stays open and unwritten: the fleet stops when it closes, so a dead test leaves no fleet behind.
  const child: ChildProcess = spawn(process.execPath, [ENTRY, specFile], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        output.push(line);
        if (output.length > 500) output.shift();
        if (options.echo) console.log(`[fleet] ${line}`);
        if (READY.test(line)) resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = async (sig: NodeJS.Signals, graceMs?: number) => {
    if (!alive()) return;
    child.kill(sig);
    const timer = graceMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const timeoutMs = options.readyTimeoutMs ?? 60_000 + options.count * 400;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((e) => `exited (${e.signal ?? `code ${e.code}`})`),
    new Promise<string>((r) => (timer = setTimeout(() => r(`not ready within ${timeoutMs / 1000} s`), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    await signal('SIGKILL');
    throw new Error(`agent fleet of ${options.count} hosts ${outcome}:\n${output.slice(-20).join('\n')}`);
  }
  const startMs = performance.now() - t0;

  try {
    await labelHosts(stack.api, hostIds, options);
  } catch (err) {
    await signal('SIGTERM', 10_000);
    throw err;
  }

  return {
    hostIds,
    dir,
    pid: child.pid!,
    startMs,
    output,
    async rssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      return Math.round(Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
    },
    // The agent's shutdown grace is 5 s; past that a fleet that has not exited is killed.
    stop: () => signal('SIGTERM', 15_000),
    kill: () => signal('SIGKILL'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Environment and group are an admin's to set, not the agent's: the fleet's starter sets them through the API. */
async function labelHosts(api: ApiCall, hostIds: string[], options: AgentFleetOptions): Promise<void> {
  if (options.environment === undefined && options.group === undefined) return;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < hostIds.length) {
        const index = next++;
        const id = hostIds[index]!;
        const body = {
          ...(options.environment === undefined ? {} : { environment: perHost(options.environment, null, index + 1, id) }),
          ...(options.group === undefined ? {} : { group: perHost(options.group, null, index + 1, id) }),
        };
        const res = await api(`/api/v1/hosts/${id}`, { method: 'PATCH', json: body });
        if (!res.ok) throw new Error(`setting environment and group of fleet host ${id} failed: HTTP ${res.status} ${await res.text()}`);
      }
    }),
  );
}
