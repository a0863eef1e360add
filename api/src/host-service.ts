import { sql } from 'kysely';
import proto from '@temporalio/proto';
import {
  ConflictError,
  HOST_SEEN_WINDOWS,
  type HostListQuery,
  type HostView,
  NotFoundError,
  type NewHostBody,
  type HostPatch,
  ValidationError,
} from '@drydock/core';
import { agentQueue } from '@drydock/temporal';
import type { ApiDeps } from './context.ts';
import { requireEnvironment } from './environment-service.ts';
import { hostLiveness } from './host-status.ts';

// Hosts: what the hosts list shows of each, and adding, changing and removing SSH, WinRM and Docker hosts.

/** Temporal keeps a poller listed for a while after it last polled; older than this, it is gone. */
const POLLER_WINDOW_MS = 70_000;

/**
 * How many agent processes Temporal saw polling each host's queue recently: the second liveness signal
 * beside heartbeats, straight from the server that hands out the work.
 */
async function pollersByHost(deps: ApiDeps, hostIds: string[]): Promise<Map<string, number>> {
  const now = Date.now();
  const counts = await Promise.all(
    hostIds.map(async (id) => {
      try {
        const res = await deps.temporal.workflowService.describeTaskQueue({
          namespace: deps.config.TEMPORAL_NAMESPACE,
          taskQueue: { name: agentQueue(id) },
          taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        });
        const recent = (res.pollers ?? []).filter((p) => {
          const seconds = Number(p.lastAccessTime?.seconds ?? 0);
          return now - seconds * 1000 < POLLER_WINDOW_MS;
        });
        return [id, recent.length] as const;
      } catch {
        return [id, 0] as const;
      }
    }),
  );
  return new Map(counts);
}

export type HostFilter = { id?: string; tags?: string[] } & Pick<HostListQuery, 'environment' | 'transport' | 'status' | 'seenWithin' | 'notSeenFor'>;
/** Hosts with their liveness, what runs on them and their lock, in one query plus Temporal's pollers. */
export async function hostViews(deps: ApiDeps, teamId: string, filter: HostFilter): Promise<HostView[]> {
  let q = deps.db
    .selectFrom('hosts as h')
    .leftJoin('credentials as c', 'c.id', 'h.credential_id')
    // The lock's mirror; a lease past its expiry no longer counts, even before the lock workflow notices.
    .leftJoin('host_locks as l', (j) => j.onRef('l.host_id', '=', 'h.id').on('l.holder', 'is not', null).on('l.expires_at', '>', sql<Date>`now()`))
    // Runs going on now, counted per host in one pass: what makes a host busy, whatever its transport.
    .leftJoin(
      (eb) => eb.selectFrom('runs').select((r) => ['host_id', r.fn.countAll<string>().as('running')]).where('team_id', '=', teamId).where('status', '=', 'running').groupBy('host_id').as('r'),
      (j) => j.onRef('r.host_id', '=', 'h.id'),
    )
    // Its latest token says whether an admin revoked the agent; a rotation since then issued a working one.
    .leftJoinLateral(
      (eb) => eb.selectFrom('agents as a').select(['a.revoked_reason', 'a.revoked_at']).whereRef('a.host_id', '=', 'h.id').orderBy('a.created_at', 'desc').limit(1).as('ag'),
      (j) => j.onTrue(),
    )
    .selectAll('h')
    .select(['c.name as credential_name', 'l.holder as lock_holder', 'r.running', 'ag.revoked_reason', 'ag.revoked_at'])
    .where('h.team_id', '=', teamId);
  if (filter.id) q = q.where('h.id', '=', filter.id);
  // Hosts that carry every tag asked for, as a manifest's host_tags require.
  if (filter.tags && filter.tags.length > 0) q = q.where(sql<boolean>`h.tags @> ${sql.val(filter.tags)}::text[]`);
  if (filter.environment) q = q.where('h.environment', '=', filter.environment);
  if (filter.transport) q = q.where('h.transport', '=', filter.transport);
  if (filter.seenWithin) q = q.where('h.last_seen_at', '>=', sql<Date>`now() - make_interval(secs => ${HOST_SEEN_WINDOWS[filter.seenWithin]})`);
  if (filter.notSeenFor) {
    const since = sql<Date>`now() - make_interval(secs => ${HOST_SEEN_WINDOWS[filter.notSeenFor]})`;
    q = q.where((eb) => eb.or([eb('h.last_seen_at', 'is', null), eb('h.last_seen_at', '<', since)]));
  }
  const rows = await q.orderBy('h.name').execute();
  const now = Date.now();
  const pollers = await pollersByHost(deps, rows.filter((h) => h.transport === 'agent').map((h) => h.id));
  const all = rows.map((h): HostView => {
    const lock = h.lock_holder;
    const runningRuns = Number(h.running ?? 0);
    const { online, status, lastError } = hostLiveness(
      {
        id: h.id,
        transport: h.transport,
        lastSeenAt: h.last_seen_at,
        pollers: pollers.get(h.id) ?? 0,
        runningRuns,
        heartbeatRunningJobs: h.running_jobs,
        maintenanceLocked: lock?.type === 'maintenance',
        lastError: h.last_error !== null ? { message: h.last_error, at: h.last_error_at ?? new Date(now) } : null,
        revokedAt: h.revoked_reason === 'revoked' ? h.revoked_at : null,
      },
      now,
    );
    return {
      id: h.id,
      name: h.name,
      transport: h.transport,
      online,
      status,
      runningRuns,
      lastError,
      lock: lock ? { type: lock.type, holder: lock.holder.name, reason: lock.reason, expiresAt: lock.expiresAt } : null,
      pollers: h.transport === 'agent' ? (pollers.get(h.id) ?? 0) : null,
      lastSeenAt: h.last_seen_at?.toISOString() ?? null,
      os: h.os,
      agentVersion: h.agent_version,
      tags: h.tags,
      environment: h.environment,
      group: h.host_group,
      address: h.address,
      port: h.port,
      username: h.username,
      credential: h.credential_id ? { id: h.credential_id, name: h.credential_name ?? h.credential_id } : null,
      jumpHostId: h.jump_host_id,
      hostKeyPinned: h.host_key !== null,
      winrmAuth: h.auth_method,
      maxConcurrentJobs: h.transport === 'agent' ? null : (h.max_concurrent_jobs ?? deps.config.DRYDOCK_AGENTLESS_MAX_CONCURRENT_JOBS),
      metrics:
        h.transport === 'agent' && h.uptime_seconds !== null
          ? {
              load: [h.load1, h.load5, h.load15],
              memoryMb: { total: h.mem_total_mb, used: h.mem_used_mb },
              diskMb: { total: h.disk_total_mb, used: h.disk_used_mb },
              uptimeSeconds: h.uptime_seconds,
              runningJobs: h.running_jobs,
            }
          : null,
    };
  });
  return filter.status ? all.filter((h) => h.status === filter.status) : all;
}

