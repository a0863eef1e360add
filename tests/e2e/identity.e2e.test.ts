import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CreatedToken, Me } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Sign-in, sessions and tokens of an accounts-mode Drydock, over HTTP against a real API and PostgreSQL:
// each bad input the issue lists gets a clear 401/403/404 and changes nothing.

let stack: TestStack;
let sql: postgres.Sql;

beforeAll(async () => {
  stack = await startTestStack({ processes: ['api'], setup: false });
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
});

const ADMIN = { email: 'ada@example.com', name: 'Ada', password: 'correct horse battery' };

/** A browser's cookie jar for one user: the session cookie, and its CSRF token for calls that change something. */
interface Browser {
  cookie: string;
  csrf: string;
  call(path: string, init?: RequestInit & { json?: unknown; csrf?: string | null }): Promise<Response>;
}

function sessionOf(res: Response): Browser {
  const cookies = res.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith('drydock_session='));
  const csrf = cookies.find((c) => c.startsWith('drydock_csrf='));
  if (!session || !csrf) throw new Error(`no session cookies in HTTP ${res.status}: ${cookies.join(' | ')}`);
  const browser: Browser = {
    cookie: session.split(';')[0]!,
    csrf: csrf.split(';')[0]!.slice('drydock_csrf='.length),
    call(path, init = {}) {
      const { csrf: sent = browser.csrf, headers, ...rest } = init;
      return stack.api(path, { ...rest, headers: { cookie: browser.cookie, ...(sent === null ? {} : { 'x-csrf-token': sent }), ...headers } });
    },
  };
  return browser;
}

async function signIn(email: string, password: string): Promise<Response> {
  return stack.api('/api/v1/auth/sign-in', { method: 'POST', json: { email, password } });
}

async function message(res: Response): Promise<string> {
  return ((await res.json()) as { error: { message: string } }).error.message;
}

let admin: Browser;

describe('the first start', () => {
  test('has no open admin: every user route is closed, and the API left a one-time setup link', async () => {
    const runs = await stack.api('/api/v1/runs');
    expect(runs.status).toBe(401);
    expect(await message(runs)).toMatch(/sign in/);
    expect(await (await stack.api('/api/v1/auth/status')).json()).toEqual({ mode: 'accounts', setupOpen: true });
  });

  test('the setup link sets the first admin, signs them in, and is closed for good after', async () => {
    const link = (await readFile(join(stack.config.DRYDOCK_DATA_DIR, 'setup-link'), 'utf8')).trim();
    expect(link).toMatch(/\/setup\?token=/);
    const token = new URL(link).searchParams.get('token')!;

    const forged = await stack.api('/api/v1/auth/setup', { method: 'POST', json: { ...ADMIN, token: 'forged' } });
    expect(forged.status).toBe(401);
    const weak = await stack.api('/api/v1/auth/setup', { method: 'POST', json: { ...ADMIN, password: 'short', token } });
    expect(weak.status).toBe(400);

    const done = await stack.api('/api/v1/auth/setup', { method: 'POST', json: { ...ADMIN, token } });
    expect(done.status).toBe(200);
    admin = sessionOf(done);
    const me = (await done.json()) as Me;
    expect(me).toMatchObject({ email: ADMIN.email, role: 'admin', auth: 'session', teams: [{ id: 'default', role: 'admin' }] });

    const again = await stack.api('/api/v1/auth/setup', { method: 'POST', json: { ...ADMIN, token } });
    expect(again.status).toBe(409);
    expect(await (await stack.api('/api/v1/auth/status')).json()).toMatchObject({ setupOpen: false });
    await expect(readFile(join(stack.config.DRYDOCK_DATA_DIR, 'setup-link'), 'utf8')).rejects.toThrow();
  });

  test('the session cookie is HttpOnly and SameSite=Lax; the CSRF cookie is readable by the page', async () => {
    const res = await signIn(ADMIN.email, ADMIN.password);
    const [session, csrf] = ['drydock_session=', 'drydock_csrf='].map((name) => res.headers.getSetCookie().find((c) => c.startsWith(name))!);
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).not.toMatch(/Secure/i);
    expect(csrf).not.toMatch(/HttpOnly/i);
  });
});

