import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VaultAuth } from '@drydock/core';
import { startVaultDouble, type VaultDouble } from '../../../tests/support/vault-double.ts';
import { createVaultClient, type VaultClientOptions } from './vault-client.ts';
import { VaultError } from './vault-error.ts';

const HOUR = 3_600_000;
let clock = Date.parse('2030-01-01T00:00:00Z');
const now = () => clock;

let vault: VaultDouble;
let readAll: string;

beforeAll(async () => {
  vault = await startVaultDouble({ now });
  vault.mountKv('secret');
  vault.mountKv('team-kv');
  vault.putSecret('secret', 'app/db', { username: 'app', password: 'first-password-v1' });
  vault.putSecret('secret', 'app/db', { username: 'app', password: 'db-password-v2', port: 5432, tls: true, replicas: ['a', 'b'], retired: null });
  vault.putSecret('team-kv', 'payments/stripe', { api_key: 'sk_live_never_in_a_message' });
  readAll = vault.createToken({ read: ['secret/data/*', 'team-kv/data/*'] });
});
afterAll(() => vault?.close());
beforeEach(() => {
  vault.sealed = false;
  vault.requests.length = 0;
});

function client(auth: VaultAuth, extra: Partial<VaultClientOptions> = {}) {
  return createVaultClient({ address: vault.address, auth, now, ...extra });
}

async function failure(promise: Promise<unknown>): Promise<VaultError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof VaultError) return err;
    throw err;
  }
  throw new Error('expected a VaultError');
}

describe('reading KV version 2 secrets with a token', () => {
  it('resolves a reference to the current version of the key, sending the token as X-Vault-Token', async () => {
    const vaultClient = client({ method: 'token', token: readAll });
    expect(await vaultClient.resolve('vault:secret/app/db#password')).toBe('db-password-v2');
    expect(vault.requests).toEqual([{ method: 'GET', path: '/v1/secret/data/app/db', query: '', status: 200, withToken: true }]);
  });

  it('reads a fixed version, and the whole secret with its version and time', async () => {
    const vaultClient = client({ method: 'token', token: readAll });
    expect(await vaultClient.resolve('vault:secret/app/db?version=1#password')).toBe('first-password-v1');
    const secret = await vaultClient.readSecret('secret', 'app/db');
    expect(secret).toMatchObject({ version: 2, data: { username: 'app', password: 'db-password-v2' } });
    expect(Date.parse(secret.createdTime)).not.toBeNaN();
  });

  it('gives numbers and booleans as text and lists or objects as JSON; null is no value', async () => {
    const vaultClient = client({ method: 'token', token: readAll });
    expect(await vaultClient.resolve('vault:secret/app/db#port')).toBe('5432');
    expect(await vaultClient.resolve('vault:secret/app/db#tls')).toBe('true');
    expect(await vaultClient.resolve('vault:secret/app/db#replicas')).toBe('["a","b"]');
    const err = await failure(vaultClient.resolve('vault:secret/app/db#retired'));
    expect(err).toMatchObject({ reason: 'not_found', message: 'key "retired" of secret/app/db (version 2) holds null, not a value' });
  });

  it('says which key is missing and which keys there are, never their values', async () => {
    const err = await failure(client({ method: 'token', token: readAll }).resolve('vault:secret/app/db#pasword'));
    expect(err.reason).toBe('not_found');
    expect(err.message).toBe(
      'vault:secret/app/db#pasword: secret/app/db (version 2) has no key "pasword"; its keys are "username", "password", "port", "tls", "replicas", "retired"',
    );
    expect(err.message).not.toContain('db-password-v2');
  });

  it('tells a missing secret, a missing version, a deleted and a destroyed version apart', async () => {
    const vaultClient = client({ method: 'token', token: readAll });
    vault.putSecret('secret', 'rotating', { key: 'one' });
    vault.putSecret('secret', 'rotating', { key: 'two' });
    vault.putSecret('secret', 'rotating', { key: 'three' });
    vault.deleteVersion('secret', 'rotating', 2);
    vault.destroyVersion('secret', 'rotating', 1);

    expect(await failure(vaultClient.resolve('vault:secret/app/nothing#k'))).toMatchObject({
      reason: 'not_found',
      message: 'Vault has no secret at secret/app/nothing: check the path, and that a KV version 2 engine is mounted at secret/',
    });
    expect(await failure(vaultClient.resolve('vault:secret/rotating?version=9#key'))).toMatchObject({ reason: 'not_found', message: 'Vault has no version 9 of secret/rotating' });
    const deleted = await failure(vaultClient.resolve('vault:secret/rotating?version=2#key'));
    expect(deleted.reason).toBe('not_found');
    expect(deleted.message).toMatch(/^version 2 of secret\/rotating was deleted at \d{4}-\d\d-\d\dT[\d:.]+Z; undelete it or use another version$/);
    expect(await failure(vaultClient.resolve('vault:secret/rotating?version=1#key'))).toMatchObject({ reason: 'not_found', message: 'version 1 of secret/rotating was destroyed' });
    expect(await vaultClient.resolve('vault:secret/rotating#key')).toBe('three');
  });

  it('names the mount when no KV engine is there', async () => {
    const err = await failure(client({ method: 'token', token: readAll }).resolve('vault:kv/app#k'));
    expect(err.reason).toBe('not_found');
    expect(err.message).toMatch(/^Vault has no secret at kv\/app \(no handler for route "kv\/data\/app"\. route entry not found\.\): .*mounted at kv\/$/);
  });

  it('says which policy path a token lacks, without the token in the message', async () => {
    const narrow = vault.createToken({ read: ['secret/data/app/*'] });
    const vaultClient = client({ method: 'token', token: narrow });
    expect(await vaultClient.resolve('vault:secret/app/db#username')).toBe('app');
    const err = await failure(vaultClient.resolve('vault:team-kv/payments/stripe#api_key'));
    expect(err.reason).toBe('permission_denied');
    expect(err.message).toBe(
      'Vault refused to read team-kv/payments/stripe: permission denied. The token in DRYDOCK_VAULT_TOKEN needs a policy with "read" on team-kv/data/payments/stripe',
    );
    expect(err.message).not.toContain(narrow);
    expect(err.message).not.toContain('sk_live');
  });

  it('tells an expired or revoked token from a missing policy', async () => {
    const shortLived = vault.createToken({ read: ['secret/data/*'], ttlSeconds: 60 });
    const vaultClient = client({ method: 'token', token: shortLived });
    expect(await vaultClient.resolve('vault:secret/app/db#username')).toBe('app');
    clock += 61_000;
    const err = await failure(vaultClient.resolve('vault:secret/app/db#username'));
    expect(err).toMatchObject({
      reason: 'permission_denied',
      message: 'Vault no longer honours the token in DRYDOCK_VAULT_TOKEN (it expired or was revoked): give Drydock a new one',
    });
  });

  it('refuses a malformed reference before asking Vault anything', async () => {
    const vaultClient = client({ method: 'token', token: readAll });
    for (const reference of ['secret/app/db#password', 'vault:secret/../../sys/seal#x', 'vault:secret/app/db']) {
      expect((await failure(vaultClient.resolve(reference))).reason).toBe('malformed_reference');
    }
    expect((await failure(vaultClient.resolve('vault:secret/app/db'))).message).toMatch(/^not a Vault reference: name the key after "#"/);
    expect(await failure(vaultClient.readSecret('secret', 'app/../../sys/seal'))).toMatchObject({
      reason: 'malformed_reference',
      message: '"secret/app/../../sys/seal" is not a secret\'s path: no empty, "." or ".." segments',
    });
    expect(vault.requests).toEqual([]);
  });

  it('sends the namespace when one is configured', async () => {
    await client({ method: 'token', token: readAll }, { namespace: 'ops/eu' }).resolve('vault:secret/app/db#username');
    expect(vault.requests.map((r) => r.namespace)).toEqual(['ops/eu']);
  });
});

