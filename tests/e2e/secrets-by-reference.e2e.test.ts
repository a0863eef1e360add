import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunView } from '@drydock/core';
import { type SshdFleet, startSshdFleet } from '../support/sshd-fleet.ts';
import { REGISTRATION_SECRET, startTestStack, type TestStack } from '../support/stack.ts';
import { startVaultDouble, type VaultDouble } from '../support/vault-double.ts';

// Secret parameters travel as references (issue 9, parts 7 and 8): sealed in run_secrets for the run's life, or
// kept as vault: references, and resolved by whoever executes the run: the agent through its API route, a central
// worker through Postgres. Temporal history, raw and decoded through the codec, holds only the references.

const MANIFESTS: Record<string, string> = {
  'show-secret': `id: show-secret
name: Shows what its secrets hash to
script: scripts/show-secret.sh
interpreter: bash
retries: 0
parameters:
  - name: token
    type: secret
  - name: hold
    type: integer
    default: 0
`,
  'retry-secret': `id: retry-secret
name: Fails its first attempt
script: scripts/retry-secret.sh
interpreter: bash
retries: 1
retry_delay: 0
parameters:
  - name: token
    type: secret
  - name: marker
    type: string
    required: true
`,
  'vault-secret': `id: vault-secret
name: Reads a password from Vault
script: scripts/show-secret.sh
interpreter: bash
retries: 0
parameters:
  - name: db_password
    type: secret
    default: vault:secret/app/db#password
  - name: hold
    type: integer
    default: 0
`,
};

// The script proves it saw each value by its hash; printing a value itself is masked.
const SCRIPT = `#!/usr/bin/env bash
set -euo pipefail
printf 'token sha256=%s\\n' "$(printf %s "\${DRYDOCK_PARAM_TOKEN-}" | sha256sum | cut -d' ' -f1)"
printf 'db_password sha256=%s\\n' "$(printf %s "\${DRYDOCK_PARAM_DB_PASSWORD-}" | sha256sum | cut -d' ' -f1)"
echo "token echoed: \${DRYDOCK_PARAM_TOKEN-}"
sleep "\${DRYDOCK_PARAM_HOLD}"
`;

// The first attempt leaves a marker and fails; the next one finds it and succeeds.
const RETRY_SCRIPT = `#!/usr/bin/env bash
set -euo pipefail
printf 'token sha256=%s\\n' "$(printf %s "\${DRYDOCK_PARAM_TOKEN-}" | sha256sum | cut -d' ' -f1)"
if [ ! -e "\${DRYDOCK_PARAM_MARKER}" ]; then touch "\${DRYDOCK_PARAM_MARKER}"; exit 1; fi
`;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const DB_PASSWORD = `vault-pw-${randomBytes(8).toString('hex')}`;
const APPROLE_SECRET_ID = `sid-${randomBytes(8).toString('hex')}`;

let stack: TestStack;
let sql: postgres.Sql;
let vault: VaultDouble;
let fleet: SshdFleet;
let catalogDir: string;
let sshHost: string;

