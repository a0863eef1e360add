import { z } from 'zod';
import { LOCK_TYPES } from '../host-lock.ts';
import { EnvironmentName } from './environments.ts';
import { HostId, Slug } from './ids.ts';

// The hosts resource: /api/v1/hosts.

/** The environments every team starts with; each team defines its own (/api/v1/environments). */
export const ENVIRONMENTS = ['dev', 'staging', 'uat', 'preprod'] as const;
export const HOST_TRANSPORTS = ['agent', 'ssh', 'winrm', 'docker'] as const;

const HostFields = {
  name: z.string().min(1).max(100),
  address: z.string().min(1).max(253).regex(/^[A-Za-z0-9.:-]+$/, { error: 'a host name or IP address' }),
  port: z.number().int().min(1).max(65_535),
  // DOMAIN\\user and user@domain are WinRM account forms. Both cases spelled out: a regex flag does not reach the OpenAPI document.
  username: z.string().min(1).max(128).regex(/^[A-Za-z_][A-Za-z0-9_.@\\-]*$/, { error: 'a user name' }),
  winrmAuth: z.enum(['basic', 'ntlm']),
  credentialId: z.uuid(),
  jumpHostId: Slug.nullable(),
  environment: EnvironmentName.nullable().meta({ description: "One of the team's environments (`GET /api/v1/environments`), or `null`" }),
  group: z.string().min(1).max(100).nullable(),
  tags: z.array(z.string().min(1).max(64)).max(50),
  /** SSH, WinRM and Docker hosts: jobs at once, from single runs and bulk executions together; null: the default. */
  maxConcurrentJobs: z.number().int().min(1).max(1_000).nullable(),
};

const HostFieldNotes = {
  name: { description: '1 to 100 characters; default: the id' },
  address: { description: 'A host name or IP address' },
  port: { description: '22 for `ssh`, 5986 (WinRM over HTTPS) for `winrm` when omitted' },
  username: { description: '`DOMAIN\\user` and `user@domain` are the WinRM account forms' },
  credentialId: { description: 'An `ssh_key` or `password` credential; for `winrm`, a `password` credential' },
  winrmAuth: { description: 'WinRM only: NTLM (domain accounts, the Windows default) or Basic (local accounts); default `ntlm`' },
  jumpHostId: { description: 'SSH only: the SSH host to reach this one through (one hop)' },
  maxConcurrentJobs: { description: 'Jobs the host runs at once, single runs and bulk executions together; default `DRYDOCK_AGENTLESS_MAX_CONCURRENT_JOBS`' },
  tags: { description: 'Up to 50 tags of 1 to 64 characters' },
};

/** An agentless host: Drydock's central worker reaches it over SSH or WinRM with a stored credential. */
export const HostBodySchema = z
  .strictObject({
    id: HostId.meta({ description: 'Becomes the host id; not `new` or `install`' }),
    transport: z.enum(['ssh', 'winrm']),
    name: HostFields.name.optional().meta(HostFieldNotes.name),
    address: HostFields.address.meta(HostFieldNotes.address),
    port: HostFields.port.optional().meta(HostFieldNotes.port),
    username: HostFields.username.meta(HostFieldNotes.username),
    credentialId: HostFields.credentialId.meta(HostFieldNotes.credentialId),
    winrmAuth: HostFields.winrmAuth.optional().meta(HostFieldNotes.winrmAuth),
    jumpHostId: HostFields.jumpHostId.optional().meta(HostFieldNotes.jumpHostId),
    maxConcurrentJobs: HostFields.maxConcurrentJobs.optional().meta(HostFieldNotes.maxConcurrentJobs),
    environment: HostFields.environment.optional(),
    group: HostFields.group.optional(),
    tags: HostFields.tags.default([]).meta(HostFieldNotes.tags),
  })
  .refine((h) => h.transport === 'winrm' || h.winrmAuth === undefined, { error: 'winrmAuth applies to WinRM hosts', path: ['winrmAuth'] })
  .refine((h) => h.transport === 'ssh' || !h.jumpHostId, { error: 'jump hosts apply to SSH hosts', path: ['jumpHostId'] })
  .meta({ id: 'HostBody', description: 'An SSH or WinRM host, reached by a central worker with a stored credential.' });
/** A Docker engine reached by a central worker over its unix socket; `runner: docker` runs start containers there. */
export const DockerHostBodySchema = z
  .strictObject({
    id: HostId,
    transport: z.literal('docker'),
    name: HostFields.name.optional().meta(HostFieldNotes.name),
    socketPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]+$/, { error: 'an absolute path to the engine socket, such as /var/run/docker.sock' })
      .refine((p) => !p.split('/').includes('..'), { error: 'no ".." in the socket path' })
      .default('/var/run/docker.sock')
      .meta({ description: "The engine's unix socket on the central workers' machine; `address` in `HostView`" }),
    maxConcurrentJobs: HostFields.maxConcurrentJobs.optional().meta(HostFieldNotes.maxConcurrentJobs),
    environment: HostFields.environment.optional(),
    group: HostFields.group.optional(),
    tags: HostFields.tags.default([]).meta(HostFieldNotes.tags),
  })
  .meta({ id: 'DockerHostBody', description: 'A Docker engine: `runner: docker` runs start containers there.' });