export async function hostView(deps: ApiDeps, teamId: string, id: string): Promise<HostView> {
  const [view] = await hostViews(deps, teamId, { id });
  if (!view) throw new NotFoundError('host', id);
  return view;
}

/** The credential, name and jump host a body names: of the team, of the right kind, one hop. */
async function checkRefs(
  deps: ApiDeps,
  teamId: string,
  body: { credentialId?: string; jumpHostId?: string | null; name?: string; environment?: string | null },
  transport: HostView['transport'],
  self?: string,
) {
  if (body.environment) await requireEnvironment(deps, teamId, body.environment);
  if (body.credentialId) {
    const cred = await deps.db.selectFrom('credentials').select('kind').where('team_id', '=', teamId).where('id', '=', body.credentialId).executeTakeFirst();
    if (!cred) throw new ValidationError('unknown credential', { credentialId: [`credential ${body.credentialId} does not exist`] });
    if (transport === 'winrm' && cred.kind !== 'password') throw new ValidationError('wrong credential kind', { credentialId: ['WinRM needs a password credential'] });
    if (cred.kind === 'https_token') throw new ValidationError('wrong credential kind', { credentialId: ['SSH needs an SSH key or a password credential'] });
  }
  if (body.name) {
    const clash = await deps.db.selectFrom('hosts').select('id').where('team_id', '=', teamId).where('name', '=', body.name).executeTakeFirst();
    if (clash && clash.id !== self) throw new ConflictError(`host ${clash.id} is already named ${body.name}`);
  }
  if (body.jumpHostId && self) {
    const through = await deps.db.selectFrom('hosts').select('id').where('jump_host_id', '=', self).executeTakeFirst();
    if (through) throw new ValidationError('jump chain', { jumpHostId: [`host ${through.id} reaches its target through ${self}, so ${self} cannot use a jump host itself (one hop)`] });
  }
  if (body.jumpHostId) {
    const jump = await deps.db.selectFrom('hosts').select(['transport', 'jump_host_id']).where('team_id', '=', teamId).where('id', '=', body.jumpHostId).executeTakeFirst();
    if (transport !== 'ssh') throw new ValidationError('jump hosts apply to SSH hosts', { jumpHostId: ['only SSH hosts use a jump host'] });
    if (!jump || jump.transport !== 'ssh') throw new ValidationError('unknown jump host', { jumpHostId: [`${body.jumpHostId} is not an SSH host`] });
    if (body.jumpHostId === self || jump.jump_host_id) throw new ValidationError('jump chain', { jumpHostId: ['a jump host reaches its target directly (one hop)'] });
  }
}

