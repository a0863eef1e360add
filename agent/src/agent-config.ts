import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { AGENT_HOST_PATTERN, type Config, type RawConfig } from '@drydock/core';

/** The hosts list shows an agent offline after 30 s without a heartbeat; beats must come well within that. */
const MAX_HEARTBEAT_SECONDS = 25;
/** Node's timers reach 24.8 days at most. */
const MAX_ROTATION_HOURS = 24 * 24;

/** A list in the file, or comma-separated text in an environment variable. */
function list<T extends z.ZodType>(item: T, what: string) {
  return z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
    z.array(item, { error: `must be a list of ${what}` }).min(1, { error: `must name at least one ${what.replace(/s$/, '')}; leave the setting out to have no list` }),
  );
}

/** A number in the file, or its text in an environment variable. */
function number(what: string, check: (n: z.ZodNumber) => z.ZodNumber) {
  return z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v), check(z.number({ error: `must be ${what}` })));
}

const wholeSeconds = (what: string, max = 86_400 * 7) =>
  number(`a whole number of seconds (${what}), from 1 to ${max}`, (n) => n.int({ error: `must be a whole number of seconds (${what})` }).min(1).max(max));
const absolutePath = (what: string, example: string) =>
  z.string({ error: `must be ${what}` }).refine(isAbsolute, { error: `must be an absolute path (${what}), such as ${example}` });

/**
 * The agent's settings, as its config file (`DRYDOCK_AGENT_CONFIG`, YAML or JSON) spells them. The same
 * schema parses the environment variables that stand for each key, so both follow one set of rules.
 */
export const AgentConfigSchema = z.strictObject({
  server_id: z.string({ error: 'must be the host name, as text' }).regex(AGENT_HOST_PATTERN, {
    error: 'must be the host name in lower case: letters, digits and "-", starting with a letter or digit, at most 63 characters',
  }),
  backend_url: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of the Drydock API, such as https://drydock.example.com' }),
  token: z.string({ error: 'must be an agent token, as text' }).regex(/^dda_\S+$/, { error: 'must be an agent token (it starts with dda_)' }),
  registration_secret: z.string({ error: 'must be the registration secret, as text' }).min(16, { error: 'must be the registration secret the Drydock UI shows (at least 16 characters)' }),
  tags: z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v), z.array(z.string().min(1).max(64), { error: 'must be a list of tags' })),
  temporal_address: z.string({ error: 'must be host:port of the Temporal frontend' }).regex(/^\S+:\d+$/, { error: 'must be host:port of the Temporal frontend, such as temporal.example.com:7233' }),
  temporal_namespace: z.string({ error: 'must be a Temporal namespace, as text' }).min(1),
  state_file: absolutePath('where the agent keeps its host id and token', '/var/lib/drydock-agent/state.json'),
  max_concurrent_jobs: number('a whole number of jobs, at least 1', (n) => n.int({ error: 'must be a whole number of jobs' }).min(1).max(1_000)),
  default_timeout: wholeSeconds('for a job that carries no timeout of its own'),
  temp_dir: absolutePath('where scripts are written and run', '/var/tmp/drydock'),
  log_level: z.enum(['debug', 'info', 'warn', 'error'], { error: 'must be one of debug, info, warn, error' }),
  heartbeat_interval: number(`seconds between heartbeats, from 0.1 to ${MAX_HEARTBEAT_SECONDS}`, (n) =>
    n.min(0.1, { error: 'must be at least 0.1 seconds' }).max(MAX_HEARTBEAT_SECONDS, { error: `must be at most ${MAX_HEARTBEAT_SECONDS} seconds: the hosts list shows an agent offline after 30 s without a heartbeat` }),
  ),
  token_rotation_hours: number('hours between token rotations, more than 0', (n) =>
    n.positive({ error: 'must be more than 0 hours' }).max(MAX_ROTATION_HOURS, { error: `must be at most ${MAX_ROTATION_HOURS} hours (24 days)` }),
  ),
  allowed_commands: list(
    z.string().min(1).refine((c) => !/\s/.test(c), { error: 'a command is one word: a name found on PATH (bash) or an absolute path (/usr/bin/bash)' }),
    'commands',
  ),
  forbidden_paths: list(absolutePath('a file or directory jobs may not name', '/etc/shadow'), 'paths'),
  resource_limits: z.strictObject(
    {
      cpu_seconds: wholeSeconds('of CPU time per process'),
      memory_mb: number('a whole number of megabytes of address space, at least 16', (n) => n.int({ error: 'must be a whole number of megabytes' }).min(16).max(16 * 1024 * 1024)),
      max_execution_seconds: wholeSeconds('of wall-clock time per job'),
      max_processes: number('a whole number of processes, at least 1', (n) => n.int({ error: 'must be a whole number of processes' }).min(1).max(1_000_000)),
    },
    { error: 'must be a mapping of cpu_seconds, memory_mb, max_execution_seconds, max_processes' },
  ).partial(),
}).partial();

