import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { GSS_C_MUTUAL_FLAG, GSS_MECH_OID_SPNEGO, initializeClient } from 'kerberos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKdc, type TestKdc } from '../../../tests/support/kerberos-kdc.ts';
import { createSpnegoVerifier, type KerberosUser, type NegotiateEnv, negotiateMiddleware, SpnegoError, type SpnegoVerifier, userFromPrincipal } from './spnego.ts';

const NTLM_NEGOTIATE = 'TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==';

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: { code: string; reason: string; message: string } } & Partial<KerberosUser>;
}

describe('Kerberos sign-in with Negotiate against a real MIT KDC', () => {
  let kdc: TestKdc;
  let verifier: SpnegoVerifier;
  let keytab: string;
  let server: ServerType;
  let port: number;
  let aliceCache: string;

  beforeAll(async () => {
    kdc = await startKdc({
      users: { alice: 'alice-password', Carol: 'carol-password' },
      services: ['HTTP/localhost', 'host/localhost', 'HTTP/other.localhost'],
    });
    // The API process's own Kerberos settings: the test realm's krb5.conf, and a replay cache of its own.
    process.env.KRB5_CONFIG = kdc.krb5Config;
    process.env.KRB5RCACHEDIR = kdc.dir;
    // The keytab holds a second service (host/localhost): only HTTP/localhost may open Drydock.
    keytab = await kdc.keytab(['HTTP/localhost', 'host/localhost'], 'drydock.keytab');
    verifier = await createSpnegoVerifier({ keytab, service: 'HTTP@localhost' });
    const app = new Hono<NegotiateEnv>();
    app.use('/whoami', negotiateMiddleware(verifier, ['DRYDOCK.TEST']));
    app.get('/whoami', (c) => c.json(c.get('kerberosUser')));
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
    aliceCache = await kdc.kinit('alice', 'alice-password');
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await kdc?.stop();
  });

  /** `curl --negotiate -u :` as a user's shell would run it, with that user's ticket cache. */
  async function curl(ccache: string | undefined, host = 'localhost'): Promise<Answer> {
    const args = ['-s', '-i', '--max-time', '20', '--negotiate', '-u', ':', '--resolve', `${host}:${port}:127.0.0.1`, `http://${host}:${port}/whoami`];
    const env = { ...process.env, ...kdc.env, KRB5CCNAME: ccache ?? `FILE:${kdc.dir}/no-such-cache` };
    const raw = await new Promise<string>((resolve, reject) =>
      execFile('curl', args, { env }, (err, stdout, stderr) => (err ? reject(new Error(`curl failed: ${stderr || err.message}`)) : resolve(stdout))),
    );
    // With --negotiate curl may print a 401 before the answer to its retry: the last response is the one that counts.
    const last = raw.slice(raw.lastIndexOf('HTTP/1.1 '));
    const [head, body = ''] = last.split(/\r\n\r\n/);
    const lines = head!.split('\r\n');
    const headers = new Headers(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
    return { status: Number(lines[0]!.split(' ')[1]), headers, body: JSON.parse(body) as Answer['body'] };
  }

  async function send(authorization?: string): Promise<Answer> {
    const res = await fetch(`http://127.0.0.1:${port}/whoami`, authorization ? { headers: { authorization } } : {});
    return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
  }

  /** A Negotiate token from the kerberos package's client side, with the ticket cache `ccache`, for `service`. */
  async function clientToken(ccache: string, service: string) {
    process.env.KRB5CCNAME = ccache;
    const client = await initializeClient(service, { mechOID: GSS_MECH_OID_SPNEGO, gssFlag: GSS_C_MUTUAL_FLAG });
    return { client, token: await client.step('') };
  }

  it('signs in a user whose ticket curl presents, and maps the principal to a user name', async () => {
    const answer = await curl(aliceCache);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ principal: 'alice@DRYDOCK.TEST', username: 'alice', realm: 'DRYDOCK.TEST' });
    expect(answer.headers.get('www-authenticate')).toMatch(/^Negotiate [A-Za-z0-9+/]+=*$/);
  });

  it('writes user names in lower case', async () => {
    const answer = await curl(await kdc.kinit('Carol', 'carol-password'));
    expect(answer.body).toEqual({ principal: 'Carol@DRYDOCK.TEST', username: 'carol', realm: 'DRYDOCK.TEST' });
  });

  it('proves itself to the client: the response token completes mutual authentication', async () => {
    const { client, token } = await clientToken(aliceCache, 'HTTP@localhost');
    expect(client.contextComplete).toBe(false);
    const answer = await send(`Negotiate ${token}`);
    expect(answer.status).toBe(200);
    const reply = /^Negotiate (\S+)$/.exec(answer.headers.get('www-authenticate') ?? '')?.[1];
    expect(reply).toBeDefined();
    await client.step(reply!);
    expect(client.contextComplete).toBe(true);
  });

  it('asks for Negotiate when a request has no Authorization header', async () => {
    const answer = await send();
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Negotiate');
    expect(answer.body.error).toEqual({
      code: 'unauthorized',
      reason: 'missing',
      message: 'Kerberos sign-in needs an Authorization: Negotiate header; the client offered none',
    });
  });

  it('asks again when the client has no ticket to offer', async () => {
    const answer = await curl(undefined);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Negotiate');
    expect(answer.body.error?.reason).toBe('missing');
  });

  it('refuses a garbage token with a clear message', async () => {
    for (const header of ['Negotiate Z2FyYmFnZSBpbiwgZ2FyYmFnZSBvdXQ=', 'Negotiate YIIBAAYGKwYBBQUCoA==']) {
      const answer = await send(header);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Negotiate');
      expect(answer.body.error).toMatchObject({ reason: 'malformed', message: 'the Negotiate token is not a Kerberos or SPNEGO token' });
    }
    expect((await send('Negotiate')).body.error).toMatchObject({ reason: 'malformed', message: 'the Negotiate header carries no base64 token' });
    expect((await send('Negotiate not/base64!')).body.error?.reason).toBe('malformed');
  });

  it('says what an NTLM fallback means', async () => {
    const answer = await send(`Negotiate ${NTLM_NEGOTIATE}`);
    expect(answer.status).toBe(401);
    expect(answer.body.error?.reason).toBe('ntlm');
    expect(answer.body.error?.message).toMatch(/^the client sent NTLM, not Kerberos: it got no Kerberos ticket for HTTP\/localhost\. /);
  });

  it('refuses a ticket for another service principal, even one the keytab holds', async () => {
    const { token } = await clientToken(aliceCache, 'host@localhost');
    const inKeytab = await send(`Negotiate ${token}`);
    expect(inKeytab.status).toBe(401);
    expect(inKeytab.body.error?.reason).toBe('wrong_service');
    expect(inKeytab.body.error?.message).toMatch(/^the ticket is not for Drydock's service principal HTTP\/localhost/);

    const otherName = await curl(aliceCache, 'other.localhost');
    expect(otherName.status).toBe(401);
    expect(otherName.body.error?.reason).toBe('wrong_service');
  });

  it('refuses a token presented a second time', async () => {
    const { token } = await clientToken(aliceCache, 'HTTP@localhost');
    expect((await send(`Negotiate ${token}`)).status).toBe(200);
    const replay = await send(`Negotiate ${token}`);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ reason: 'replayed', message: 'this Negotiate token was already used once; a client sends a fresh one with every request' });
  });

  it('stops at start when the keytab cannot serve the configured service, or cannot be read', async () => {
    await expect(createSpnegoVerifier({ keytab, service: 'HTTP@drydock.elsewhere' })).rejects.toThrow(
      new RegExp(`^the keytab ${keytab} cannot verify tickets for HTTP/drydock\\.elsewhere \\(DRYDOCK_KERBEROS_SERVICE\\): `),
    );
    const missing = `${kdc.dir}/missing.keytab`;
    await rm(missing, { force: true });
    await expect(createSpnegoVerifier({ keytab: missing, service: 'HTTP@localhost' })).rejects.toThrow(`the keytab ${missing} (DRYDOCK_KERBEROS_KEYTAB) cannot be read: ENOENT`);
    // GSS-API takes its keytab from the process environment: a second one would silently replace the first.
    const second = await kdc.keytab(['HTTP/other.localhost'], 'second.keytab');
    await expect(createSpnegoVerifier({ keytab: second, service: 'HTTP@other.localhost' })).rejects.toThrow(
      `this process already verifies Kerberos tickets with ${keytab}; one process serves one keytab`,
    );
    // The verifier made before still works.
    expect((await curl(aliceCache)).status).toBe(200);
  });
});

