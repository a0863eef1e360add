import { Hono } from 'hono';
import { z } from 'zod';
import { sql } from 'kysely';
import { AgentRegisterBodySchema, ConflictError, ForbiddenError, isId, LogBatchBodySchema, newId, NotFoundError, UnauthorizedError } from '@drydock/core';
import { hashToken, newAgentToken, secretsEqual } from '../auth.ts';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { LOG_CHANNEL } from '../log-bus.ts';
import { validate } from '../validation.ts';

const HeartbeatBodySchema = z.strictObject({ tags: z.array(z.string().min(1).max(64)).max(50).optional() });

/** `/api/v1/agents`: registration, the one agent call made with the registration secret instead of a token. */
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
    const token = newAgentToken();
    const agentId = newId();
    await deps.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('hosts')
        .values({ id: body.hostName, team_id: teamId, name: body.hostName, transport: 'agent', tags: body.tags ?? [], os: body.os ?? null, agent_version: body.agentVersion ?? null })
        .onConflict((oc) => oc.column('id').doUpdateSet({ tags: body.tags ?? [], os: body.os ?? null, agent_version: body.agentVersion ?? null }))
        .execute();
      // One agent per host: a new registration retires the tokens of any earlier install.
      await tx.updateTable('agents').set({ revoked_at: new Date() }).where('host_id', '=', body.hostName).where('revoked_at', 'is', null).execute();
      await tx.insertInto('agents').values({ id: agentId, team_id: teamId, host_id: body.hostName, token_hash: hashToken(token) }).execute();
    });
    noteAudit(c, { action: 'agent.register', resource: `host:${body.hostName}`, detail: { agentId } });
    return c.json({ hostId: body.hostName, agentId, token }, 201);
  });
}

/** `/api/v1/agent`: what a registered agent calls with its token. */
export function agentRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>()
    .get('/me', (c) => c.json(c.get('agent')!))
    .post('/heartbeat', validate('json', HeartbeatBodySchema), async (c) => {
      const agent = c.get('agent')!;
      const { tags } = c.req.valid('json');
      await deps.db
        .updateTable('hosts')
        .set({ last_seen_at: new Date(), ...(tags ? { tags } : {}) })
        .where('id', '=', agent.hostId)
        .execute();
      await deps.db.updateTable('agents').set({ last_seen_at: new Date() }).where('id', '=', agent.agentId).execute();
      return c.body(null, 204);
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
