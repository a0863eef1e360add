import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FINAL, startTestStack, type TestStack } from '../support/stack.ts';

// Two sweeps over the OpenAPI document of an accounts-mode Drydock with real runs, locks and bulk executions:
// a viewer of team A tries every operation that changes something (each 403, nothing changed), and an admin
// of team B walks every GET with team A's ids (each 404 or empty, never A's content).

type Operation = { security?: unknown[]; 'x-drydock-access'?: { role: string; scope: string } };
type Document = { paths: Record<string, Record<string, Operation>> };

let stack: TestStack;
let sql: postgres.Sql;
let document: Document;
let admin: Caller;
let viewer: Caller;
let outsider: Caller;
/** Team A's ids, by the path parameter a route names them with. */
const teamA: { runId: string; bulkId: string; artifactId: string } = { runId: '', bulkId: '', artifactId: '' };

interface Caller {
  call(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

function callerOf(res: Response): Caller {
  const cookies = res.headers.getSetCookie();
  const cookie = cookies.find((c) => c.startsWith('drydock_session='))!.split(';')[0]!;
  const csrf = cookies.find((c) => c.startsWith('drydock_csrf='))!.split(';')[0]!.slice('drydock_csrf='.length);
  return { call: (path, init = {}) => stack.api(path, { ...init, headers: { cookie, 'x-csrf-token': csrf, ...init.headers } }) };
}

/** Set-up waits (expect.poll works inside tests only). */
async function until(what: string, done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A user added by the admin to team A with `role`, their password set through their invitation link. */
async function member(email: string, role: string): Promise<Caller> {
  const added = await admin.call('/api/v1/members', { method: 'POST', json: { email, role } });
  expect(added.status).toBe(201);
  const { link } = (await added.json()) as { link: { url: string } };
  const token = new URL(link.url).searchParams.get('token');
  return callerOf(await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token, password: `${email} password` } }));
}

beforeAll(async () => {
  stack = await startTestStack({ setup: false });
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
  document = (await (await stack.api('/api/v1/openapi.json')).json()) as Document;
  const link = (await readFile(join(stack.config.DRYDOCK_DATA_DIR, 'setup-link'), 'utf8')).trim();
  const token = new URL(link).searchParams.get('token');
  admin = callerOf(await stack.api('/api/v1/auth/setup', { method: 'POST', json: { token, email: 'admin-a@example.com', name: 'Admin A', password: 'team a admin password' } }));

  await until('the local agent registers', async () => (await admin.call('/api/v1/hosts/local')).status === 200, 30_000);
  await until('the local catalog syncs', async () => (await admin.call('/api/v1/scripts/echo-params')).status === 200, 60_000);
  const run = await admin.call('/api/v1/runs', { method: 'POST', json: { scriptId: 'echo-params', hostId: 'local', params: { message: 'team A secret words', token: 's3cret' } } });
  expect(run.status).toBe(201);
  teamA.runId = ((await run.json()) as { id: string }).id;
  await until('the run ends', async () => FINAL.includes(((await (await admin.call(`/api/v1/runs/${teamA.runId}`)).json()) as { status: string }).status), 45_000);
  const manifest = { id: 'say-hi', name: 'Say hi', command_template: 'echo {{who}}', parameters: [{ name: 'who', type: 'string', default: 'you' }] };
  expect((await admin.call('/api/v1/actions', { method: 'POST', json: manifest })).status).toBe(201);
  expect((await admin.call('/api/v1/locks/local', { method: 'POST', json: { reason: 'team A maintenance' } })).status).toBe(201);
  const bulk = await admin.call('/api/v1/bulk', { method: 'POST', json: { scriptId: 'true', selector: { hostIds: ['local'] } } });
  expect(bulk.status).toBe(201);
  teamA.bulkId = ((await bulk.json()) as { id: string }).id;
  const [artifact] = await sql<{ id: string }[]>`select id from run_artifacts limit 1`;
  teamA.artifactId = artifact?.id ?? '01a2b3c4-0000-7000-8000-000000000000';

  viewer = await member('viewer-a@example.com', 'viewer');
  // Team B: a team of its own whose admin is in no other team.
  outsider = await member('admin-b@example.com', 'viewer');
  await sql`insert into teams (id, name) values ('team-b', 'Team B')`;
  await sql`update memberships set team_id = 'team-b', role = 'admin' where user_id = (select id from users where email = 'admin-b@example.com')`;
  await sql`update sessions set team_id = 'team-b' where user_id = (select id from users where email = 'admin-b@example.com')`;
}, 240_000);
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
});

const userOperations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, op]) => op.security === undefined && op['x-drydock-access'])
      .map(([method, op]) => ({ method: method.toUpperCase(), path, need: op['x-drydock-access']!, route: `${method.toUpperCase()} ${path}` })),
  );

/** A path with team A's ids in it. */
function withTeamAIds(path: string): string {
  return path
    .replace(/^\/api\/v1\/runs\/\{id\}/, `/api/v1/runs/${teamA.runId}`)
    .replace(/^\/api\/v1\/bulk\/\{id\}/, `/api/v1/bulk/${teamA.bulkId}`)
    .replace(/^\/api\/v1\/hosts\/\{id\}/, '/api/v1/hosts/local')
    .replace(/^\/api\/v1\/repositories\/\{id\}/, '/api/v1/repositories/local-catalog')
    .replace(/^\/api\/v1\/scripts\/\{id\}/, '/api/v1/scripts/echo-params')
    .replace(/^\/api\/v1\/actions\/\{id\}/, '/api/v1/actions/say-hi')
    .replace('{artifactId}', teamA.artifactId)
    .replace(/\{hostId\}/, 'local')
    .replace(/\{[^}]+\}/g, '01a2b3c4-0000-7000-8000-000000000000');
}

