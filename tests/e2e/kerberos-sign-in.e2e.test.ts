import { GSS_C_MUTUAL_FLAG, GSS_MECH_OID_SPNEGO, initializeClient } from 'kerberos';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Me } from '@drydock/core';
import { newId } from '@drydock/core';
import { startKdc, type TestKdc } from '../support/kerberos-kdc.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Kerberos sign-in end to end: a real MIT KDC on loopback, tickets from kinit, the API process verifying them with
// its keytab, and the principal mapped to an existing Drydock user who gets a normal session.

let kdc: TestKdc;
let stack: TestStack;
/** A Drydock with no keytab: the route says Kerberos is not configured. */
let plain: TestStack;
/** A Drydock whose keytab lacks its service principal: the route says why it cannot sign anyone in. */
let broken: TestStack;
let sql: postgres.Sql;

interface ErrorAnswer {
  error: { code: string; reason?: string; message: string };
}

beforeAll(async () => {
  kdc = await startKdc({
    users: { alice: 'alice-password', bob: 'bob-password', mallory: 'mallory-password', dora: 'dora-password' },
    services: ['HTTP/localhost', 'HTTP/elsewhere.localhost'],
  });
  const keytab = await kdc.keytab(['HTTP/localhost'], 'drydock.keytab');
  const otherKeytab = await kdc.keytab(['HTTP/elsewhere.localhost'], 'other.keytab');
  // The test process is the Kerberos client: it finds the realm through the KDC's krb5.conf.
  process.env.KRB5_CONFIG = kdc.krb5Config;
  [stack, plain, broken] = await Promise.all([
    startTestStack({
      processes: ['api'],
      setup: false,
      env: {
        ...kdc.env,
        KRB5RCACHEDIR: kdc.dir,
        DRYDOCK_KERBEROS_KEYTAB: keytab,
        DRYDOCK_KERBEROS_SERVICE: 'HTTP@localhost',
        DRYDOCK_KERBEROS_REALMS: 'DRYDOCK.TEST',
        DRYDOCK_KERBEROS_EMAIL_DOMAIN: 'example.com',
      },
    }),
    startTestStack({ processes: ['api'], setup: false }),
    startTestStack({
      processes: ['api'],
      setup: false,
      env: { ...kdc.env, DRYDOCK_KERBEROS_KEYTAB: otherKeytab, DRYDOCK_KERBEROS_SERVICE: 'HTTP@localhost', DRYDOCK_KERBEROS_REALMS: 'DRYDOCK.TEST' },
    }),
  ]);
  sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
  // Users an admin created: alice by the realm's mail domain, bob by the configured one, dora disabled.
  const add = async (email: string, role: string, disabled = false) => {
    const id = newId();
    await sql`insert into users (id, team_id, email, name, role, disabled) values (${id}, 'default', ${email}, ${email}, ${role}, ${disabled})`;
    await sql`insert into memberships (user_id, team_id, role) values (${id}, 'default', ${role})`;
    return id;
  };
  await add('alice@drydock.test', 'operator');
  await add('Bob@Example.com', 'viewer');
  await add('dora@example.com', 'viewer', true);
});

afterAll(async () => {
  await sql?.end();
  await Promise.all([stack?.teardown(), plain?.teardown(), broken?.teardown()]);
  await kdc?.stop();
});

/** What a browser with the user's Kerberos ticket sends: a fresh SPNEGO token for HTTP/localhost. */
async function tokenOf(user: string) {
  process.env.KRB5CCNAME = await kdc.kinit(user, `${user}-password`);
  const client = await initializeClient('HTTP@localhost', { mechOID: GSS_MECH_OID_SPNEGO, gssFlag: GSS_C_MUTUAL_FLAG });
  return { client, token: await client.step('') };
}

const negotiate = (on: TestStack, authorization?: string) =>
  on.api('/api/v1/auth/negotiate', { redirect: 'manual', headers: authorization ? { authorization } : {} });

const sessionOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('drydock_session=') && c.length > 'drydock_session='.length);

