import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AgentInstallView, CreatedRegistrationToken, HostView, RegistrationTokenView, RunView, TeamView } from '@drydock/core';
import { type AgentFleet, startAgentFleet } from '../support/agent-fleet.ts';
import { signedInMember, type SessionUser } from '../support/session-user.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Teams people create, and agents registered into them with a team's own registration token: the host, its
// runs, logs and locks are that team's, and another team sees none of them.

let stack: TestStack;
let sql: postgres.Sql;
let ada: SessionUser;
let fleet: AgentFleet | undefined;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
  ada = await signedInMember(stack, 'admin');
});
afterAll(async () => {
  await fleet?.stop();
  await fleet?.remove();
  await sql?.end();
  await stack?.teardown();
});

async function body<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

type ErrorBody = { error: { message: string; fields?: Record<string, string[]> } };

describe('teams', () => {
  test('an admin creates one and becomes its admin; renames it; others may not; each change is audited', async () => {
    const created = await body<TeamView>(await ada.api('/api/v1/teams', { method: 'POST', json: { id: 'blue', name: 'Blue', description: 'the blue rack' } }), 201);
    expect(created).toMatchObject({ id: 'blue', name: 'Blue', description: 'the blue rack', role: 'admin', current: false });

    const taken = await body<ErrorBody>(await ada.api('/api/v1/teams', { method: 'POST', json: { id: 'blue', name: 'Another blue' } }), 409);
    expect(taken.error.message).toMatch(/a team with the id blue exists/);
    const bad = await body<ErrorBody>(await ada.api('/api/v1/teams', { method: 'POST', json: { id: 'Blue Team', name: '' } }), 400);
    expect(Object.keys(bad.error.fields ?? {}).sort()).toEqual(['id', 'name']);
    const operator = await signedInMember(stack, 'operator');
    const refused = await body<ErrorBody>(await operator.api('/api/v1/teams', { method: 'POST', json: { id: 'green', name: 'Green' } }), 403);
    expect(refused.error.message).toMatch(/needs the admin role/);
    expect((await sql`select id from teams where id = 'green'`).length).toBe(0);

    const renamed = await body<TeamView>(await ada.api('/api/v1/teams/blue', { method: 'PATCH', json: { name: 'Blue rack' } }), 200);
    expect(renamed).toMatchObject({ id: 'blue', name: 'Blue rack', description: 'the blue rack' });
    // The stack's own admin is in the default team only: blue is not a team of theirs.
    await body(await stack.api('/api/v1/teams/blue', { method: 'PATCH', json: { name: 'Mine now' } }), 404);

    const mine = await body<{ teams: TeamView[] }>(await ada.api('/api/v1/teams'), 200);
    expect(mine.teams.map((t) => [t.id, t.name, t.role, t.current])).toEqual([
      ['blue', 'Blue rack', 'admin', false],
      [stack.config.DRYDOCK_TEAM, stack.config.DRYDOCK_TEAM, 'admin', true],
    ]);
    // A new team starts with the default environments, as the first one did.
    expect((await sql`select name from environments where team_id = 'blue' order by name`).map((e) => e.name)).toEqual(['dev', 'preprod', 'staging', 'uat']);

    const audit = await sql`select actor_name, action, resource, result from audit_log where action like 'team.%' or action like '% /api/v1/teams%' order by created_at`;
    expect(audit.map((a) => [a.actor_name, a.action, a.resource, a.result])).toEqual([
      [ada.user.email, 'team.create', 'team:blue', 201],
      [ada.user.email, 'team.create', 'team:blue', 409],
      [ada.user.email, 'POST /api/v1/teams', null, 400],
      [operator.user.email, 'POST /api/v1/teams', null, 403],
      [ada.user.email, 'team.update', 'team:blue', 200],
      [stack.admin.email, 'team.update', 'team:blue', 404],
    ]);
  });
});