export type AgentConfigFile = z.infer<typeof AgentConfigSchema>;
type Key = Exclude<keyof AgentConfigFile, 'resource_limits'> | `resource_limits.${keyof NonNullable<AgentConfigFile['resource_limits']>}`;

/** Each file key and the environment variable that stands for it. */
export const AGENT_SETTINGS: readonly { key: Key; env: keyof RawConfig }[] = [
  { key: 'server_id', env: 'DRYDOCK_AGENT_HOST' },
  { key: 'backend_url', env: 'DRYDOCK_API_URL' },
  { key: 'token', env: 'DRYDOCK_AGENT_TOKEN' },
  { key: 'registration_secret', env: 'DRYDOCK_AGENT_REGISTRATION_SECRET' },
  { key: 'tags', env: 'DRYDOCK_AGENT_TAGS' },
  { key: 'temporal_address', env: 'TEMPORAL_ADDRESS' },
  { key: 'temporal_namespace', env: 'TEMPORAL_NAMESPACE' },
  { key: 'state_file', env: 'DRYDOCK_AGENT_STATE_FILE' },
  { key: 'max_concurrent_jobs', env: 'DRYDOCK_AGENT_MAX_CONCURRENT_JOBS' },
  { key: 'default_timeout', env: 'DRYDOCK_AGENT_DEFAULT_TIMEOUT' },
  { key: 'temp_dir', env: 'DRYDOCK_AGENT_WORK_DIR' },
  { key: 'log_level', env: 'DRYDOCK_LOG_LEVEL' },
  { key: 'heartbeat_interval', env: 'DRYDOCK_AGENT_HEARTBEAT_INTERVAL' },
  { key: 'token_rotation_hours', env: 'DRYDOCK_AGENT_TOKEN_ROTATION_HOURS' },
  { key: 'allowed_commands', env: 'DRYDOCK_AGENT_ALLOWED_COMMANDS' },
  { key: 'forbidden_paths', env: 'DRYDOCK_AGENT_FORBIDDEN_PATHS' },
  { key: 'resource_limits.cpu_seconds', env: 'DRYDOCK_AGENT_CPU_SECONDS' },
  { key: 'resource_limits.memory_mb', env: 'DRYDOCK_AGENT_MEMORY_MB' },
  { key: 'resource_limits.max_execution_seconds', env: 'DRYDOCK_AGENT_MAX_EXECUTION_SECONDS' },
  { key: 'resource_limits.max_processes', env: 'DRYDOCK_AGENT_MAX_PROCESSES' },
];

export interface ResourceLimits {
  cpuSeconds?: number;
  memoryMb?: number;
  maxExecutionSeconds?: number;
  maxProcesses?: number;
}

