import { z } from 'zod';
import { RUN_STATUSES } from './db/schema.ts';
import type { LockType } from './host-lock.ts';
import type { Manifest, Parameter, ParamValues, SuccessCriteria } from './manifest.ts';
import type { OperationResult } from './operations/index.ts';

// Browser-safe: request schemas shared by the API (zValidator) and the web app.

const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'use lower-case letters, digits and "-"' });

/** Host ids that would collide with the web UI's own pages under /hosts/. */
const RESERVED_HOST_IDS = ['new', 'install'];
const HostId = Slug.refine((id) => !RESERVED_HOST_IDS.includes(id), { error: `${RESERVED_HOST_IDS.join(' and ')} are reserved; choose another host name` });

export const StartRunBodySchema = z
  .strictObject({
    scriptId: Slug.optional(),
    actionId: Slug.optional(),
    /** A script's commit SHA (or prefix) to run instead of the current version: a rollback. */
    version: z.string().regex(/^[0-9a-f]{4,64}$/, { error: 'version is a commit SHA or a prefix of one' }).optional(),
    hostId: Slug,
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((b) => (b.scriptId === undefined) !== (b.actionId === undefined), { error: 'give scriptId or actionId, not both', path: ['scriptId'] })
  .refine((b) => b.version === undefined || b.scriptId !== undefined, { error: 'version applies to scripts only', path: ['version'] });
export type StartRunBody = z.infer<typeof StartRunBodySchema>;

export const RUN_SORTS = ['created_at', 'duration_ms'] as const;

export const RunListQuerySchema = z.strictObject({
  script: z.string().optional(),
  host: z.string().optional(),
  status: z.enum(RUN_STATUSES).optional(),
  initiator: z.string().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  sort: z.enum(RUN_SORTS).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});
export type RunListQuery = z.infer<typeof RunListQuerySchema>;

export const AgentRegisterBodySchema = z.strictObject({
  registrationSecret: z.string().min(1),
  hostName: HostId,
  tags: z.array(z.string().min(1).max(64)).max(50).optional(),
  os: z.string().max(200).optional(),
  agentVersion: z.string().max(50).optional(),
});

export const LogBatchBodySchema = z.strictObject({
  attempt: z.number().int().min(1),
  lines: z
    .array(
      z.strictObject({
        seq: z.number().int().min(0),
        stream: z.enum(['stdout', 'stderr', 'system']),
        ts: z.iso.datetime({ offset: true }),
        line: z.string().max(65_536),
      }),
    )
    .min(1)
    .max(5_000),
});
export type LogBatchBody = z.infer<typeof LogBatchBodySchema>;

export interface ScriptView {
  kind: 'script' | 'action';
  id: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  version: string;
  interpreter: string | null;
  commandTemplate: string | null;
  runner: Manifest['runner'];
  timeout: number;
  retries: number;
  requiresLock: boolean;
  hostTags: string[];
  successCriteria: SuccessCriteria;
  parameters: Parameter[];
  repository: { id: string; name: string } | null;
  file: string | null;
  usageCount: number;
  runnable: boolean;
  notRunnableReason: string | null;
  updatedAt: string;
}

export interface RunView {
  id: string;
  source: 'script' | 'action';
  scriptId: string;
  scriptName: string;
  scriptVersion: string;
  hostId: string;
  status: (typeof RUN_STATUSES)[number];
  initiator: { id: string; name: string };
  params: ParamValues;
  exitCode: number | null;
  error: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  workflowId: string;
  temporalUrl: string;
  /** A host operation's checks and value; null for scripts and command templates. */
  result: OperationResult | null;
}

export interface LogLineView {
  attempt: number;
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  ts: string;
  line: string;
}

const RepositoryId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'use lower-case letters, digits and "-"' });
const GitUrl = z
  .string()
  .min(1)
  .refine((u) => /^(https?|git|ssh|file):\/\//.test(u) || /^[\w.-]+@[\w.-]+:/.test(u) || u.startsWith('/'), {
    error: 'a git URL: https://…, ssh://…, git@host:path, git://…, file:///… or an absolute path',
  });
export const REPOSITORY_PROVIDERS = ['github', 'gitlab', 'bitbucket', 'generic'] as const;