/** What would show that a refused call changed something: rows, and the host's lock. */
async function state() {
  const [counts] = await sql`select
    (select count(*)::int from runs) as runs, (select count(*)::int from bulk_executions) as bulk,
    (select count(*)::int from hosts) as hosts, (select count(*)::int from action_templates) as actions,
    (select count(*)::int from script_repositories) as repositories, (select count(*)::int from credentials) as credentials,
    (select count(*)::int from api_tokens) as tokens, (select count(*)::int from memberships) as memberships,
    (select count(*)::int from service_accounts) as accounts, (select count(*)::int from agents where revoked_at is null) as agents,
    (select string_agg(id || name || coalesce(environment, '') || array_to_string(tags, ','), ';' order by id) from hosts) as host_fields,
    (select string_agg(user_id || role, ';' order by user_id) from memberships) as roles`;
  const lock = (await (await admin.call('/api/v1/locks/local')).json()) as { holder: { leaseId: string } | null; queue: unknown[] };
  return { counts, holder: lock.holder?.leaseId ?? null, queue: lock.queue.length };
}

describe('a viewer', () => {
  test('is refused every operation that needs more than a viewer, with 403, and nothing changes', async () => {
    const before = await state();
    const swept: string[] = [];
    for (const { method, path, need, route } of userOperations()) {
      if (method === 'GET' || need.role === 'viewer') continue;
      const res = await viewer.call(withTeamAIds(path), { method, json: {} });
      expect(res.status, route).toBe(403);
      swept.push(route);
    }
    expect(swept.length).toBeGreaterThan(30);
    expect(swept).toEqual(expect.arrayContaining(['POST /api/v1/runs', 'POST /api/v1/locks/{hostId}/force-release', 'DELETE /api/v1/hosts/{id}', 'POST /api/v1/members']));
    expect(await state()).toEqual(before);
  });
});

describe('a member of team B', () => {
  test("walks every GET with team A's ids and finds nothing of team A", async () => {
    const me = (await (await outsider.call('/api/v1/me')).json()) as { teamId: string; teams: { id: string }[] };
    expect(me.teams.map((t) => t.id)).toEqual(['team-b']);
    const markers = [teamA.runId, teamA.bulkId, '"local"', '"local-catalog"', '"echo-params"', '"say-hi"', 'team A secret words', 'team A maintenance', 'admin-a@example.com', 'viewer-a@example.com'];
    const walked: string[] = [];
    for (const { method, path, route } of userOperations()) {
      if (method !== 'GET') continue;
      const res = await outsider.call(withTeamAIds(path), { signal: AbortSignal.timeout(10_000) });
      // Team B's admin installs agents into team B: the settings leave a place for B's registration token, never
      // the secret that registers into team A.
      if (route === 'GET /api/v1/agents/install') {
        expect(res.status, route).toBe(200);
        const view = (await res.json()) as { envFile: string; settings: Record<string, string> };
        expect(view.settings.DRYDOCK_AGENT_REGISTRATION_SECRET, route).toBe('<registration-token>');
        expect(view.envFile, route).not.toContain(stack.config.DRYDOCK_AGENT_REGISTRATION_SECRET!);
        continue;
      }
      expect([200, 404], `${route}: ${res.status}`).toContain(res.status);
      const text = await res.text();
      // A 404 names the id it was asked for, as it does for an id nobody has; anything else must show none of A.
      if (res.status === 404) expect(JSON.parse(text), route).toMatchObject({ error: { code: 'not_found' } });
      else for (const marker of markers) expect(text, `${route} shows ${marker}`).not.toContain(marker);
      walked.push(route);
    }
    expect(walked).toEqual(expect.arrayContaining(['GET /api/v1/runs', 'GET /api/v1/runs/{id}', 'GET /api/v1/runs/{id}/lines', 'GET /api/v1/runs/{id}/log', 'GET /api/v1/hosts/{id}', 'GET /api/v1/locks/{hostId}', 'GET /api/v1/bulk/{id}', 'GET /api/v1/scripts/{id}', 'GET /api/v1/actions/{id}', 'GET /api/v1/repositories/{id}', 'GET /api/v1/runs/{id}/artifacts/{artifactId}']));
  });

  test("cannot change team A's things either: each answers 404 and nothing changes", async () => {
    const before = await state();
    for (const [route, path, json] of [
      ['cancel a run', `/api/v1/runs/${teamA.runId}/cancel`, {}],
      ['force-release a lock', '/api/v1/locks/local/force-release', { reason: 'mine now' }],
      ['cancel a bulk execution', `/api/v1/bulk/${teamA.bulkId}/cancel`, {}],
      ['sync a repository', '/api/v1/repositories/local-catalog/sync', {}],
    ] as const) {
      const res = await outsider.call(path, { method: 'POST', json });
      expect(res.status, route).toBe(404);
    }
    expect((await outsider.call('/api/v1/hosts/local', { method: 'DELETE' })).status).toBe(404);
    expect(await state()).toEqual(before);
  });
});