/** Everything the agent runs by, merged from its config file and the environment, defaults filled in. */
export interface AgentSettings {
  hostName: string;
  apiUrl: string;
  token?: string;
  registrationSecret?: string;
  tags: string[];
  temporalAddress: string;
  temporalNamespace: string;
  stateFile: string;
  maxConcurrentJobs: number;
  defaultTimeoutSeconds: number;
  workDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  heartbeatIntervalMs: number;
  tokenRotationMs?: number;
  allowedCommands?: string[];
  forbiddenPaths: string[];
  limits: ResourceLimits;
  /** Where a setting's value came from (`/etc/drydock/agent.yaml` or `DRYDOCK_AGENT_CPU_SECONDS`), for messages. */
  sourceOf(key: Key): string;
}

export class AgentConfigError extends Error {}

const DEFAULT_TIMEOUT_SECONDS = 300;
const DEFAULT_HEARTBEAT_SECONDS = 10;

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

function getPath(obj: Record<string, unknown>, key: Key): unknown {
  const [head, tail] = key.split('.') as [string, string | undefined];
  const v = obj[head];
  return tail === undefined ? v : v && typeof v === 'object' ? (v as Record<string, unknown>)[tail] : undefined;
}

function setPath(obj: Record<string, unknown>, key: Key, value: unknown): void {
  const [head, tail] = key.split('.') as [string, string | undefined];
  if (tail === undefined) obj[head] = value;
  else ((obj[head] ??= {}) as Record<string, unknown>)[tail] = value;
}

async function readConfigFile(file: string): Promise<{ raw: unknown; mode: number }> {
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mode)]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read by the agent’s user' : (err as Error).message;
    throw new AgentConfigError(`agent config file ${file} (DRYDOCK_AGENT_CONFIG) ${why}; fix the path, or unset DRYDOCK_AGENT_CONFIG to run on environment variables alone`);
  }
  try {
    const raw: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    // An empty YAML file is null: no settings, as valid as none at all.
    return { raw: raw ?? {}, mode };
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    const first = (err as Error).message.split('\n')[0];
    throw new AgentConfigError(`agent config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}${where}: ${first}`);
  }
}

function issues(error: z.ZodError, name: (path: string) => string): string[] {
  return error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      const known = path ? Object.keys(AgentConfigSchema.shape.resource_limits.unwrap().shape) : Object.keys(AgentConfigSchema.shape);
      return `${name(path ? `${path}.${i.keys[0]}` : i.keys.join(', '))}: not a setting the agent knows; the ${path || 'top-level'} keys are ${known.join(', ')}`;
    }
    return `${name(path)}: ${i.message}`;
  });
}

/**
 * Reads the agent's settings once, at start: the config file named by DRYDOCK_AGENT_CONFIG (if any), then
 * the environment. A setting given in both takes the environment's value, and `notes` says so.
 */