export type DockerHostBody = z.infer<typeof DockerHostBodySchema>;
/** What POST /hosts takes: an SSH or WinRM host, or a Docker engine. */
export const NewHostBodySchema = z.union([HostBodySchema, DockerHostBodySchema]);
export type NewHostBody = z.infer<typeof NewHostBodySchema>;
/** Only what is sent changes: no defaults here, unlike creation. */
export const HostPatchSchema = z
  .strictObject({
    ...HostFields,
    resetHostKey: z.literal(true).meta({ description: "Forget the pinned SSH host key or WinRM certificate; the next connection pins what the host presents then" }),
  })
  .partial()
  .meta({ id: 'HostPatch', description: 'Only the fields sent change, and nothing defaults; `null` clears `jumpHostId`, `environment` or `group`.' });
export type HostPatch = z.infer<typeof HostPatchSchema>;

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
  tags: z.string().optional().meta({ description: 'Comma-separated: hosts that carry all of them' }),
  environment: z.string().optional().meta({ description: 'Exact match' }),
  transport: z.enum(HOST_TRANSPORTS).optional(),
  status: z.enum(HOST_STATUSES).optional(),
  /** Seen (heartbeat or connection) within this window. */
  seenWithin: SeenWindow.optional().meta({ description: '`lastSeenAt` within that window' }),
  /** Not seen for at least this long, or never. */
  notSeenFor: SeenWindow.optional().meta({ description: '`lastSeenAt` older than that, or never' }),
});
export type HostListQuery = z.infer<typeof HostListQuerySchema>;

const IsoTime = z.iso.datetime({ offset: true });
const Megabytes = z.object({ total: z.number().nullable(), used: z.number().nullable() });

export const HostViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    transport: z.enum(HOST_TRANSPORTS),
    online: z.boolean().meta({
      description:
        'Agent host: a heartbeat in the last 30 s, or an agent polling its queue in the last 70 s. SSH, WinRM or Docker host: reached at least once (a failed contact shows in `status` and `lastError`)',
    }),
    pollers: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'Agent host: agent processes Temporal saw polling `agent-<id>` in the last 70 s; `null` for other transports' }),
    lastSeenAt: IsoTime.nullable().meta({ description: 'Agent host: the last heartbeat; other hosts: the last contact that succeeded' }),
    os: z.string().nullable().meta({ description: 'From the agent (`Linux 6.1.0`); `null` for other transports' }),
    agentVersion: z.string().nullable(),
    tags: z.array(z.string()).meta({ description: "Agent host: the agent's tags, replaced by every heartbeat; other hosts: as set through this API" }),
    environment: z.string().nullable().meta({ description: "One of the team's environments, or `null`" }),
    group: z.string().nullable(),
    address: z.string().nullable().meta({ description: 'SSH or WinRM address, or a Docker engine socket path; `null` for an agent host' }),
    port: z.number().int().nullable(),
    username: z.string().nullable(),
    credential: z.object({ id: z.string(), name: z.string() }).nullable().meta({ description: 'Names the credential, never its secret' }),
    jumpHostId: z.string().nullable(),
    /** SSH: the host key; WinRM: the HTTPS certificate's fingerprint; pinned on first use. */
    hostKeyPinned: z
      .boolean()
      .meta({ description: "SSH: its host key is pinned; WinRM: its HTTPS certificate's SHA-256 fingerprint is. `false` until the first connection that ran a job, and after a reset" }),
    winrmAuth: z.enum(['basic', 'ntlm']).nullable(),
    maxConcurrentJobs: z
      .number()
      .int()
      .nullable()
      .meta({ description: "SSH, WinRM and Docker hosts: the jobs it runs at once (its own setting, or the default); `null` for agents, whose own config says" }),
    status: z.enum(HOST_STATUSES).meta({
      description:
        'The first that applies: `maintenance` (a maintenance lock is held), `error` (a person must act, see `lastError`), `unreachable`, `busy` (a run is running there), `idle`',
    }),
    runningRuns: z.number().int().meta({ description: 'Runs in status `running` on the host now, whatever the transport' }),
    lastError: z
      .object({ message: z.string(), at: IsoTime })
      .nullable()
      .meta({
        description:
          "What a person must see to: a revoked agent, or why the last contact with an SSH, WinRM or Docker host failed (it clears at the next contact that succeeds); `null` otherwise",
      }),
    lock: z
      .object({ type: z.enum(LOCK_TYPES), holder: z.string(), reason: z.string(), expiresAt: IsoTime.nullable() })
      .nullable()
      .meta({ description: "Who holds the host's lock now, from the locks' mirror (a lease past its expiry is not shown), or `null`" }),
    metrics: z
      .object({
        load: z.array(z.number().nullable()).meta({ description: '1, 5 and 15 minutes' }),
        memoryMb: Megabytes,
        diskMb: Megabytes,
        uptimeSeconds: z.number().nullable(),
        runningJobs: z.number().nullable(),
      })
      .nullable()
      .meta({ description: "Agent host: the figures of its last heartbeat; `null` for other transports and for an agent that has sent none" }),
  })
  .meta({ id: 'HostView', description: 'One host: how it is reached, whether it is alive, what runs there and who holds its lock.' });
export type HostView = z.infer<typeof HostViewSchema>;

export const HostListSchema = z.object({ hosts: z.array(HostViewSchema).meta({ description: 'By name' }) }).meta({ id: 'HostList' });