const RepositoryFields = {
  name: z.string().min(1).max(100),
  url: GitUrl,
  branch: z.string().min(1).max(200).regex(/^[^\s~^:?*[\\]+$/, { error: 'not a valid branch name' }),
  path: z
    .string()
    .max(300)
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { error: 'a sub-directory of the repository, without ".."' }),
  provider: z.enum(REPOSITORY_PROVIDERS),
  credentialId: z.uuid().nullable(),
  webhookSecret: z.string().min(8, { error: 'use at least 8 characters' }).max(200).nullable(),
  syncIntervalSeconds: z.number().int().min(60, { error: 'at least 60 seconds' }).max(86_400),
};

export const RepositoryBodySchema = z.strictObject({
  id: RepositoryId,
  name: RepositoryFields.name,
  url: RepositoryFields.url,
  branch: RepositoryFields.branch.default('main'),
  path: RepositoryFields.path.default(''),
  provider: RepositoryFields.provider.default('generic'),
  credentialId: RepositoryFields.credentialId.optional(),
  webhookSecret: RepositoryFields.webhookSecret.optional(),
  syncIntervalSeconds: RepositoryFields.syncIntervalSeconds.default(300),
});
export type RepositoryBody = z.infer<typeof RepositoryBodySchema>;
/** Only what is sent changes: no defaults here, unlike creation. */
export const RepositoryPatchSchema = z.strictObject(RepositoryFields).partial();


export const CredentialBodySchema = z.strictObject({
  name: z.string().min(1).max(100),
  kind: z.enum(['https_token', 'ssh_key', 'password']),
  username: z.string().min(1).max(200).optional(),
  secret: z.string().min(1).max(20_000),
});

export const ENVIRONMENTS = ['dev', 'staging', 'uat', 'preprod'] as const;

const HostFields = {
  name: z.string().min(1).max(100),
  address: z.string().min(1).max(253).regex(/^[A-Za-z0-9.:-]+$/, { error: 'a host name or IP address' }),
  port: z.number().int().min(1).max(65_535),
  // DOMAIN\\user and user@domain are WinRM account forms.
  username: z.string().min(1).max(128).regex(/^[a-z_][a-z0-9_.@\\-]*$/i, { error: 'a user name' }),
  winrmAuth: z.enum(['basic', 'ntlm']),
  credentialId: z.uuid(),
  jumpHostId: Slug.nullable(),
  environment: z.enum(ENVIRONMENTS).nullable(),
  group: z.string().min(1).max(100).nullable(),
  tags: z.array(z.string().min(1).max(64)).max(50),
  /** SSH, WinRM and Docker hosts: jobs at once, from single runs and bulk executions together; null: the default. */
  maxConcurrentJobs: z.number().int().min(1).max(1_000).nullable(),
};

/** An agentless host: Drydock's central worker reaches it over SSH or WinRM with a stored credential. */
export const HostBodySchema = z
  .strictObject({
    id: HostId,
    transport: z.enum(['ssh', 'winrm']),
    name: HostFields.name.optional(),
    address: HostFields.address,
    /** 22 for SSH, 5986 (HTTPS) for WinRM when omitted. */
    port: HostFields.port.optional(),
    username: HostFields.username,
    credentialId: HostFields.credentialId,
    /** WinRM only: NTLM (domain accounts, the Windows default) or Basic (local accounts). */
    winrmAuth: HostFields.winrmAuth.optional(),
    jumpHostId: HostFields.jumpHostId.optional(),
    maxConcurrentJobs: HostFields.maxConcurrentJobs.optional(),
    environment: HostFields.environment.optional(),
    group: HostFields.group.optional(),
    tags: HostFields.tags.default([]),
  })
  .refine((h) => h.transport === 'winrm' || h.winrmAuth === undefined, { error: 'winrmAuth applies to WinRM hosts', path: ['winrmAuth'] })
  .refine((h) => h.transport === 'ssh' || !h.jumpHostId, { error: 'jump hosts apply to SSH hosts', path: ['jumpHostId'] });
