import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import { sql } from 'kysely';
import {
  AGENT_HOST_PATTERN,
  type AgentHeartbeat,
  AgentRegisterBodySchema,
  ConflictError,
  type Db,
  FINAL_STATUSES,
  ForbiddenError,
  isId,
  LogBatchBodySchema,
  newId,
  NotFoundError,
  UnauthorizedError,
} from '@drydock/core';
import { hashToken, newAgentToken, secretsEqual } from '../auth.ts';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { LOG_CHANNEL } from '../log-bus.ts';
import { validate } from '../validation.ts';

const MAX_INT = 2_147_483_647;
const megabytes = z.number().int().min(0).max(MAX_INT);

export const HeartbeatBodySchema = z.strictObject({
  tags: z.array(z.string().min(1).max(64)).max(50).optional(),
  load: z.strictObject({ one: z.number().min(0), five: z.number().min(0), fifteen: z.number().min(0) }).optional(),
  memory: z.strictObject({ totalMb: megabytes, usedMb: megabytes }).optional(),
  disk: z.strictObject({ totalMb: megabytes, usedMb: megabytes }).optional(),
  uptimeSeconds: z.number().int().min(0).max(MAX_INT).optional(),
  os: z.strictObject({ type: z.string().min(1).max(64), release: z.string().min(1).max(128), platform: z.string().min(1).max(32) }).optional(),
  agentVersion: z.string().min(1).max(64).optional(),
  runningJobs: z.number().int().min(0).max(MAX_INT).optional(),
}) satisfies z.ZodType<AgentHeartbeat>;

/** `Linux 6.1.0`; the platform only where it says more than the type (`Windows_NT 10.0.19045 (win32)`). */
export function osLabel(os: NonNullable<AgentHeartbeat['os']>): string {
  return os.platform === os.type.toLowerCase() ? `${os.type} ${os.release}` : `${os.type} ${os.release} (${os.platform})`;
}

function requireAdmin(c: Context<ApiEnv>, what: string) {
  const user = c.get('user');
  if (user?.role !== 'admin') throw new ForbiddenError(`only admins ${what}`);
  return user;
}

async function agentHost(db: Db, teamId: string, hostId: string) {
  const host = AGENT_HOST_PATTERN.test(hostId)
    ? await db.selectFrom('hosts').select(['id', 'transport']).where('team_id', '=', teamId).where('id', '=', hostId).executeTakeFirst()
    : undefined;
  if (!host) throw new NotFoundError('host', hostId);
  if (host.transport !== 'agent') throw new ConflictError(`host ${hostId} is reached over ${host.transport} and has no agent token`);
  return host;
}

/**
 * `/api/v1/agents`: registration (the one agent call made with the registration secret instead of a token),
 * and what admins do to an agent's token.
 */
