import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  AgentInstallViewSchema,
  AgentPrincipalSchema,
  AgentRegisterBodySchema,
  AgentRevocationSchema,
  AgentRotationSchema,
  AgentTokenSchema,
  CreatedRegistrationTokenSchema,
  HeartbeatBodySchema,
  NewRegistrationTokenBodySchema,
  RegistrationTokenListSchema,
  RegistrationTokenViewSchema,
  LogBatchBodySchema,
  RunSecretsSchema,
} from '@drydock/core';
import { RunSecretError } from '@drydock/activities/run-secrets';
import { agentInstallView, recordHeartbeat, registerAgent, revokeAgent, rotateAgentToken, rotateOwnToken, scriptOfRun, secretsOfRun, storeLogBatch } from '../agent-service.ts';
import { noteAudit } from '../audit.ts';
import { issueRegistrationToken, listRegistrationTokens, revokeRegistrationToken } from '../team-service.ts';
import type { ApiDeps } from '../context.ts';
import { access, CALLER, errors, json, jsonBody, resourceRouter } from '../contract.ts';

const HostParams = z.object({ hostId: z.string().meta({ description: 'An agent host' }) });
const RunParams = z.object({ runId: z.string().meta({ description: "A run on the agent's own host" }) });
const notAdmin = [403, 'Not an admin'] as const;
const badToken = [401, 'No agent token, or one that is unknown or revoked: the message says why, and what to do'] as const;
const notAgentHost = [409, 'The host is reached over SSH, WinRM or Docker and has no agent token'] as const;

const install = createRoute({
  method: 'get',
  path: '/install',
  tags: ['agents'],
  ...access('admin', 'manage'),
  summary: 'Settings to install an agent on another host, secrets included (admins only)',
  description: '`DRYDOCK_API_URL` is `DRYDOCK_PUBLIC_URL`; the codec settings are left out when the API has no codec key.',
  responses: { 200: json(AgentInstallViewSchema, 'The settings and an environment file'), ...errors(notAdmin, [409, 'The API has no registration secret']) },
});

const register = createRoute({
  method: 'post',
  path: '/register',
  tags: ['agents'],
  summary: "Register an agent with the registration secret or a team's registration token, and get its token",
  description:
    "`registrationSecret` is the API's `DRYDOCK_AGENT_REGISTRATION_SECRET` (the host joins the default team) or a team's registration token (`ddr_…`, the host joins that team). Creates the host, or replaces its `tags`, `os` and `agentVersion`; every earlier token of the host is revoked (reason `replaced`).",
  security: CALLER.anyone,
  request: { body: jsonBody(AgentRegisterBodySchema) },
  responses: {
    201: json(AgentTokenSchema, 'Registered: the host id and the agent token, shown this once'),
    ...errors(
      400,
      [401, 'The registration secret does not match, or the registration token is unknown, expired or revoked'],
      [403, "An admin revoked the host's agent: it may not register until an admin rotates its token"],
      [409, 'An SSH, WinRM or Docker host has this id, or a host of another team does'],
    ),
  },
});

const rotate = createRoute({
  method: 'post',
  path: '/hosts/{hostId}/rotate',
  tags: ['agents'],
  ...access('admin', 'manage'),
  summary: "Issue a host's agent a new token (shown once) and revoke its others (admins only)",
  description: 'The running agent is refused at its next call and stops; the new token goes into its config file (`token:`) or `DRYDOCK_AGENT_TOKEN`. Rotating lifts a revocation.',
  request: { params: HostParams },
  responses: { 201: json(AgentRotationSchema, 'The new token'), ...errors(notAdmin, 404, notAgentHost) },
});

const revoke = createRoute({
  method: 'post',
  path: '/hosts/{hostId}/revoke',
  tags: ['agents'],
  ...access('admin', 'manage'),
  summary: "Revoke a host's agent tokens; the agent stops and may not register again until rotated (admins only)",
  request: { params: HostParams },
  responses: { 200: json(AgentRevocationSchema, 'Revoked'), ...errors(notAdmin, 404, notAgentHost) },
});

const TokenParams = z.object({ id: z.string().meta({ description: 'A registration token id' }) });