export async function loadAgentSettings(config: Config): Promise<{ settings: AgentSettings; notes: string[] }> {
  const file = config.DRYDOCK_AGENT_CONFIG;
  const notes: string[] = [];
  const problems: string[] = [];

  let fromFile: AgentConfigFile = {};
  if (file) {
    const { raw, mode } = await readConfigFile(file);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new AgentConfigError(`agent config file ${file} must hold a mapping of settings (server_id: …, backend_url: …), not ${Array.isArray(raw) ? 'a list' : typeof raw}`);
    }
    const parsed = AgentConfigSchema.safeParse(raw);
    if (parsed.success) fromFile = parsed.data;
    else problems.push(...issues(parsed.error, (path) => `${file}: ${path}`));
    const secrets = ['token', 'registration_secret'].filter((k) => k in raw);
    if (secrets.length > 0 && (mode & 0o077) !== 0) {
      notes.push(`${file} holds ${secrets.join(' and ')} but others can read it (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`);
    }
  }

  const rawEnv: Record<string, unknown> = {};
  for (const { key, env } of AGENT_SETTINGS) if (config.fromEnv.has(env)) setPath(rawEnv, key, config[env]);
  let fromEnv: AgentConfigFile = {};
  const parsedEnv = AgentConfigSchema.safeParse(rawEnv);
  if (parsedEnv.success) fromEnv = parsedEnv.data;
  else problems.push(...issues(parsedEnv.error, (path) => AGENT_SETTINGS.find((s) => path === s.key || path.startsWith(`${s.key}.`))?.env ?? path));

  if (problems.length > 0) {
    throw new AgentConfigError(`the agent's settings are invalid; fix these and start it again:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }

  const source = new Map<Key, string>();
  const merged: Record<string, unknown> = {};
  for (const { key, env } of AGENT_SETTINGS) {
    const envValue = getPath(fromEnv, key);
    const fileValue = getPath(fromFile, key);
    if (envValue !== undefined) {
      setPath(merged, key, envValue);
      source.set(key, env);
      if (fileValue !== undefined && JSON.stringify(fileValue) !== JSON.stringify(envValue)) {
        notes.push(`${env} from the environment overrides ${key} in ${file}`);
      }
    } else if (fileValue !== undefined) {
      setPath(merged, key, fileValue);
      source.set(key, file!);
    }
  }
  const m = merged as AgentConfigFile;
  const hostName = m.server_id ?? config.DRYDOCK_AGENT_HOST;
  const limits = m.resource_limits ?? {};
  const settings: AgentSettings = {
    hostName,
    apiUrl: (m.backend_url ?? config.apiUrl).replace(/\/$/, ''),
    token: m.token,
    registrationSecret: m.registration_secret,
    tags: m.tags ?? config.DRYDOCK_AGENT_TAGS,
    temporalAddress: m.temporal_address ?? config.temporalAddress,
    temporalNamespace: m.temporal_namespace ?? config.TEMPORAL_NAMESPACE,
    stateFile: m.state_file ?? join(config.DRYDOCK_DATA_DIR, 'agents', `${hostName}.json`),
    maxConcurrentJobs: m.max_concurrent_jobs ?? config.DRYDOCK_AGENT_MAX_CONCURRENT_JOBS,
    defaultTimeoutSeconds: m.default_timeout ?? DEFAULT_TIMEOUT_SECONDS,
    workDir: m.temp_dir ?? join(tmpdir(), 'drydock-agent', hostName),
    logLevel: m.log_level ?? config.DRYDOCK_LOG_LEVEL,
    heartbeatIntervalMs: (m.heartbeat_interval ?? DEFAULT_HEARTBEAT_SECONDS) * 1000,
    tokenRotationMs: m.token_rotation_hours === undefined ? undefined : m.token_rotation_hours * 3_600_000,
    allowedCommands: m.allowed_commands,
    forbiddenPaths: m.forbidden_paths ?? [],
    limits: {
      cpuSeconds: limits.cpu_seconds,
      memoryMb: limits.memory_mb,
      maxExecutionSeconds: limits.max_execution_seconds,
      maxProcesses: limits.max_processes,
    },
    sourceOf: (key) => source.get(key) ?? 'the default',
  };
  const clash = settings.forbiddenPaths.find((p) => within(resolve(settings.workDir), resolve(p)));
  if (clash) {
    throw new AgentConfigError(
      `the agent's settings are invalid; fix this and start it again:\n  temp_dir ${settings.workDir} (from ${settings.sourceOf('temp_dir')}) is under forbidden path ${clash} (from ${settings.sourceOf('forbidden_paths')}): scripts run in temp_dir, so move it or narrow forbidden_paths`,
    );
  }
  return { settings, notes };
}

/**
 * Activity task polls an agent keeps open on its host's queue: one per four job slots, at least two (one poll
 * is re-armed while the other waits), so the default agent (8 slots) holds 2 and ~600 agents fit one frontend.
 */
export function agentPolls(maxConcurrentJobs: number): number {
  return Math.min(maxConcurrentJobs, Math.max(2, Math.ceil(maxConcurrentJobs / 4)));
}
