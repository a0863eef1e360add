import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, type HostView } from '@drydock/core';
import { keyPair, type KeyPair, type Sshd, startSshd } from '../../activities/src/ssh/sshd-fixtures.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// An agentless host: a real OpenSSH server on loopback, reached by the central worker with a stored key.

let stack: TestStack;
let dir: string;
let sshd: Sshd;
let port: number;
let client: KeyPair;
let credentialId: string;

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), 'drydock-sshhost-'));
  await chmod(dir, 0o755);
  client = await keyPair(join(dir, 'client'));
  await keyPair(join(dir, 'host-a'));
  await keyPair(join(dir, 'host-b'));
  await writeFile(join(dir, 'authorized_keys'), `${client.publicKey}\n`);
  port = await freePort();
  sshd = await startSshd({ dir, port, hostKeyFile: join(dir, 'host-a') });

  const cred = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'deploy-key', kind: 'ssh_key', secret: client.privateKey } });
  credentialId = ((await cred.json()) as { id: string }).id;
  const host = await stack.api('/api/v1/hosts', {
    method: 'POST',
    json: { id: 'box-1', transport: 'ssh', address: '127.0.0.1', port, username: 'root', credentialId, environment: 'staging', tags: ['linux'] },
  });
  expect(host.status).toBe(201);
});