const registrationTokens = createRoute({
  method: 'get',
  path: '/registration-tokens',
  tags: ['agents'],
  ...access('admin', 'read'),
  summary: "The current team's agent registration tokens (never their values; admins only)",
  responses: { 200: json(RegistrationTokenListSchema, 'The tokens, newest first'), ...errors(notAdmin) },
});

const registrationTokenCreate = createRoute({
  method: 'post',
  path: '/registration-tokens',
  tags: ['agents'],
  ...access('admin', 'manage'),
  summary: 'Issue a registration token: agents that register with it join the current team (admins only)',
  description: 'The token goes into the agent\'s `DRYDOCK_AGENT_REGISTRATION_SECRET`. It registers any number of agents until it expires (7 days unless `expiresInDays` says otherwise, 90 at most) or is revoked.',
  request: { body: jsonBody(NewRegistrationTokenBodySchema) },
  responses: { 201: json(CreatedRegistrationTokenSchema, 'Issued: `token` is shown this once'), ...errors(400, notAdmin) },
});

const registrationTokenRevoke = createRoute({
  method: 'delete',
  path: '/registration-tokens/{id}',
  tags: ['agents'],
  ...access('admin', 'manage'),
  summary: 'Revoke a registration token: it registers no more agents; agents it registered keep their own tokens (admins only)',
  request: { params: TokenParams },
  responses: { 200: json(RegistrationTokenViewSchema, 'Revoked'), ...errors(notAdmin, 404) },
});

const me = createRoute({
  method: 'get',
  path: '/me',
  tags: ['agents'],
  summary: 'The calling agent',
  security: CALLER.agent,
  responses: { 200: json(AgentPrincipalSchema, 'The agent, its host and team'), ...errors(badToken) },
});

const heartbeat = createRoute({
  method: 'post',
  path: '/heartbeat',
  tags: ['agents'],
  summary: 'Agent liveness and host metrics',
  description: 'Sets `last_seen_at` on the host and the agent. An unknown field answers 400 (an agent then falls back to heartbeats without metrics).',
  security: CALLER.agent,
  request: { body: jsonBody(HeartbeatBodySchema) },
  responses: { 204: { description: 'Recorded' }, ...errors(400, badToken) },
});

const token = createRoute({
  method: 'post',
  path: '/token',
  tags: ['agents'],
  summary: "Swap the calling agent's token for a new one; the old one stops working at once",
  security: CALLER.agent,
  responses: { 201: json(AgentTokenSchema, 'The new token'), ...errors(badToken) },
});

const script = createRoute({
  method: 'get',
  path: '/runs/{runId}/script',
  tags: ['agents'],
  summary: "The script of a run on the agent's host, at the exact version the run executes, as text",
  description: 'Jobs carry only the script\'s identity (version, path, SHA-256); the agent fetches its text here while the run may still run.',
  security: CALLER.agent,
  request: { params: RunParams },
  responses: {
    200: { description: 'The script', content: { 'text/plain': { schema: z.string() } } },
    ...errors(badToken, [404, "Not a script run of the agent's host that may still run"]),
  },
});

const secrets = createRoute({
  method: 'get',
  path: '/runs/{runId}/secrets',
  tags: ['agents'],
  summary: "The secret parameters of a run on the agent's host, resolved (Vault references included) while the run may still run",
  description:
    "Workflow inputs carry only references to a run's secrets; the agent asks here when an attempt starts and keeps the values in memory. Another host's run, or one that has ended, answers 404.",
  security: CALLER.agent,
  request: { params: RunParams },
  responses: {
    200: json(RunSecretsSchema, 'The values by parameter name'),
    ...errors(badToken, [404, "Not a run of the agent's host that may still run"], [502, 'Vault refused or lacks a referenced secret'], [503, 'Vault does not answer']),
  },
});

const logs = createRoute({
  method: 'post',
  path: '/runs/{runId}/logs',
  tags: ['agents'],
  summary: "A batch of log lines of a run on the agent's host; sending a batch again is safe",
  description: 'Each batch wakes the run\'s live logs. Runs on SSH, WinRM and Docker hosts send none: the central worker writes their lines itself.',
  security: CALLER.agent,
  request: { params: RunParams, body: jsonBody(LogBatchBodySchema) },
  responses: { 204: { description: 'Stored' }, ...errors(400, badToken, [404, "No such run on the agent's host"], [409, 'The run has ended: its log takes no more lines']) },
});