describe('when Vault cannot answer', () => {
  it('says Vault is sealed', async () => {
    vault.sealed = true;
    const err = await failure(client({ method: 'token', token: readAll }).resolve('vault:secret/app/db#password'));
    expect(err).toMatchObject({ reason: 'unavailable' });
    expect(err.message).toBe(`Vault at ${vault.address} is sealed or in maintenance (HTTP 503: Vault is sealed); unseal it, or try again once it is back`);
  });

  it('says Vault is unreachable when nothing listens at its address', async () => {
    const closed = await startVaultDouble();
    await closed.close();
    const err = await failure(createVaultClient({ address: closed.address, auth: { method: 'token', token: readAll } }).resolve('vault:secret/app/db#password'));
    expect(err).toMatchObject({ reason: 'unavailable', message: `Vault at ${closed.address} is unreachable: connection refused` });
  });

  it('says Vault is unreachable when it does not answer in time', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const address = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const err = await failure(createVaultClient({ address, auth: { method: 'token', token: readAll }, requestTimeoutMs: 200 }).resolve('vault:secret/a#b'));
      expect(err).toMatchObject({ reason: 'unavailable', message: `Vault at ${address} is unreachable: no answer in time` });
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('says when the address answers with something that is not Vault', async () => {
    const web = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>intranet</html>'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const address = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    try {
      const err = await failure(createVaultClient({ address, auth: { method: 'token', token: readAll } }).resolve('vault:secret/a#b'));
      expect(err).toMatchObject({ reason: 'rejected', message: `${address} answered HTTP 200 with a body that is not JSON: is DRYDOCK_VAULT_ADDR the address of Vault?` });
    } finally {
      await new Promise((r) => web.close(r));
    }
  });
});

