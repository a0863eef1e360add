import { Hono } from 'hono';
import { sql } from 'kysely';
import { AgentRegisterBodySchema, isId, LogBatchBodySchema, newId, NotFoundError, UnauthorizedError } from '@drydock/core';
import { hashToken, newAgentToken, secretsEqual } from '../auth.ts';
import { noteAudit } from '../audit.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { LOG_CHANNEL } from '../log-bus.ts';
import { validate } from '../validation.ts';

/** `/api/v1/agents`: registration, the one agent call made with the registration secret instead of a token. */
export function agentRegistrationRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>().post('/register', validate('json', AgentRegisterBodySchema), async (c) => {
    const body = c.req.valid('json');
    noteAudit(c, { action: 'agent.register', resource: `host:${body.hostName}` });
    const expected = deps.config.DRYDOCK_AGENT_REGISTRATION_SECRET;
    if (!expected || !secretsEqual(body.registrationSecret, expected)) {
      throw new UnauthorizedError('registration secret does not match; copy it again from the Drydock UI');
    }
    const teamId = deps.config.DRYDOCK_TEAM;
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
    .post('/heartbeat', async (c) => {
      const agent = c.get('agent')!;
      await deps.db.updateTable('hosts').set({ last_seen_at: new Date() }).where('id', '=', agent.hostId).execute();
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