beforeAll(async () => {
  vault = await startVaultDouble();
  vault.mountKv('secret');
  vault.putSecret('secret', 'app/db', { password: DB_PASSWORD, user: 'app' });
  vault.putSecret('secret', 'other/db', { password: 'not-for-drydock' });
  vault.addAppRole({ roleId: 'drydock-role', secretId: APPROLE_SECRET_ID, read: ['secret/data/app/*'], ttlSeconds: 3600 });

  catalogDir = await mkdtemp(join(tmpdir(), 'drydock-secret-refs-'));
  await mkdir(join(catalogDir, 'manifests'));
  await mkdir(join(catalogDir, 'scripts'));
  for (const [id, text] of Object.entries(MANIFESTS)) await writeFile(join(catalogDir, 'manifests', `${id}.yaml`), text);
  await writeFile(join(catalogDir, 'scripts', 'show-secret.sh'), SCRIPT);
  await writeFile(join(catalogDir, 'scripts', 'retry-secret.sh'), RETRY_SCRIPT);

  stack = await startTestStack({
    env: {
      DRYDOCK_CATALOG_DIR: catalogDir,
      DRYDOCK_VAULT_ADDR: vault.address,
      DRYDOCK_VAULT_ROLE_ID: 'drydock-role',
      DRYDOCK_VAULT_SECRET_ID: APPROLE_SECRET_ID,
    },
  });
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
  for (let i = 0; i < 200; i++) {
    const res = await stack.api('/api/v1/scripts');
    if (res.ok && ((await res.json()) as { scripts: unknown[] }).scripts.length >= 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  fleet = await startSshdFleet(stack, { count: 1, prefix: 'vault' });
  sshHost = fleet.hosts[0]!.id;
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await sql?.end();
  await stack?.teardown();
  await vault?.close();
  if (catalogDir) await rm(catalogDir, { recursive: true, force: true });
});

/** Every payload of the run's history: raw as Temporal stores it, and decoded as Temporal Web shows it through the API's codec endpoint. */
async function history(run: RunView): Promise<{ raw: string; decoded: string }> {
  const connection = await Connection.connect({ address: stack.config.temporalAddress });
  try {
    const events = await new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE }).workflow.getHandle(run.workflowId).fetchHistory();
    const payloads: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }[] = [];
    collectPayloads(events, payloads);
    expect(payloads.length).toBeGreaterThan(3);
    const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
    const res = await stack.api('/api/v1/codec/decode', {
      method: 'POST',
      json: { payloads: payloads.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) })) },
    });
    expect(res.status).toBe(200);
    const decoded = ((await res.json()) as { payloads: { data?: string }[] }).payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString('utf8'));
    return { raw: payloads.map((p) => Buffer.from(p.data ?? []).toString('latin1')).join('\n'), decoded: decoded.join('\n') };
  } finally {
    await connection.close();
  }
}

function collectPayloads(node: unknown, out: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }[]): void {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
  if ('payloads' in node && Array.isArray(node.payloads)) out.push(...(node.payloads as typeof out));
  if ('indexedFields' in node) return;
  for (const value of Object.values(node)) collectPayloads(value, out);
}

async function start(scriptId: string, params: Record<string, unknown>, hostId: string): Promise<RunView> {
  const res = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId, hostId, params } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as RunView;
}

/** Files under `dir` (the stack's data directory: the agent's state and attempt journal among them) whose bytes hold `text`. */
async function filesHolding(dir: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path).catch(() => Buffer.alloc(0));
    if (bytes.includes(text)) found.push(path);
  }
  return found;
}