/** A Docker engine reached by a central worker over its unix socket; `runner: docker` runs start containers there. */
export const DockerHostBodySchema = z.strictObject({
  id: HostId,
  transport: z.literal('docker'),
  name: HostFields.name.optional(),
  socketPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._/-]+$/, { error: 'an absolute path to the engine socket, such as /var/run/docker.sock' })
    .refine((p) => !p.split('/').includes('..'), { error: 'no ".." in the socket path' })
    .default('/var/run/docker.sock'),
  maxConcurrentJobs: HostFields.maxConcurrentJobs.optional(),
  environment: HostFields.environment.optional(),
  group: HostFields.group.optional(),
  tags: HostFields.tags.default([]),
});
export type DockerHostBody = z.infer<typeof DockerHostBodySchema>;
/** What POST /hosts takes: an SSH or WinRM host, or a Docker engine. */
export const NewHostBodySchema = z.union([HostBodySchema, DockerHostBodySchema]);
/** Only what is sent changes: no defaults here, unlike creation. */
export const HostPatchSchema = z.strictObject({ ...HostFields, resetHostKey: z.literal(true) }).partial();

/**
 * idle and busy: reachable, running nothing or something now; maintenance: under a maintenance lock;
 * unreachable: no sign of life (or never reached); error: something needs a person (see HostView.lastError).
 */
export const HOST_STATUSES = ['idle', 'busy', 'maintenance', 'unreachable', 'error'] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];

/** The last-seen windows the hosts list filters by, in seconds. */
export const HOST_SEEN_WINDOWS = { '15m': 15 * 60, '1h': 3_600, '24h': 86_400, '7d': 7 * 86_400 } as const;
export type HostSeenWindow = keyof typeof HOST_SEEN_WINDOWS;
const SeenWindow = z.enum(Object.keys(HOST_SEEN_WINDOWS) as [HostSeenWindow, ...HostSeenWindow[]]);

export const HostListQuerySchema = z.strictObject({
  tags: z.string().optional(),
  environment: z.string().optional(),
  transport: z.enum(['agent', 'ssh', 'winrm', 'docker']).optional(),
  status: z.enum(HOST_STATUSES).optional(),
  /** Seen (heartbeat or connection) within this window. */
  seenWithin: SeenWindow.optional(),
  /** Not seen for at least this long, or never. */
  notSeenFor: SeenWindow.optional(),
});
export type HostListQuery = z.infer<typeof HostListQuerySchema>;

export interface HostView {
  id: string;
  name: string;
  transport: 'agent' | 'ssh' | 'winrm' | 'docker';
  /** Agent host: a heartbeat in the last 30 s or an agent polling its queue; SSH, WinRM, Docker: reached at least once. */
  online: boolean;
  /** Agent processes Temporal saw polling the host's queue in the last minute; null for SSH hosts. */
  pollers: number | null;
  lastSeenAt: string | null;
  os: string | null;
  agentVersion: string | null;
  tags: string[];
  environment: string | null;
  group: string | null;
  address: string | null;
  port: number | null;
  username: string | null;
  credential: { id: string; name: string } | null;
  jumpHostId: string | null;
  /** SSH: the host key; WinRM: the HTTPS certificate's fingerprint; pinned on first use. */
  hostKeyPinned: boolean;
  winrmAuth: 'basic' | 'ntlm' | null;
  /** SSH, WinRM and Docker hosts: the jobs it runs at once (its own setting, or the default); null for agents, whose own config says. */
  maxConcurrentJobs: number | null;
  /** maintenance, then error, then by liveness (unreachable) and by what runs on it now (busy or idle). */
  status: HostStatus;
  /** Runs on the host in status running now, whatever the transport. */
  runningRuns: number;
  /** What a person must see to: a revoked agent, or why the last contact with an SSH, WinRM or Docker host failed; null otherwise. */
  lastError: { message: string; at: string } | null;
  /** Who holds the host's lock now, if anyone. */
  lock: { type: LockType; holder: string; reason: string; expiresAt: string | null } | null;
  /** From the agent's last heartbeat; null for SSH hosts and agents that have not sent any. */
  metrics: {
    load: (number | null)[];
    memoryMb: { total: number | null; used: number | null };
    diskMb: { total: number | null; used: number | null };
    uptimeSeconds: number | null;
    runningJobs: number | null;
  } | null;
}
