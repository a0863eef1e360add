import { sql } from 'kysely';
import {
  AGENT_HOST_PATTERN,
  type AgentHeartbeat,
  type AgentInstallView,
  type AgentPrincipal,
  ConflictError,
  FINAL_STATUSES,
  ForbiddenError,
  isId,
  type LogBatchBody,
  newId,
  NotFoundError,
  UnauthorizedError,
  type User,
} from '@drydock/core';
import { openRunSecrets } from '@drydock/activities/run-secrets';
import { hashToken, newAgentToken, secretsEqual } from './auth.ts';
import type { ApiDeps } from './context.ts';
import { LOG_CHANNEL } from './log-bus.ts';
import { teamOfRegistrationToken } from './team-service.ts';

// Agents: registration with the shared secret, their tokens (rotated by themselves or by admins, revoked by admins),
// and what they send with a token: heartbeats and log batches.

/** `Linux 6.1.0`; the platform only where it says more than the type (`Windows_NT 10.0.19045 (win32)`). */
export function osLabel(os: NonNullable<AgentHeartbeat['os']>): string {
  return os.platform === os.type.toLowerCase() ? `${os.type} ${os.release}` : `${os.type} ${os.release} (${os.platform})`;
}

function requireAdmin(user: User | undefined, what: string): User {
  if (user?.role !== 'admin') throw new ForbiddenError(`only admins ${what}`);
  return user;
}

async function agentHost(deps: ApiDeps, teamId: string, hostId: string) {
  const host = AGENT_HOST_PATTERN.test(hostId)
    ? await deps.db.selectFrom('hosts').select(['id', 'transport']).where('team_id', '=', teamId).where('id', '=', hostId).executeTakeFirst()
    : undefined;
  if (!host) throw new NotFoundError('host', hostId);
  if (host.transport !== 'agent') throw new ConflictError(`host ${hostId} is reached over ${host.transport} and has no agent token`);
  return host;
}

/** Where the install settings hold a team's registration token until an admin issues one. */
export const REGISTRATION_TOKEN_PLACEHOLDER = '<registration-token>';

/**
 * What an admin needs to install an agent on another host: the settings its environment file takes. The
 * default team's admins get the global registration secret; another team's get a placeholder for a
 * registration token of their team (POST /api/v1/agents/registration-tokens).
 */