describe('local sign-in', () => {
  test('an unknown user and a wrong password get the same answer', async () => {
    const unknown = await signIn('nobody@example.com', ADMIN.password);
    const wrong = await signIn(ADMIN.email, 'not the password');
    expect([unknown.status, wrong.status]).toEqual([401, 401]);
    expect(await message(unknown)).toBe(await message(wrong));
  });

  test('five wrong passwords lock the account for 15 minutes, even against the right one; a reset link lifts it', async () => {
    const added = await admin.call('/api/v1/members', { method: 'POST', json: { email: 'grace@example.com', name: 'Grace', role: 'operator' } });
    expect(added.status).toBe(201);
    const { member, link } = (await added.json()) as { member: { userId: string }; link: { url: string } };
    const set = await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token: new URL(link.url).searchParams.get('token'), password: 'grace hopper 1906' } });
    expect(set.status).toBe(200);

    for (let i = 0; i < 5; i++) expect((await signIn('grace@example.com', `wrong ${i}`)).status).toBe(401);
    const locked = await signIn('grace@example.com', 'grace hopper 1906');
    expect(locked.status).toBe(401);
    expect(await message(locked)).toMatch(/locked until/);

    const reset = await admin.call(`/api/v1/members/${member.userId}/reset-link`, { method: 'POST' });
    expect(reset.status).toBe(201);
    const token = new URL(((await reset.json()) as { url: string }).url).searchParams.get('token');
    expect((await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token, password: 'grace hopper 1992' } })).status).toBe(200);
    expect((await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token, password: 'grace hopper 1993' } })).status).toBe(401);
    expect((await signIn('grace@example.com', 'grace hopper 1992')).status).toBe(200);
  });

  test('a disabled user is refused, and their sessions end at once', async () => {
    const added = await admin.call('/api/v1/members', { method: 'POST', json: { email: 'linus@example.com', role: 'viewer' } });
    const { member, link } = (await added.json()) as { member: { userId: string }; link: { url: string } };
    const linus = sessionOf(await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token: new URL(link.url).searchParams.get('token'), password: 'linus torvalds 91' } }));
    expect((await linus.call('/api/v1/me')).status).toBe(200);

    expect((await admin.call(`/api/v1/members/${member.userId}`, { method: 'PATCH', json: { disabled: true } })).status).toBe(200);
    expect((await linus.call('/api/v1/me')).status).toBe(401);
    const refused = await signIn('linus@example.com', 'linus torvalds 91');
    expect(refused.status).toBe(403);
    expect(await message(refused)).toMatch(/disabled/);
  });

  test('the last admin of a team can be neither demoted nor disabled', async () => {
    const me = (await (await admin.call('/api/v1/me')).json()) as Me;
    const demote = await admin.call(`/api/v1/members/${me.id}`, { method: 'PATCH', json: { role: 'viewer' } });
    expect(demote.status).toBe(409);
    expect(await message(demote)).toMatch(/last admin/);
  });
});