describe("an agent registered with a team's registration token", () => {
  let issued: CreatedRegistrationToken;

  test('the token is issued once, kept as a hash, listed without its value; the install settings leave a place for it', async () => {
    await body(await ada.api('/api/v1/me/team', { method: 'POST', json: { teamId: 'blue' } }), 200);
    issued = await body<CreatedRegistrationToken>(await ada.api('/api/v1/agents/registration-tokens', { method: 'POST', json: { name: 'blue rack' } }), 201);
    expect(issued).toMatchObject({ name: 'blue rack', teamId: 'blue', createdBy: ada.user.email, revokedAt: null, uses: 0 });
    expect(issued.token).toMatch(/^ddr_/);
    expect(Date.parse(issued.expiresAt) - Date.now()).toBeGreaterThan(6 * 86_400_000);
    const [row] = await sql`select token_hash from agent_registration_tokens where id = ${issued.id}`;
    expect(row?.token_hash).not.toContain(issued.token);
    const list = await body<{ tokens: RegistrationTokenView[] }>(await ada.api('/api/v1/agents/registration-tokens'), 200);
    expect(list.tokens.map((t) => t.id)).toEqual([issued.id]);
    expect(JSON.stringify(list)).not.toContain(issued.token);
    // The default team's admin sees none of blue's tokens.
    expect((await body<{ tokens: RegistrationTokenView[] }>(await stack.api('/api/v1/agents/registration-tokens'), 200)).tokens).toEqual([]);

    const install = await body<AgentInstallView>(await ada.api('/api/v1/agents/install'), 200);
    expect(install.settings.DRYDOCK_AGENT_REGISTRATION_SECRET).toBe('<registration-token>');
    expect(install.envFile).not.toContain(stack.config.DRYDOCK_AGENT_REGISTRATION_SECRET);
  });

  test("its host, runs, logs and locks are the team's; the default team gets 404 for each", async () => {
    fleet = await startAgentFleet(stack, { count: 1, prefix: 'blue', env: { DRYDOCK_AGENT_REGISTRATION_SECRET: issued.token } });
    const hostId = fleet.hostIds[0]!;
    await expect.poll(async () => (await ada.api(`/api/v1/hosts/${hostId}`)).status, { timeout: 30_000 }).toBe(200);
    expect(await body<HostView>(await ada.api(`/api/v1/hosts/${hostId}`), 200)).toMatchObject({ id: hostId, transport: 'agent' });
    await body(await stack.api(`/api/v1/hosts/${hostId}`), 404);
    expect((await body<{ hosts: HostView[] }>(await stack.api('/api/v1/hosts'), 200)).hosts.map((h) => h.id)).not.toContain(hostId);
    // The stack's own agent, registered with the global secret, stays the default team's.
    await body(await stack.api('/api/v1/hosts/local'), 200);
    await body(await ada.api('/api/v1/hosts/local'), 404);

    const action = { id: 'say-hi', name: 'Say hi', command_template: 'echo hello from {{who}}', parameters: [{ name: 'who', type: 'string', default: 'you' }] };
    await body(await ada.api('/api/v1/actions', { method: 'POST', json: action }), 201);
    const started = await body<RunView>(await ada.api('/api/v1/runs', { method: 'POST', json: { actionId: 'say-hi', hostId, params: { who: 'blue' } } }), 201);
    await expect.poll(async () => (await body<RunView>(await ada.api(`/api/v1/runs/${started.id}`), 200)).status, { timeout: 45_000 }).toBe('succeeded');
    const { lines } = await body<{ lines: { line: string }[] }>(await ada.api(`/api/v1/runs/${started.id}/lines`), 200);
    expect(lines.map((l) => l.line)).toContain('hello from blue');
    await body(await stack.api(`/api/v1/runs/${started.id}`), 404);
    await body(await stack.api(`/api/v1/runs/${started.id}/lines`), 404);
    expect((await sql`select team_id from runs where id = ${started.id}`)[0]?.team_id).toBe('blue');

    const { lease } = await body<{ lease: { leaseId: string } }>(await ada.api(`/api/v1/locks/${hostId}`, { method: 'POST', json: { reason: 'blue maintenance' } }), 201);
    await body(await stack.api(`/api/v1/locks/${hostId}`), 404);
    await body(await stack.api(`/api/v1/locks/${hostId}/force-release`, { method: 'POST', json: { reason: 'not yours' } }), 404);
    await body(await ada.api(`/api/v1/locks/${hostId}/release`, { method: 'POST', json: { leaseId: lease.leaseId } }), 200);

    const [registered] = await sql`select team_id, actor_name, result from audit_log where action = 'agent.register' and resource = ${`host:${hostId}`}`;
    expect(registered).toEqual({ team_id: 'blue', actor_name: 'anonymous', result: 201 });
    expect((await body<{ tokens: RegistrationTokenView[] }>(await ada.api('/api/v1/agents/registration-tokens'), 200)).tokens[0]).toMatchObject({ uses: 1 });
  });

  test("may not take another team's host name; revoked, the token registers no more", async () => {
    const register = (hostName: string, registrationSecret = issued.token) =>
      stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret, hostName } });
    const taken = await body<ErrorBody>(await register('local'), 409);
    expect(taken.error.message).toBe('the host name local is taken; register the agent under another name');
    expect((await sql`select team_id from hosts where id = 'local'`)[0]?.team_id).toBe(stack.config.DRYDOCK_TEAM);
    // Nor the other way round: the global secret does not move blue's host into the default team.
    const fromDefault = await body<ErrorBody>(await register(fleet!.hostIds[0]!, stack.config.DRYDOCK_AGENT_REGISTRATION_SECRET!), 409);
    expect(fromDefault.error.message).toMatch(/is taken/);

    await body(await stack.api(`/api/v1/agents/registration-tokens/${issued.id}`, { method: 'DELETE' }), 404);
    const revoked = await body<RegistrationTokenView>(await ada.api(`/api/v1/agents/registration-tokens/${issued.id}`, { method: 'DELETE' }), 200);
    expect(revoked.revokedAt).not.toBeNull();
    const refused = await body<ErrorBody>(await register('blue-new'), 401);
    expect(refused.error.message).toMatch(/registration token was revoked at .*; ask an admin of the team for a new one/);
    const unknown = await body<ErrorBody>(await register('blue-new', 'ddr_not-a-token-of-this-drydock'), 401);
    expect(unknown.error.message).toMatch(/registration secret does not match/);
    expect((await sql`select id from hosts where id = 'blue-new'`).length).toBe(0);

    const expiring = await body<CreatedRegistrationToken>(await ada.api('/api/v1/agents/registration-tokens', { method: 'POST', json: { name: 'short', expiresInDays: 1 } }), 201);
    await sql`update agent_registration_tokens set expires_at = now() - interval '1 minute' where id = ${expiring.id}`;
    const expired = await body<ErrorBody>(await register('blue-new', expiring.token), 401);
    expect(expired.error.message).toMatch(/registration token expired at/);
    const tooLong = await body<ErrorBody>(await ada.api('/api/v1/agents/registration-tokens', { method: 'POST', json: { name: 'forever', expiresInDays: 365 } }), 400);
    expect(tooLong.error.fields?.expiresInDays?.[0]).toBe('use 1 to 90 days');
  });
});