async function heldSecrets(runId: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from run_secrets where run_id = ${runId}`;
  return row!.n as number;
}

describe.each([
  ['an agent', () => 'local'],
  ['SSH', () => sshHost],
])('a secret parameter on a host reached through %s', (_via, hostOf) => {
  test('the script sees the value, the log and history hold only the reference, and the sealed row is gone after the run', async () => {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const run = await start('show-secret', { token, hold: 2 }, hostOf());
    expect(run.params.token).toBe('••••••');
    // While the run lives its value is sealed: the row holds ciphertext, never the value.
    const [row] = await sql`select value_enc, vault_ref from run_secrets where run_id = ${run.id} and name = 'token'`;
    expect(row!.vault_ref).toBeNull();
    expect(String(row!.value_enc)).toMatch(/^v1:/);
    expect(String(row!.value_enc)).not.toContain(token);

    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines).toContain(`token sha256=${sha256(token)}`);
    expect(lines).toContain('token echoed: ••••••');
    expect(lines.join('\n')).not.toContain(token);

    const { raw, decoded } = await history(run);
    expect(raw).not.toContain(token);
    expect(decoded).not.toContain(token);
    // Decoded, the workflow input and the job name the sealed row, and nothing else of the token.
    expect(decoded).toMatch(/"secretRefs":\{"token":\{"secretRef":"[0-9a-f-]{36}"\}\}/);

    expect(await heldSecrets(run.id)).toBe(0);
    // The agent held the value in memory only: nothing it keeps on disk (state, journal) has it.
    expect(await filesHolding(stack.config.DRYDOCK_DATA_DIR, token)).toEqual([]);
  });

  test('a retry within the run finds the sealed value again', async () => {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const marker = join(catalogDir, `marker-${randomBytes(4).toString('hex')}`);
    const run = await start('retry-secret', { token, marker }, hostOf());
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded', attempts: 2 });
    const seen = (await stack.lines(run.id)).filter((l) => l.line === `token sha256=${sha256(token)}`).map((l) => l.attempt);
    expect(seen.sort()).toEqual([1, 2]);
    expect(await heldSecrets(run.id)).toBe(0);
  });

  test('a vault: reference resolves through AppRole; history holds the reference, never the value', async () => {
    const run = await start('vault-secret', {}, hostOf());
    const [row] = await sql`select value_enc, vault_ref from run_secrets where run_id = ${run.id}`;
    expect(row).toMatchObject({ value_enc: null, vault_ref: 'vault:secret/app/db#password' });
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded' });
    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines).toContain(`db_password sha256=${sha256(DB_PASSWORD)}`);
    expect(lines.join('\n')).not.toContain(DB_PASSWORD);

    const { raw, decoded } = await history(run);
    expect(raw).not.toContain(DB_PASSWORD);
    expect(decoded).not.toContain(DB_PASSWORD);
    expect(decoded).toContain('"secretRefs":{"db_password":{"secretRef":');
    expect(await heldSecrets(run.id)).toBe(0);
    // Whoever resolved it (the API for the agent, the worker for SSH) signed in with the AppRole and read with its token.
    expect(vault.requests.some((r) => r.path === '/v1/auth/approle/login' && r.status === 200)).toBe(true);
    expect(vault.requests.some((r) => r.path === '/v1/secret/data/app/db' && r.status === 200 && r.withToken)).toBe(true);
  });

  test.each([
    ['a key the secret lacks', 'vault:secret/app/db#nokey', /vault:secret\/app\/db#nokey.*has no key "nokey"; its keys are "password", "user"/],
    ['a path the AppRole may not read (Vault 403)', 'vault:secret/other/db#password', /\(vault:secret\/other\/db#password\).*Vault refused to read secret\/other\/db.*needs a policy with "read" on secret\/data\/other\/db/],
  ])('%s fails the run, naming the reference and what Vault said', async (_what, reference, message) => {
    const run = await start('vault-secret', { db_password: reference }, hostOf());
    const final = await stack.waitForRun(run.id);
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(message);
    expect(final.error).toContain('db_password');
    expect(final.error).not.toContain('not-for-drydock');
    expect(await heldSecrets(run.id)).toBe(0);
  });

  test('Vault down fails the run with what Vault said', async () => {
    vault.sealed = true;
    try {
      const run = await start('vault-secret', {}, hostOf());
      const final = await stack.waitForRun(run.id);
      expect(final.status).toBe('failed');
      expect(final.error).toMatch(/the secret parameter db_password \(vault:secret\/app\/db#password\) could not be read from Vault: Vault at .* is sealed or in maintenance \(HTTP 503/);
      expect(await heldSecrets(run.id)).toBe(0);
    } finally {
      vault.sealed = false;
    }
  });
});

describe('a bulk execution with a secret parameter', () => {
  test('every host (an agent, an SSH host) sees the value; the execution and its runs hold references; the sealed rows go when it ends', async () => {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const res = await stack.api('/api/v1/bulk', { method: 'POST', json: { scriptId: 'show-secret', selector: { hostIds: ['local', sshHost] }, params: { token } } });
    expect(res.status, await res.clone().text()).toBe(201);
    const bulk = (await res.json()) as { id: string; workflowId: string };
    const [held] = await sql`select count(*)::int as n from run_secrets where bulk_id = ${bulk.id}`;
    expect(held!.n).toBe(1);
    let status = '';
    for (let i = 0; i < 600 && !['succeeded', 'failed', 'cancelled'].includes(status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = ((await (await stack.api(`/api/v1/bulk/${bulk.id}`)).json()) as { status: string }).status;
    }
    expect(status).toBe('succeeded');
    const hosts = ((await (await stack.api(`/api/v1/bulk/${bulk.id}/hosts`)).json()) as { hosts: { hostId: string; runId: string }[] }).hosts;
    expect(hosts.map((h) => h.hostId).sort()).toEqual(['local', sshHost].sort());
    for (const host of hosts) {
      const lines = (await stack.lines(host.runId)).map((l) => l.line);
      expect(lines).toContain(`token sha256=${sha256(token)}`);
      const { raw, decoded } = await history(await stack.run(host.runId));
      expect(raw + decoded).not.toContain(token);
      expect(decoded).toContain('"secretRefs":{"token":{"secretRef":');
    }
    const { raw, decoded } = await history({ workflowId: bulk.workflowId } as RunView);
    expect(raw + decoded).not.toContain(token);
    const [gone] = await sql`select count(*)::int as n from run_secrets where bulk_id = ${bulk.id}`;
    expect(gone!.n).toBe(0);
  });
});

describe('a credential kept in Vault', () => {
  test('an SSH host whose key is a vault: reference is reached with the key Vault holds; a malformed reference is a 400', async () => {
    vault.putSecret('secret', 'app/ssh', { private_key: await readFile(fleet.privateKeyPath, 'utf8') });
    const bad = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'bad-ref', kind: 'ssh_key', secret: 'vault:secret/app/ssh' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('name the key after');

    const cred = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'vault-key', kind: 'ssh_key', secret: 'vault:secret/app/ssh#private_key' } });
    expect(cred.status).toBe(201);
    const credentialId = ((await cred.json()) as { id: string }).id;
    const host = await stack.api('/api/v1/hosts', {
      method: 'POST',
      json: { id: 'vault-keyed', transport: 'ssh', address: '127.0.0.1', port: fleet.hosts[0]!.port, username: fleet.username, credentialId },
    });
    expect(host.status).toBe(201);
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const run = await start('show-secret', { token }, 'vault-keyed');
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded' });
    expect((await stack.lines(run.id)).map((l) => l.line)).toContain(`token sha256=${sha256(token)}`);

    // A key the secret lacks fails the run, naming the credential and the reference.
    const wrong = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'wrong-key', kind: 'ssh_key', secret: 'vault:secret/app/ssh#nokey' } });
    const wrongId = ((await wrong.json()) as { id: string }).id;
    const other = await stack.api('/api/v1/hosts', {
      method: 'POST',
      json: { id: 'vault-nokey', transport: 'ssh', address: '127.0.0.1', port: fleet.hosts[0]!.port, username: fleet.username, credentialId: wrongId },
    });
    expect(other.status).toBe(201);
    const failed = await stack.waitForRun((await start('show-secret', {}, 'vault-nokey')).id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/the credential of host vault-nokey \(vault:secret\/app\/ssh#nokey\) could not be read from Vault: .*has no key "nokey"/);
  });
});

describe('the agent route for secrets', () => {
  test("an agent asking for another host's run gets 404; an ended run's secrets are gone", async () => {
    const reg = await stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: REGISTRATION_SECRET, hostName: 'spare' } });
    expect(reg.status).toBe(201);
    const { token: agentToken } = (await reg.json()) as { token: string };
    const asSpare = (runId: string) => stack.api(`/api/v1/agent/runs/${runId}/secrets`, { headers: { authorization: `Bearer ${agentToken}` } });

    const secret = `tok-${randomBytes(12).toString('hex')}`;
    const run = await start('show-secret', { token: secret, hold: 60 }, 'local');
    await stack.waitForLine(run.id, /^token sha256=/);
    const refused = await asSpare(run.id);
    expect(refused.status).toBe(404);
    expect(await refused.text()).not.toContain(secret);
    expect((await asSpare('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    // Without an agent token the route is closed.
    expect((await stack.anonymous(`/api/v1/agent/runs/${run.id}/secrets`)).status).toBe(401);

    expect((await stack.api(`/api/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBeLessThan(300);
    expect((await stack.waitForRun(run.id)).status).toBe('cancelled');
    expect(await heldSecrets(run.id)).toBe(0);
  });
});