describe('sessions', () => {
  test('a call that changes something needs the CSRF header of the session: missing or wrong is refused and changes nothing', async () => {
    const before = await sql`select count(*)::int as n from api_tokens`;
    const missing = await admin.call('/api/v1/tokens', { method: 'POST', json: { name: 'ci', scopes: ['read'] }, csrf: null });
    expect(missing.status).toBe(403);
    expect(await message(missing)).toMatch(/x-csrf-token/);
    const wrong = await admin.call('/api/v1/tokens', { method: 'POST', json: { name: 'ci', scopes: ['read'] }, csrf: 'a-guess' });
    expect(wrong.status).toBe(403);
    expect(await sql`select count(*)::int as n from api_tokens`).toEqual(before);
  });

  test('a form posted by another site is refused, and changes nothing', async () => {
    const before = await sql`select count(*)::int as n from api_tokens`;
    const res = await stack.api('/api/v1/tokens', {
      method: 'POST',
      headers: { cookie: admin.cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=stolen&scopes=manage',
    });
    expect(res.status).toBe(403);
    expect(await sql`select count(*)::int as n from api_tokens`).toEqual(before);
  });

  test('an expired session is refused with what to do', async () => {
    const other = sessionOf(await signIn(ADMIN.email, ADMIN.password));
    expect((await other.call('/api/v1/me')).status).toBe(200);
    await sql`update sessions set idle_expires_at = now() - interval '1 second' where id_hash = encode(sha256(${other.cookie.slice('drydock_session='.length)}::bytea), 'hex')`;
    const res = await other.call('/api/v1/me');
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(/session expired; sign in again/);
  });

  test('sign-out ends this session; sign-out everywhere ends every other one', async () => {
    const one = sessionOf(await signIn(ADMIN.email, ADMIN.password));
    const two = sessionOf(await signIn(ADMIN.email, ADMIN.password));
    expect((await one.call('/api/v1/auth/sign-out', { method: 'POST' })).status).toBe(204);
    expect((await one.call('/api/v1/me')).status).toBe(401);
    expect((await two.call('/api/v1/me')).status).toBe(200);
    const everywhere = await two.call('/api/v1/auth/sign-out-everywhere', { method: 'POST' });
    expect(everywhere.status).toBe(200);
    expect((await two.call('/api/v1/me')).status).toBe(401);
    expect((await admin.call('/api/v1/me')).status).toBe(401);
    admin = sessionOf(await signIn(ADMIN.email, ADMIN.password));
  });

  test('a user session does not open agent routes', async () => {
    const res = await admin.call('/api/v1/agent/me');
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(/agent token/);
  });

  test('sign-in, failed sign-in and sign-out leave audit rows', async () => {
    const rows = await sql<{ action: string; result: number }[]>`select action, result from audit_log where action like 'auth.%'`;
    expect(rows).toEqual(expect.arrayContaining([
      { action: 'auth.setup', result: 200 },
      { action: 'auth.sign-in', result: 200 },
      { action: 'auth.sign-in', result: 401 },
      { action: 'auth.sign-out', result: 204 },
    ]));
  });
});

describe('API tokens', () => {
  async function token(body: { name: string; scopes: string[]; expiresInDays?: number }): Promise<CreatedToken> {
    const res = await admin.call('/api/v1/tokens', { method: 'POST', json: body });
    expect(res.status).toBe(201);
    return (await res.json()) as CreatedToken;
  }
  const bearer = (t: CreatedToken, path: string, init: RequestInit & { json?: unknown } = {}) =>
    stack.api(path, { ...init, headers: { authorization: `Bearer ${t.token}`, ...init.headers } });

  test('shown once with the ddp_ prefix, listed without its value, with its last use', async () => {
    const created = await token({ name: 'ci', scopes: ['read'] });
    expect(created.token).toMatch(/^ddp_/);
    expect((await bearer(created, '/api/v1/runs')).status).toBe(200);
    const me = (await (await bearer(created, '/api/v1/me')).json()) as Me;
    expect(me).toMatchObject({ email: ADMIN.email, auth: 'token', scopes: ['read'] });
    expect(me.csrfToken).toBeUndefined();
    const list = (await (await admin.call('/api/v1/tokens')).json()) as { tokens: Record<string, unknown>[] };
    const listed = list.tokens.find((t) => t.id === created.id)!;
    expect(listed).not.toHaveProperty('token');
    expect(listed.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(list)).not.toContain(created.token);
  });

  test('a token without the scope a route needs is refused, and says which scope', async () => {
    const read = await token({ name: 'reader', scopes: ['read'] });
    const res = await bearer(read, '/api/v1/tokens', { method: 'POST', json: { name: 'x', scopes: ['read'] } });
    expect(res.status).toBe(403);
    expect(await message(res)).toMatch(/scope manage/);
  });

  test('a token needs no CSRF header, and its use on a mutating route is audited under its id', async () => {
    const manage = await token({ name: 'automation', scopes: ['read', 'manage'] });
    const res = await bearer(manage, '/api/v1/tokens', { method: 'POST', json: { name: 'made by a token', scopes: ['read'] } });
    expect(res.status).toBe(201);
    const [row] = await sql<{ detail: { tokenId?: string } }[]>`select detail from audit_log where action = 'token.create' order by id desc limit 1`;
    expect(row?.detail.tokenId).toBe(manage.id);
  });

  test('revoked: refused at once', async () => {
    const t = await token({ name: 'short-lived', scopes: ['read'] });
    expect((await bearer(t, '/api/v1/runs')).status).toBe(200);
    expect((await admin.call(`/api/v1/tokens/${t.id}`, { method: 'DELETE' })).status).toBe(200);
    const res = await bearer(t, '/api/v1/runs');
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(/revoked/);
  });

  test('expired: refused with what to do', async () => {
    const t = await token({ name: 'expiring', scopes: ['read'], expiresInDays: 1 });
    await sql`update api_tokens set expires_at = now() - interval '1 second' where id = ${t.id}`;
    const res = await bearer(t, '/api/v1/runs');
    expect(res.status).toBe(401);
    expect(await message(res)).toMatch(/expired .*create a new one/);
  });

  test('an unknown token, and an agent token on a user route, are refused', async () => {
    expect((await stack.api('/api/v1/runs', { headers: { authorization: 'Bearer ddp_not-a-token' } })).status).toBe(401);
    const agent = await stack.api('/api/v1/runs', { headers: { authorization: 'Bearer dda_an-agent-token' } });
    expect(agent.status).toBe(403);
  });

  test("another user's token cannot be revoked by a non-admin: it answers as an unknown one", async () => {
    const t = await token({ name: 'admins-own', scopes: ['read'] });
    const grace = sessionOf(await signIn('grace@example.com', 'grace hopper 1992'));
    expect((await grace.call(`/api/v1/tokens/${t.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await bearer(t, '/api/v1/runs')).status).toBe(200);
  });

  test('a service account acts with its role through its tokens', async () => {
    const created = await admin.call('/api/v1/service-accounts', { method: 'POST', json: { name: 'ci-bot', role: 'viewer' } });
    expect(created.status).toBe(201);
    const account = (await created.json()) as { id: string };
    const res = await admin.call(`/api/v1/service-accounts/${account.id}/tokens`, { method: 'POST', json: { name: 'pipeline', scopes: ['read', 'run'] } });
    expect(res.status).toBe(201);
    const t = (await res.json()) as CreatedToken;
    expect((await bearer(t, '/api/v1/runs')).status).toBe(200);
    const start = await bearer(t, '/api/v1/runs', { method: 'POST', json: { scriptId: 'echo-params', hostId: 'local', params: {} } });
    expect(start.status).toBe(403);
    expect(await message(start)).toMatch(/operator role/);
  });
});

describe('roles and teams', () => {
  test('a viewer reads, but may not start a run', async () => {
    const added = await admin.call('/api/v1/members', { method: 'POST', json: { email: 'vera@example.com', role: 'viewer' } });
    const { link } = (await added.json()) as { link: { url: string } };
    const vera = sessionOf(await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token: new URL(link.url).searchParams.get('token'), password: 'vera viewer only' } }));
    expect((await vera.call('/api/v1/runs')).status).toBe(200);
    const res = await vera.call('/api/v1/runs', { method: 'POST', json: { scriptId: 'echo-params', hostId: 'local', params: {} } });
    expect(res.status).toBe(403);
    expect(await message(res)).toMatch(/operator role in team default; you are viewer/);
  });

  test('a user of two teams switches between them; a team they are not in answers 404', async () => {
    await sql`insert into teams (id, name) values ('blue', 'Blue')`;
    const [grace] = await sql<{ id: string }[]>`select id from users where email = 'grace@example.com'`;
    await sql`insert into memberships (user_id, team_id, role) values (${grace!.id}, 'blue', 'admin')`;
    const session = sessionOf(await signIn('grace@example.com', 'grace hopper 1992'));
    const me = (await (await session.call('/api/v1/me')).json()) as Me;
    expect(me.teams.map((t) => [t.id, t.role])).toEqual([['blue', 'admin'], ['default', 'operator']]);
    const switched = await session.call('/api/v1/me/team', { method: 'POST', json: { teamId: 'blue' } });
    expect(switched.status).toBe(200);
    expect(((await switched.json()) as Me)).toMatchObject({ teamId: 'blue', role: 'admin' });
    expect((((await (await session.call('/api/v1/members')).json()) as { members: unknown[] }).members)).toHaveLength(1);
    expect((await admin.call('/api/v1/me/team', { method: 'POST', json: { teamId: 'blue' } })).status).toBe(404);
  });
});