export function agentInstallView(deps: ApiDeps, user: User | undefined): AgentInstallView {
  if (user?.role !== 'admin') throw new ForbiddenError('only admins see agent installation secrets');
  const defaultTeam = user.team_id === deps.config.DRYDOCK_TEAM;
  const secret = defaultTeam ? deps.config.DRYDOCK_AGENT_REGISTRATION_SECRET : REGISTRATION_TOKEN_PLACEHOLDER;
  if (!secret) throw new ConflictError('this Drydock has no DRYDOCK_AGENT_REGISTRATION_SECRET; issue a registration token for the team instead (POST /api/v1/agents/registration-tokens), or set one and restart the API');
  const settings: Record<string, string> = {
    DRYDOCK_API_URL: deps.config.publicUrl,
    TEMPORAL_ADDRESS: deps.config.temporalAddress,
    TEMPORAL_NAMESPACE: deps.config.TEMPORAL_NAMESPACE,
    DRYDOCK_AGENT_REGISTRATION_SECRET: secret,
    DRYDOCK_AGENT_HOST: '<host-name>',
    DRYDOCK_AGENT_TAGS: '',
    DRYDOCK_AGENT_MAX_CONCURRENT_JOBS: String(deps.config.DRYDOCK_AGENT_MAX_CONCURRENT_JOBS),
    // Every agent needs the installation's codec key to read its tasks (decision 028 says what that costs).
    ...(deps.config.DRYDOCK_CODEC_KEY ? { DRYDOCK_CODEC_KEY: deps.config.DRYDOCK_CODEC_KEY, DRYDOCK_CODEC_KEY_ID: deps.config.DRYDOCK_CODEC_KEY_ID } : {}),
  };
  return { settings, envFile: Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', command: 'node agent/src/main.ts' };
}

export interface Registration {
  registrationSecret: string;
  hostName: string;
  tags?: string[] | undefined;
  os?: string | undefined;
  agentVersion?: string | undefined;
}

/** The team a registration secret registers into: the global secret the default team, a team's token that team. */
async function registrationTeam(deps: ApiDeps, secret: string): Promise<{ teamId: string; tokenId: string | null }> {
  const global = deps.config.DRYDOCK_AGENT_REGISTRATION_SECRET;
  if (global && secretsEqual(secret, global)) return { teamId: deps.config.DRYDOCK_TEAM, tokenId: null };
  const team = await teamOfRegistrationToken(deps, secret);
  if (team && 'refused' in team) throw new UnauthorizedError(team.refused);
  if (!team) throw new UnauthorizedError('registration secret does not match; copy it again from the Drydock UI, or ask an admin of your team for a registration token');
  return team;
}

/**
 * The one agent call made with a registration secret instead of a token: it creates the host, in the team the
 * secret belongs to, and its token. Host ids are unique across teams: a name another team uses is refused.
 */
export async function registerAgent(deps: ApiDeps, body: Registration): Promise<{ hostId: string; agentId: string; token: string; teamId: string }> {
  const { teamId, tokenId } = await registrationTeam(deps, body.registrationSecret);
  const existing = await deps.db.selectFrom('hosts').select(['transport', 'team_id']).where('id', '=', body.hostName).executeTakeFirst();
  // Said without naming the other team: a registration secret gives no window into another team's hosts.
  if (existing && existing.team_id !== teamId) throw new ConflictError(`the host name ${body.hostName} is taken; register the agent under another name`);
  if (existing && existing.transport !== 'agent') {
    throw new ConflictError(`host ${body.hostName} is reached over ${existing.transport}; register the agent under another name or delete that host first`);
  }
  const latest = await deps.db.selectFrom('agents').select('revoked_reason').where('host_id', '=', body.hostName).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  // Otherwise a revoked agent that still holds the registration secret would let itself back in.
  if (latest?.revoked_reason === 'revoked') {
    throw new ForbiddenError(
      `an admin revoked the agent of host ${body.hostName}; it may not register again until an admin issues it a new token (POST /api/v1/agents/hosts/${body.hostName}/rotate) for its config file`,
    );
  }
  const token = newAgentToken();
  const agentId = newId();
  await deps.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('hosts')
      .values({ id: body.hostName, team_id: teamId, name: body.hostName, transport: 'agent', tags: body.tags ?? [], os: body.os ?? null, agent_version: body.agentVersion ?? null })
      .onConflict((oc) => oc.column('id').doUpdateSet({ tags: body.tags ?? [], os: body.os ?? null, agent_version: body.agentVersion ?? null }))
      .execute();
    // One agent per host: a new registration retires the tokens of any earlier install.
    await tx.updateTable('agents').set({ revoked_at: new Date(), revoked_reason: 'replaced' }).where('host_id', '=', body.hostName).where('revoked_at', 'is', null).execute();
    await tx.insertInto('agents').values({ id: agentId, team_id: teamId, host_id: body.hostName, token_hash: hashToken(token) }).execute();
    if (tokenId) {
      await tx.updateTable('agent_registration_tokens').set((eb) => ({ uses: eb('uses', '+', 1), last_used_at: new Date() })).where('id', '=', tokenId).execute();
    }
  });
  return { hostId: body.hostName, agentId, token, teamId };
}

/** An admin issues a host's agent a new token; its other tokens stop working (and a revocation is lifted). */
export async function rotateAgentToken(deps: ApiDeps, caller: User | undefined, hostId: string) {
  const user = requireAdmin(caller, 'rotate agent tokens');
  await agentHost(deps, user.team_id, hostId);
  const token = newAgentToken();
  const agentId = newId();
  const revokedTokens = await deps.db.transaction().execute(async (tx) => {
    const result = await tx.updateTable('agents').set({ revoked_at: new Date(), revoked_reason: 'rotated' }).where('host_id', '=', hostId).where('revoked_at', 'is', null).executeTakeFirst();
    await tx.insertInto('agents').values({ id: agentId, team_id: user.team_id, host_id: hostId, token_hash: hashToken(token) }).execute();
    return Number(result.numUpdatedRows);
  });
  return { hostId, agentId, token, revokedTokens };
}