afterAll(async () => {
  await sshd?.stop();
  await stack?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function host(id = 'box-1'): Promise<HostView> {
  return (await (await stack.api(`/api/v1/hosts/${id}`)).json()) as HostView;
}

describe('a host reached over SSH', () => {
  test('runs a script with parameters as data, pins the host key on first use, and streams the log', async () => {
    expect(await host()).toMatchObject({ transport: 'ssh', hostKeyPinned: false, environment: 'staging', credential: { id: credentialId, name: 'deploy-key' } });
    // Never reached yet: nothing says it is up.
    expect(await host()).toMatchObject({ status: 'unreachable', online: false, lastError: null });
    const marker = join(dir, `injected-${randomBytes(3).toString('hex')}`);
    const message = `$(touch ${marker}) \`touch ${marker}\` "q" 'q' ; touch ${marker}`;
    const run = await stack.startRun('echo-params', { message, notes: 'one\ntwo', token: 'ssh-secret-value' }, 'box-1');
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded', exitCode: 0, hostId: 'box-1' });
    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines[0]).toBe(`attempt 1 on host box-1 over SSH (root@127.0.0.1:${port}): bash scripts/echo-params.sh`);
    expect(lines).toContain(`message=${message}`);
    expect(lines).toContain(`arg=--message=${message}`);
    expect(lines).toContain('two');
    expect(lines.join('\n')).not.toContain('ssh-secret-value');
    expect(existsSync(marker)).toBe(false);
    expect(await host()).toMatchObject({ hostKeyPinned: true, online: true, status: 'idle', runningRuns: 0 });
  });

  test('a failing script fails the run with its exit code and stderr, like on an agent', async () => {
    const run = await stack.startRun('fail', { code: 4 }, 'box-1');
    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'failed', exitCode: 4 });
    expect(final.error).toContain('disk quota exceeded');
  });

  test('cancel kills the remote process tree; the host is busy while the run runs and idle after', async () => {
    const run = await stack.startRun('sleep', { seconds: 60 }, 'box-1');
    await stack.waitForLine(run.id, /^tick 1$/);
    expect(await host()).toMatchObject({ status: 'busy', runningRuns: 1 });
    const busy = ((await (await stack.api('/api/v1/hosts?status=busy')).json()) as { hosts: HostView[] }).hosts;
    expect(busy.map((h) => h.id)).toEqual(['box-1']);
    expect((await stack.api(`/api/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
    const final = await stack.waitForRun(run.id, (r) => r.status === 'cancelled', 30_000);
    expect(final.status).toBe('cancelled');
    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines.at(-1)).toMatch(/^cancelled after/);
    expect(await host()).toMatchObject({ status: 'idle', runningRuns: 0 });
  });

  test("the host's job cap holds across runs: the second waits for a free slot and runs once the first ends", async () => {
    expect(((await (await stack.api('/api/v1/hosts/box-1', { method: 'PATCH', json: { maxConcurrentJobs: 1 } })).json()) as HostView).maxConcurrentJobs).toBe(1);
    try {
      const first = await stack.startRun('sleep', { seconds: 60 }, 'box-1');
      await stack.waitForLine(first.id, /^tick 1$/);
      const second = await stack.startRun('echo-params', { message: 'after the first' }, 'box-1');
      await stack.waitForLine(second.id, /^waiting for a free slot: host box-1 runs at most 1 job at once$/);
      expect((await stack.lines(second.id)).map((l) => l.line)).not.toContain('message=after the first');
      expect((await stack.api(`/api/v1/runs/${first.id}/cancel`, { method: 'POST' })).status).toBe(202);
      expect(await stack.waitForRun(second.id, undefined, 60_000)).toMatchObject({ status: 'succeeded' });
      expect((await stack.lines(second.id)).map((l) => l.line)).toContain('message=after the first');
    } finally {
      await stack.api('/api/v1/hosts/box-1', { method: 'PATCH', json: { maxConcurrentJobs: null } });
    }
  });

  test('a changed host key fails the run before anything runs, until the key is reset', async () => {
    await sshd.stop();
    sshd = await startSshd({ dir, port, hostKeyFile: join(dir, 'host-b') });
    const run = await stack.startRun('true', {}, 'box-1');
    const final = await stack.waitForRun(run.id);
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(/host key/i);
    expect(final.error).toContain(`127.0.0.1:${port}`);
    expect(await host()).toMatchObject({ status: 'error', lastError: { message: final.error } });

    const reset = await stack.api('/api/v1/hosts/box-1', { method: 'PATCH', json: { resetHostKey: true } });
    expect(await reset.json()).toMatchObject({ hostKeyPinned: false, status: 'error' });
    const again = await stack.startRun('true', {}, 'box-1');
    expect((await stack.waitForRun(again.id)).status).toBe('succeeded');
    expect(await host()).toMatchObject({ status: 'idle', lastError: null });
  });

  test('wrong credentials and a closed port fail the run with the reason, and put the host in error until a contact succeeds', async () => {
    const other = await keyPair(join(dir, 'stranger'));
    const cred = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'stranger-key', kind: 'ssh_key', secret: other.privateKey } });
    const strangerId = ((await cred.json()) as { id: string }).id;
    await stack.api('/api/v1/hosts', { method: 'POST', json: { id: 'box-2', transport: 'ssh', address: '127.0.0.1', port, username: 'root', credentialId: strangerId } });
    const denied = await stack.waitForRun((await stack.startRun('true', {}, 'box-2')).id);
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatch(/auth/i);
    const failed = await host('box-2');
    expect(failed).toMatchObject({ status: 'error', online: false, lastError: { message: `authentication as root failed on 127.0.0.1:${port}: check the credential, and that its public key is in ~root/.ssh/authorized_keys` } });
    expect(Date.now() - Date.parse(failed.lastError!.at)).toBeLessThan(60_000);

    const closed = await freePort();
    await stack.api('/api/v1/hosts', { method: 'POST', json: { id: 'box-3', transport: 'ssh', address: '127.0.0.1', port: closed, username: 'root', credentialId } });
    expect(await host('box-3')).toMatchObject({ status: 'unreachable', lastError: null });
    const refused = await stack.waitForRun((await stack.startRun('true', {}, 'box-3')).id);
    expect(refused.status).toBe('failed');
    expect(refused.error).toContain(`127.0.0.1:${closed}`);
    expect(await host('box-3')).toMatchObject({ status: 'error', lastError: { message: `127.0.0.1:${closed} is unreachable: connection refused (is sshd running on that port?)` } });
    const inError = ((await (await stack.api('/api/v1/hosts?status=error')).json()) as { hosts: HostView[] }).hosts;
    expect(inError.map((h) => h.id)).toEqual(['box-2', 'box-3']);

    // The right credential alone changes nothing; the next contact that succeeds does.
    expect(await (await stack.api('/api/v1/hosts/box-2', { method: 'PATCH', json: { credentialId } })).json()).toMatchObject({ status: 'error' });
    expect((await stack.waitForRun((await stack.startRun('true', {}, 'box-2')).id)).status).toBe('succeeded');
    expect(await host('box-2')).toMatchObject({ status: 'idle', online: true, lastError: null });
  });

  test('a manifest with runner ssh runs on SSH hosts only', async () => {
    const created = await stack.api('/api/v1/actions', { method: 'POST', json: { id: 'uname', name: 'uname', runner: 'ssh', command_template: 'uname -s' } });
    expect(created.status).toBe(201);
    const refused = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'uname', hostId: 'local', params: {} } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { fields: Record<string, string[]> } }).error.fields.hostId).toEqual(['uname runs over ssh; local is reached through its agent']);
    const ran = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'uname', hostId: 'box-1', params: {} } });
    const final = await stack.waitForRun(((await ran.json()) as { id: string }).id);
    expect(final.status).toBe('succeeded');
    expect((await stack.lines(final.id)).map((l) => l.line)).toContain('Linux');
  });

  test('host input is checked field by field, and the host list filters by environment and transport', async () => {
    const bad = await stack.api('/api/v1/hosts', { method: 'POST', json: { id: 'Bad', transport: 'ssh', address: 'a b', port: 0, username: '', credentialId: 'x' } });
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as { error: { fields: Record<string, string[]> } };
    expect(Object.keys(error.fields).sort()).toEqual(['address', 'credentialId', 'id', 'port', 'username']);
    const staging = (await (await stack.api('/api/v1/hosts?environment=staging')).json()) as { hosts: HostView[] };
    expect(staging.hosts.map((h) => h.id)).toEqual(['box-1']);
    const agents = (await (await stack.api('/api/v1/hosts?transport=agent')).json()) as { hosts: HostView[] };
    expect(agents.hosts.map((h) => h.id)).toEqual(['local']);
    const listed = await (await stack.api('/api/v1/hosts')).text();
    expect(listed).not.toContain('PRIVATE KEY');
  });
});