/** `/api/v1/agents`: registration (the one agent call made with the secret instead of a token), and admins' calls on agents. */
export function agentRegistrationRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(install, (c) => c.json(agentInstallView(deps, c.get('user')), 200))
    .openapi(register, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'agent.register', resource: `host:${body.hostName}` });
      const { teamId, ...registered } = await registerAgent(deps, body);
      noteAudit(c, { action: 'agent.register', resource: `host:${body.hostName}`, detail: { agentId: registered.agentId }, teamId });
      return c.json(registered, 201);
    })
    .openapi(registrationTokens, async (c) => c.json({ tokens: await listRegistrationTokens(deps, c.get('principal')!) }, 200))
    .openapi(registrationTokenCreate, async (c) => {
      const body = c.req.valid('json');
      const issued = await issueRegistrationToken(deps, c.get('principal')!, body);
      noteAudit(c, { action: 'agent.registration-token.create', resource: `registration-token:${issued.id}`, detail: { name: issued.name, expiresAt: issued.expiresAt } });
      // The only time the token is shown: it goes into the agent's DRYDOCK_AGENT_REGISTRATION_SECRET.
      return c.json(issued, 201);
    })
    .openapi(registrationTokenRevoke, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'agent.registration-token.revoke', resource: `registration-token:${id}` });
      return c.json(await revokeRegistrationToken(deps, c.get('principal')!, id), 200);
    })
    .openapi(rotate, async (c) => {
      const { hostId } = c.req.valid('param');
      noteAudit(c, { action: 'agent.rotate', resource: `host:${hostId}` });
      const rotated = await rotateAgentToken(deps, c.get('user'), hostId);
      noteAudit(c, { action: 'agent.rotate', resource: `host:${hostId}`, detail: { agentId: rotated.agentId, revokedTokens: rotated.revokedTokens } });
      // The only time the token is shown: it goes into the agent's config file (`token:`) or DRYDOCK_AGENT_TOKEN.
      return c.json(rotated, 201);
    })
    .openapi(revoke, async (c) => {
      const { hostId } = c.req.valid('param');
      noteAudit(c, { action: 'agent.revoke', resource: `host:${hostId}` });
      const revoked = await revokeAgent(deps, c.get('user'), hostId);
      noteAudit(c, { action: 'agent.revoke', resource: `host:${hostId}`, detail: { revokedTokens: revoked.revokedTokens } });
      return c.json(revoked, 200);
    });
}

/** `/api/v1/agent`: what a registered agent calls with its token. */
export function agentRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(me, (c) => c.json(c.get('agent')!, 200))
    .openapi(heartbeat, async (c) => {
      await recordHeartbeat(deps, c.get('agent')!, c.req.valid('json'));
      return c.body(null, 204);
    })
    .openapi(token, async (c) => {
      const agent = c.get('agent')!;
      noteAudit(c, { action: 'agent.token.rotate', resource: `host:${agent.hostId}` });
      const rotated = await rotateOwnToken(deps, agent);
      noteAudit(c, { action: 'agent.token.rotate', resource: `host:${agent.hostId}`, detail: { previousAgentId: agent.agentId, agentId: rotated.agentId } });
      return c.json(rotated, 201);
    })
    .openapi(script, async (c) => c.text(await scriptOfRun(deps, c.get('agent')!, c.req.valid('param').runId), 200, { 'cache-control': 'no-store' }))
    .openapi(secrets, async (c) => {
      try {
        return c.json({ secrets: await secretsOfRun(deps, c.get('agent')!, c.req.valid('param').runId) }, 200, { 'cache-control': 'no-store' });
      } catch (err) {
        if (!(err instanceof RunSecretError)) throw err;
        return c.json({ error: { code: err.retryable ? 'vault_unavailable' : 'secret_unavailable', message: err.message } }, err.retryable ? 503 : 502);
      }
    })
    .openapi(logs, async (c) => {
      await storeLogBatch(deps, c.get('agent')!, c.req.valid('param').runId, c.req.valid('json'));
      return c.body(null, 204);
    });
}