describe('Kerberos sign-in with a real KDC', () => {
  test('without a ticket the route asks for one', async () => {
    const res = await negotiate(stack);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Negotiate');
    expect(((await res.json()) as ErrorAnswer).error).toMatchObject({ reason: 'missing' });
  });

  test('a good ticket gives a session of the user with that email, and proves Drydock to the client', async () => {
    const { client, token } = await tokenOf('alice');
    const res = await negotiate(stack, `Negotiate ${token}`);
    expect(res.status, await res.clone().text()).toBe(303);
    const session = sessionOf(res);
    expect(session).toBeDefined();
    expect(res.headers.getSetCookie().find((c) => c.startsWith('drydock_session='))).toMatch(/HttpOnly/i);
    // Mutual authentication: the client accepts Drydock's answer token.
    const reply = /^Negotiate (\S+)$/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
    expect(reply).toBeDefined();
    await client.step(reply!);
    expect(client.contextComplete).toBe(true);

    const me = (await (await stack.api('/api/v1/me', { headers: { cookie: session! } })).json()) as Me;
    expect(me).toMatchObject({ email: 'alice@drydock.test', role: 'operator', teamId: 'default', auth: 'session' });
    const rows = await sql`select actor_name, result, detail from audit_log where action = 'auth.kerberos.sign-in'`;
    expect(rows).toEqual([{ actor_name: 'alice@drydock.test', result: 303, detail: { principal: 'alice@DRYDOCK.TEST', linked: true } }]);
    // The principal is now linked: the next sign-in finds the user by the link.
    const again = await negotiate(stack, `Negotiate ${(await tokenOf('alice')).token}`);
    expect(again.status).toBe(303);
    expect(await sql`select subject from external_identities where issuer = 'kerberos:DRYDOCK.TEST'`).toEqual([{ subject: 'alice' }]);
  });

  test('DRYDOCK_KERBEROS_EMAIL_DOMAIN maps a principal to the mail domain, whatever the case of the email', async () => {
    const res = await negotiate(stack, `Negotiate ${(await tokenOf('bob')).token}`);
    expect(res.status).toBe(303);
    const me = (await (await stack.api('/api/v1/me', { headers: { cookie: sessionOf(res)! } })).json()) as Me;
    expect(me).toMatchObject({ email: 'Bob@Example.com', role: 'viewer' });
  });

  test('a principal without a Drydock user gets 403 saying what an admin has to do, and nobody is created', async () => {
    const res = await negotiate(stack, `Negotiate ${(await tokenOf('mallory')).token}`);
    expect(res.status).toBe(403);
    expect(sessionOf(res)).toBeUndefined();
    expect(((await res.json()) as ErrorAnswer).error.message).toBe(
      'no Drydock user matches the Kerberos principal mallory@DRYDOCK.TEST: an admin creates a user with the email mallory@drydock.test or mallory@example.com',
    );
    expect(await sql`select count(*)::int as n from users where email like 'mallory%'`).toEqual([{ n: 0 }]);
    const [row] = await sql`select actor_name, result, detail from audit_log where action = 'auth.kerberos.sign-in.failed' and result = 403`;
    expect(row).toMatchObject({ actor_name: 'mallory@DRYDOCK.TEST', detail: { reason: 'no_user', principal: 'mallory@DRYDOCK.TEST' } });
  });

  test('a disabled user gets 403', async () => {
    const res = await negotiate(stack, `Negotiate ${(await tokenOf('dora')).token}`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorAnswer).error.message).toContain('this user is disabled');
    const [row] = await sql`select detail from audit_log where action = 'auth.kerberos.sign-in.failed' and actor_name = 'dora@DRYDOCK.TEST'`;
    expect(row).toMatchObject({ detail: { reason: 'disabled' } });
  });

  test('a garbage token gets 401 with the reason, and a failed sign-in row', async () => {
    const res = await negotiate(stack, 'Negotiate Z2FyYmFnZSBpbiwgZ2FyYmFnZSBvdXQ=');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Negotiate');
    expect(((await res.json()) as ErrorAnswer).error).toMatchObject({ reason: 'malformed', message: 'the Negotiate token is not a Kerberos or SPNEGO token' });
    expect(sessionOf(res)).toBeUndefined();
    const [row] = await sql`select actor_name, detail from audit_log where action = 'auth.kerberos.sign-in.failed' and result = 401`;
    expect(row).toMatchObject({ actor_name: 'anonymous', detail: { reason: 'malformed' } });
  });

  test('a token presented twice is refused the second time', async () => {
    const { token } = await tokenOf('alice');
    expect((await negotiate(stack, `Negotiate ${token}`)).status).toBe(303);
    const replay = await negotiate(stack, `Negotiate ${token}`);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as ErrorAnswer).error.reason).toBe('replayed');
  });

  test('without a keytab the route says Kerberos is not configured', async () => {
    const res = await negotiate(plain, `Negotiate ${(await tokenOf('alice')).token}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorAnswer).error).toEqual({
      code: 'not_configured',
      message: 'Kerberos sign-in is not configured on this Drydock: an operator sets DRYDOCK_KERBEROS_KEYTAB and DRYDOCK_KERBEROS_REALMS (docs/operators.md, "Kerberos sign-in")',
    });
  });

  test('a keytab without the service principal: 503 with the reason, not a sign-in', async () => {
    const res = await negotiate(broken, `Negotiate ${(await tokenOf('alice')).token}`);
    expect(res.status).toBe(503);
    expect(sessionOf(res)).toBeUndefined();
    expect(((await res.json()) as ErrorAnswer).error.message).toMatch(
      /^Kerberos sign-in cannot start: the keytab \S+other\.keytab cannot verify tickets for HTTP\/localhost \(DRYDOCK_KERBEROS_SERVICE\): .+; fix the setting and restart the API$/,
    );
  });
});