export function agentRegistrationRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/install', (c) => {
      // What an admin needs to install an agent on another host: the settings its environment file takes.
      if (c.get('user')?.role !== 'admin') throw new ForbiddenError('only admins see agent installation secrets');
      const secret = deps.config.DRYDOCK_AGENT_REGISTRATION_SECRET;
      if (!secret) throw new ConflictError('this Drydock has no DRYDOCK_AGENT_REGISTRATION_SECRET, so agents cannot register; set one and restart the API');
      const settings: Record<string, string> = {
        DRYDOCK_API_URL: deps.config.publicUrl,
        TEMPORAL_ADDRESS: deps.config.temporalAddress,
        TEMPORAL_NAMESPACE: deps.config.TEMPORAL_NAMESPACE,
        DRYDOCK_AGENT_REGISTRATION_SECRET: secret,
        DRYDOCK_AGENT_HOST: '<host-name>',
        DRYDOCK_AGENT_TAGS: '',
        DRYDOCK_AGENT_MAX_CONCURRENT_JOBS: String(deps.config.DRYDOCK_AGENT_MAX_CONCURRENT_JOBS),
        ...(deps.config.DRYDOCK_CODEC_KEY ? { DRYDOCK_CODEC_KEY: deps.config.DRYDOCK_CODEC_KEY, DRYDOCK_CODEC_KEY_ID: deps.config.DRYDOCK_CODEC_KEY_ID } : {}),
      };
      return c.json({ settings, envFile: Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', command: 'node agent/src/main.ts' });
    })
    .post('/register', validate('json', AgentRegisterBodySchema), async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'agent.register', resource: `host:${body.hostName}` });
      const expected = deps.config.DRYDOCK_AGENT_REGISTRATION_SECRET;
      if (!expected || !secretsEqual(body.registrationSecret, expected)) {
        throw new UnauthorizedError('registration secret does not match; copy it again from the Drydock UI');
      }
      const teamId = deps.config.DRYDOCK_TEAM;
      const existing = await deps.db.selectFrom('hosts').select('transport').where('id', '=', body.hostName).executeTakeFirst();
      if (existing && existing.transport !== 'agent') {
        throw new ConflictError(`host ${body.hostName} is reached over ${existing.transport}; register the agent under another name or delete that host first`);
      }
      const latest = await deps.db
        .selectFrom('agents')
        .select('revoked_reason')
        .where('host_id', '=', body.hostName)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
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
        await tx
          .updateTable('agents')
          .set({ revoked_at: new Date(), revoked_reason: 'replaced' })
          .where('host_id', '=', body.hostName)
          .where('revoked_at', 'is', null)
          .execute();
        await tx.insertInto('agents').values({ id: agentId, team_id: teamId, host_id: body.hostName, token_hash: hashToken(token) }).execute();
      });
      noteAudit(c, { action: 'agent.register', resource: `host:${body.hostName}`, detail: { agentId } });
      return c.json({ hostId: body.hostName, agentId, token }, 201);
    })
    .post('/hosts/:hostId/rotate', async (c) => {
      const hostId = c.req.param('hostId');
      noteAudit(c, { action: 'agent.rotate', resource: `host:${hostId}` });
      const user = requireAdmin(c, 'rotate agent tokens');
      await agentHost(deps.db, user.team_id, hostId);
      const token = newAgentToken();
      const agentId = newId();
      const revoked = await deps.db.transaction().execute(async (tx) => {
        const result = await tx
          .updateTable('agents')
          .set({ revoked_at: new Date(), revoked_reason: 'rotated' })
          .where('host_id', '=', hostId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        await tx.insertInto('agents').values({ id: agentId, team_id: user.team_id, host_id: hostId, token_hash: hashToken(token) }).execute();
        return Number(result.numUpdatedRows);
      });
      noteAudit(c, { action: 'agent.rotate', resource: `host:${hostId}`, detail: { agentId, revokedTokens: revoked } });
      // The only time the token is shown: it goes into the agent's config file (`token:`) or DRYDOCK_AGENT_TOKEN.
      return c.json({ hostId, agentId, token, revokedTokens: revoked }, 201);
    })
    .post('/hosts/:hostId/revoke', async (c) => {
      const hostId = c.req.param('hostId');
      noteAudit(c, { action: 'agent.revoke', resource: `host:${hostId}` });
      const user = requireAdmin(c, 'revoke agents');
      await agentHost(deps.db, user.team_id, hostId);
      const result = await deps.db
        .updateTable('agents')
        .set({ revoked_at: new Date(), revoked_reason: 'revoked' })
        .where('team_id', '=', user.team_id)
        .where('host_id', '=', hostId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const revoked = Number(result.numUpdatedRows);
      noteAudit(c, { action: 'agent.revoke', resource: `host:${hostId}`, detail: { revokedTokens: revoked } });
      return c.json({ hostId, revokedTokens: revoked });
    });
}

/** `/api/v1/agent`: what a registered agent calls with its token. */
export function agentRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/me', (c) => c.json(c.get('agent')!))
    .post('/heartbeat', validate('json', HeartbeatBodySchema), async (c) => {
      const agent = c.get('agent')!;
      const beat = c.req.valid('json');
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
      return c.body(null, 204);
    })
    .post('/token', async (c) => {
      // The agent's own rotation: the calling token stops working the moment the new one exists.
      const agent = c.get('agent')!;
      noteAudit(c, { action: 'agent.token.rotate', resource: `host:${agent.hostId}` });
      const token = newAgentToken();
      const agentId = newId();
      await deps.db.transaction().execute(async (tx) => {
        const result = await tx
          .updateTable('agents')
          .set({ revoked_at: new Date(), revoked_reason: 'rotated' })
          .where('id', '=', agent.agentId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) throw new UnauthorizedError('this agent token was revoked while it asked for a new one');
        await tx.insertInto('agents').values({ id: agentId, team_id: agent.teamId, host_id: agent.hostId, token_hash: hashToken(token) }).execute();
      });
      noteAudit(c, { action: 'agent.token.rotate', resource: `host:${agent.hostId}`, detail: { previousAgentId: agent.agentId, agentId } });
      return c.json({ hostId: agent.hostId, agentId, token }, 201);
    })
    .get('/runs/:runId/script', async (c) => {
      const agent = c.get('agent')!;
      const runId = c.req.param('runId');
      if (!isId(runId)) throw new NotFoundError('run', runId);
      const script = await deps.catalog.runScript(runId);
      // An agent reads the scripts of its own host's runs only, and only while they may still run.
      if (!script || script.hostId !== agent.hostId || script.teamId !== agent.teamId || FINAL_STATUSES.includes(script.status)) {
        throw new NotFoundError('script of run', runId);
      }
      return c.body(script.content, 200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    })
    .post('/runs/:runId/logs', validate('json', LogBatchBodySchema), async (c) => {
      const agent = c.get('agent')!;
      const runId = c.req.param('runId');
      if (!isId(runId)) throw new NotFoundError('run', runId);
      const run = await deps.db.selectFrom('runs').select(['id', 'host_id']).where('id', '=', runId).executeTakeFirst();
      // An agent writes the logs of its own host's runs only.
      if (!run || run.host_id !== agent.hostId) throw new NotFoundError('run', runId);
      const body = c.req.valid('json');
      await deps.db
        .insertInto('run_logs')
        .values(body.lines.map((l) => ({ run_id: runId, attempt: body.attempt, seq: l.seq, stream: l.stream, ts: l.ts, line: l.line })))
        .onConflict((oc) => oc.columns(['run_id', 'attempt', 'seq']).doNothing())
        .execute();
      await sql`select pg_notify(${LOG_CHANNEL}, ${runId})`.execute(deps.db);
      return c.body(null, 204);
    });
}