/** An admin revokes a host's agent tokens; the agent may not register again until an admin rotates. */
export async function revokeAgent(deps: ApiDeps, caller: User | undefined, hostId: string) {
  const user = requireAdmin(caller, 'revoke agents');
  await agentHost(deps, user.team_id, hostId);
  const result = await deps.db
    .updateTable('agents')
    .set({ revoked_at: new Date(), revoked_reason: 'revoked' })
    .where('team_id', '=', user.team_id)
    .where('host_id', '=', hostId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return { hostId, revokedTokens: Number(result.numUpdatedRows) };
}

/** The agent's own rotation: the calling token stops working the moment the new one exists. */
export async function rotateOwnToken(deps: ApiDeps, agent: AgentPrincipal) {
  const token = newAgentToken();
  const agentId = newId();
  await deps.db.transaction().execute(async (tx) => {
    const result = await tx.updateTable('agents').set({ revoked_at: new Date(), revoked_reason: 'rotated' }).where('id', '=', agent.agentId).where('revoked_at', 'is', null).executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new UnauthorizedError('this agent token was revoked while it asked for a new one');
    await tx.insertInto('agents').values({ id: agentId, team_id: agent.teamId, host_id: agent.hostId, token_hash: hashToken(token) }).execute();
  });
  return { hostId: agent.hostId, agentId, token };
}

export async function recordHeartbeat(deps: ApiDeps, agent: AgentPrincipal, beat: AgentHeartbeat): Promise<void> {
  const now = new Date();
  await deps.db
    .updateTable('hosts')
    .set({
      last_seen_at: now,
      ...(beat.tags ? { tags: beat.tags } : {}),
      ...(beat.load ? { load1: beat.load.one, load5: beat.load.five, load15: beat.load.fifteen } : {}),
      ...(beat.memory ? { mem_total_mb: beat.memory.totalMb, mem_used_mb: beat.memory.usedMb } : {}),
      ...(beat.disk ? { disk_total_mb: beat.disk.totalMb, disk_used_mb: beat.disk.usedMb } : {}),
      ...(beat.uptimeSeconds !== undefined ? { uptime_seconds: beat.uptimeSeconds } : {}),
      ...(beat.os ? { os: osLabel(beat.os) } : {}),
      ...(beat.agentVersion ? { agent_version: beat.agentVersion } : {}),
      ...(beat.runningJobs !== undefined ? { running_jobs: beat.runningJobs } : {}),
    })
    .where('id', '=', agent.hostId)
    .execute();
  await deps.db.updateTable('agents').set({ last_seen_at: now }).where('id', '=', agent.agentId).execute();
}

/** The text of a run's script, for the agent of its host only, and only while the run may still run. */
export async function scriptOfRun(deps: ApiDeps, agent: AgentPrincipal, runId: string): Promise<string> {
  if (!isId(runId)) throw new NotFoundError('run', runId);
  const script = await deps.catalog.runScript(runId);
  if (!script || script.hostId !== agent.hostId || script.teamId !== agent.teamId || FINAL_STATUSES.includes(script.status)) {
    throw new NotFoundError('script of run', runId);
  }
  return script.content;
}

/**
 * A run's secret parameters in clear, for the agent of its host only, and only while the run may still run: the
 * agent of host B asking for a run of host A, or for an ended run, learns nothing but 404. Vault references are
 * resolved here, so agents need neither Vault credentials nor a way to reach Vault (decision 019).
 */
export async function secretsOfRun(deps: ApiDeps, agent: AgentPrincipal, runId: string): Promise<Record<string, string>> {
  if (!isId(runId)) throw new NotFoundError('run', runId);
  const run = await deps.db.selectFrom('runs').select(['host_id', 'team_id', 'status']).where('id', '=', runId).executeTakeFirst();
  if (!run || run.host_id !== agent.hostId || run.team_id !== agent.teamId || FINAL_STATUSES.includes(run.status)) throw new NotFoundError('run', runId);
  return openRunSecrets({ db: deps.db, secrets: deps.secrets, vault: deps.vault }, runId);
}

/** Stores a batch of a run's log lines (a line already stored is skipped) and wakes the run's live logs. */
export async function storeLogBatch(deps: ApiDeps, agent: AgentPrincipal, runId: string, body: LogBatchBody): Promise<void> {
  if (!isId(runId)) throw new NotFoundError('run', runId);
  const run = await deps.db.selectFrom('runs').select(['id', 'host_id', 'status']).where('id', '=', runId).executeTakeFirst();
  // An agent writes the logs of its own host's runs only.
  if (!run || run.host_id !== agent.hostId) throw new NotFoundError('run', runId);
  // A final run's log is whole (the SSE stream promises it): lines a dead agent's successor sends late are refused.
  if (FINAL_STATUSES.includes(run.status)) throw new ConflictError(`run ${runId} has ended (${run.status}); its log takes no more lines`);
  await deps.db
    .insertInto('run_logs')
    .values(body.lines.map((l) => ({ run_id: runId, attempt: body.attempt, seq: l.seq, stream: l.stream, ts: l.ts, line: l.line })))
    .onConflict((oc) => oc.columns(['run_id', 'attempt', 'seq']).doNothing())
    .execute();
  await sql`select pg_notify(${LOG_CHANNEL}, ${runId})`.execute(deps.db);
}