describe('AppRole', () => {
  const secretId = 'secret-id-never-in-a-message';
  beforeAll(() => {
    vault.addAppRole({ roleId: 'drydock-worker', secretId, read: ['secret/data/app/*'], ttlSeconds: 3600, maxTtlSeconds: 3 * 3600 });
    vault.addAppRole({ roleId: 'drydock-agent', secretId, read: ['secret/data/app/*'], ttlSeconds: 600, mount: 'approle-agents' });
  });
  const approle: VaultAuth = { method: 'approle', roleId: 'drydock-worker', secretId, mount: 'approle' };
  const calls = () => vault.requests.map((r) => `${r.method} ${r.path} ${r.status}`);

  it('logs in once and reads with the token it got', async () => {
    const vaultClient = client(approle);
    expect(await vaultClient.resolve('vault:secret/app/db#password')).toBe('db-password-v2');
    expect(await vaultClient.resolve('vault:secret/app/db#username')).toBe('app');
    expect(calls()).toEqual(['POST /v1/auth/approle/login 200', 'GET /v1/secret/data/app/db 200', 'GET /v1/secret/data/app/db 200']);
  });

  it('logs in at the AppRole mount it is given', async () => {
    expect(await client({ ...approle, roleId: 'drydock-agent', mount: 'approle-agents' }).resolve('vault:secret/app/db#username')).toBe('app');
    expect(calls()[0]).toBe('POST /v1/auth/approle-agents/login 200');
  });

  it('shares one login between reads that start together', async () => {
    const vaultClient = client(approle);
    const values = await Promise.all(['username', 'password', 'port'].map((key) => vaultClient.resolve(`vault:secret/app/db#${key}`)));
    expect(values).toEqual(['app', 'db-password-v2', '5432']);
    expect(calls().filter((c) => c.includes('/login'))).toHaveLength(1);
  });

  it("renews the token two thirds into its lease, and logs in again once renewal reaches the role's max TTL", async () => {
    const vaultClient = client(approle);
    await vaultClient.resolve('vault:secret/app/db#username');
    clock += 0.7 * HOUR;
    expect(await vaultClient.resolve('vault:secret/app/db#username')).toBe('app');
    expect(calls().slice(-2)).toEqual(['POST /v1/auth/token/renew-self 200', 'GET /v1/secret/data/app/db 200']);

    // Renewed at 0.7 h and 1.4 h; at 2.1 h a renewal ends at the max TTL (3 h), at 2.8 h it would not extend the lease.
    for (let i = 0; i < 3; i++) {
      clock += 0.7 * HOUR;
      expect(await vaultClient.resolve('vault:secret/app/db#username')).toBe('app');
    }
    expect(calls().filter((c) => !c.startsWith('GET /v1/secret'))).toEqual([
      'POST /v1/auth/approle/login 200',
      'POST /v1/auth/token/renew-self 200',
      'POST /v1/auth/token/renew-self 200',
      'POST /v1/auth/token/renew-self 200',
      'POST /v1/auth/token/renew-self 200',
      'POST /v1/auth/approle/login 200',
    ]);
  });

  it('logs in again when Vault no longer honours a token before its lease ends', async () => {
    const vaultClient = client(approle);
    await vaultClient.resolve('vault:secret/app/db#username');
    vault.revokePrefix('auth/approle/');
    expect(await vaultClient.resolve('vault:secret/app/db#password')).toBe('db-password-v2');
    expect(calls().slice(-4)).toEqual([
      'GET /v1/secret/data/app/db 403',
      'GET /v1/auth/token/lookup-self 403',
      'POST /v1/auth/approle/login 200',
      'GET /v1/secret/data/app/db 200',
    ]);
  });

  it('does not log in again for a path its policies do not cover', async () => {
    const vaultClient = client(approle);
    const err = await failure(vaultClient.resolve('vault:team-kv/payments/stripe#api_key'));
    expect(err).toMatchObject({
      reason: 'permission_denied',
      message: 'Vault refused to read team-kv/payments/stripe: permission denied. The token of the AppRole (auth/approle) needs a policy with "read" on team-kv/data/payments/stripe',
    });
    expect(calls()).toEqual(['POST /v1/auth/approle/login 200', 'GET /v1/team-kv/data/payments/stripe 403', 'GET /v1/auth/token/lookup-self 200']);
  });

  it("passes on Vault's reason for a refused login, never the secret id", async () => {
    const err = await failure(client({ ...approle, secretId: 'wrong-secret-id' }).resolve('vault:secret/app/db#password'));
    expect(err.reason).toBe('login_failed');
    expect(err.message).toBe(
      'Vault refused the AppRole login at auth/approle: invalid role or secret ID. Check DRYDOCK_VAULT_ROLE_ID and DRYDOCK_VAULT_SECRET_ID (a secret id can expire or run out of uses) and DRYDOCK_VAULT_APPROLE_MOUNT',
    );
    expect(err.message).not.toContain('wrong-secret-id');
    expect(err.message).not.toContain(secretId);
  });

  it('says Vault is sealed when it is sealed at login', async () => {
    vault.sealed = true;
    expect((await failure(client(approle).resolve('vault:secret/app/db#password'))).reason).toBe('unavailable');
  });
});