export async function addHost(deps: ApiDeps, teamId: string, body: NewHostBody): Promise<HostView> {
  const existing = await deps.db.selectFrom('hosts').select('id').where('id', '=', body.id).executeTakeFirst();
  if (existing) throw new ConflictError(`a host with id ${body.id} already exists`);
  const name = body.name ?? body.id;
  const common = {
    id: body.id,
    team_id: teamId,
    name,
    environment: body.environment ?? null,
    host_group: body.group ?? null,
    max_concurrent_jobs: body.maxConcurrentJobs ?? null,
    tags: body.tags,
  };
  if (body.transport === 'docker') {
    await checkRefs(deps, teamId, { name, environment: body.environment ?? null }, 'docker');
    // An engine's address is its socket on the central workers' machine.
    await deps.db.insertInto('hosts').values({ ...common, transport: 'docker', address: body.socketPath }).execute();
  } else {
    await checkRefs(deps, teamId, { ...body, name }, body.transport);
    await deps.db
      .insertInto('hosts')
      .values({
        ...common,
        transport: body.transport,
        address: body.address,
        port: body.port ?? (body.transport === 'winrm' ? 5986 : 22),
        auth_method: body.transport === 'winrm' ? (body.winrmAuth ?? 'ntlm') : null,
        username: body.username,
        credential_id: body.credentialId,
        jump_host_id: body.jumpHostId ?? null,
      })
      .execute();
  }
  return hostView(deps, teamId, body.id);
}

/** Only what is sent changes. */
export async function changeHost(deps: ApiDeps, teamId: string, id: string, body: HostPatch): Promise<HostView> {
  const host = await hostView(deps, teamId, id);
  await checkRefs(deps, teamId, body, host.transport, id);
  const agentless = host.transport === 'ssh' || host.transport === 'winrm';
  if (body.winrmAuth !== undefined && host.transport !== 'winrm') {
    throw new ValidationError('not a WinRM host', { winrmAuth: ['winrmAuth applies to WinRM hosts'] });
  }
  if (host.transport === 'agent' && body.maxConcurrentJobs !== undefined) {
    throw new ValidationError('an agent sets its own limit', { maxConcurrentJobs: ["an agent's max_concurrent_jobs is set in its config file or DRYDOCK_AGENT_MAX_CONCURRENT_JOBS"] });
  }
  if (!agentless && (body.address || body.port || body.username || body.credentialId || body.jumpHostId)) {
    throw new ValidationError(`${host.transport} hosts have no connection settings to change`, { transport: ['connection settings apply to SSH and WinRM hosts only'] });
  }
  const changes = {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(body.address !== undefined ? { address: body.address } : {}),
    ...(body.port !== undefined ? { port: body.port } : {}),
    ...(body.username !== undefined ? { username: body.username } : {}),
    ...(body.credentialId !== undefined ? { credential_id: body.credentialId } : {}),
    ...(body.jumpHostId !== undefined ? { jump_host_id: body.jumpHostId } : {}),
    ...(body.winrmAuth !== undefined ? { auth_method: body.winrmAuth } : {}),
    ...(body.environment !== undefined ? { environment: body.environment } : {}),
    ...(body.group !== undefined ? { host_group: body.group } : {}),
    ...(body.tags !== undefined ? { tags: body.tags } : {}),
    ...(body.maxConcurrentJobs !== undefined ? { max_concurrent_jobs: body.maxConcurrentJobs } : {}),
    // A new address is a new machine as far as its key goes; so is an explicit reset after a rebuild.
    ...(body.resetHostKey || (body.address !== undefined && body.address !== host.address) ? { host_key: null } : {}),
  };
  // An empty patch changes nothing; an UPDATE without a SET clause is not SQL.
  if (Object.keys(changes).length > 0) await deps.db.updateTable('hosts').set(changes).where('id', '=', id).execute();
  return hostView(deps, teamId, id);
}

export async function removeHost(deps: ApiDeps, teamId: string, id: string): Promise<void> {
  await hostView(deps, teamId, id);
  const jumpFor = await deps.db.selectFrom('hosts').select('id').where('jump_host_id', '=', id).executeTakeFirst();
  if (jumpFor) throw new ConflictError(`host ${jumpFor.id} reaches its target through ${id}; change it first`);
  await deps.db.transaction().execute(async (tx) => {
    // Its agent's tokens go with it.
    await tx.deleteFrom('agents').where('host_id', '=', id).execute();
    await tx.deleteFrom('hosts').where('id', '=', id).execute();
  });
}