describe('userFromPrincipal', () => {
  const realms = ['CORP.EXAMPLE.COM', 'EMEA.CORP.EXAMPLE.COM'];

  it('strips the realm and lower-cases the name', () => {
    expect(userFromPrincipal('Alice.Smith@CORP.EXAMPLE.COM', realms)).toEqual({ principal: 'Alice.Smith@CORP.EXAMPLE.COM', username: 'alice.smith', realm: 'CORP.EXAMPLE.COM' });
    expect(userFromPrincipal('bob@EMEA.CORP.EXAMPLE.COM', realms).username).toBe('bob');
  });

  function reason(principal: string, allowed = realms): string {
    try {
      userFromPrincipal(principal, allowed);
    } catch (err) {
      if (err instanceof SpnegoError) return `${err.reason}: ${err.message}`;
      throw err;
    }
    return 'accepted';
  }

  it('refuses realms the allow-list does not name, including the same name in another case', () => {
    expect(reason('alice@PARTNER.EXAMPLE.NET')).toBe('realm_not_allowed: users of the realm PARTNER.EXAMPLE.NET may not sign in here; DRYDOCK_KERBEROS_REALMS allows CORP.EXAMPLE.COM, EMEA.CORP.EXAMPLE.COM');
    expect(reason('alice@corp.example.com')).toMatch(/^realm_not_allowed: /);
    expect(reason('alice@CORP.EXAMPLE.COM', [])).toMatch(/allows none$/);
  });

  it('refuses principals that are not a person', () => {
    expect(reason('HTTP/web01.corp.example.com@CORP.EXAMPLE.COM')).toBe(
      'not_a_user: HTTP/web01.corp.example.com@CORP.EXAMPLE.COM is a service or administrative principal, not a person\'s; sign in as name@CORP.EXAMPLE.COM',
    );
    expect(reason('alice/admin@CORP.EXAMPLE.COM')).toMatch(/^not_a_user: /);
    expect(reason('alice')).toMatch(/^not_a_user: alice is not a user principal/);
    expect(reason('@CORP.EXAMPLE.COM')).toMatch(/^not_a_user: /);
    expect(reason('al\\@ice@CORP.EXAMPLE.COM')).toMatch(/^not_a_user: /);
  });
});
