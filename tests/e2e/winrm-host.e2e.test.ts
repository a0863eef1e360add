import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HostView, RunView } from '@drydock/core';
import { FILE_VALIDATION_PROGRAM } from '../../activities/src/winrm/operation-programs.ts';
import { selfSignedCertificate, type FakeWinrm, startFakeWinrm } from '../../activities/src/winrm/winrm-fake-server.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// A Windows host without an agent, through the whole system. No Windows machine runs here: the host is a
// local server speaking the documented WS-Management shell protocol (see activities/src/winrm/), with NTLM.

const USER = 'LAB\\deployer';
const PASSWORD = 'Win-Pa55w0rd!';

let stack: TestStack;
let dir: string;
let fake: FakeWinrm;

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), 'drydock-winrm-'));
  const certificate = await selfSignedCertificate(dir, 'winrm');
  fake = await startFakeWinrm({ dir, certificate, auth: 'ntlm', username: USER, password: PASSWORD, env: process.env });
  const cred = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'windows-deployer', kind: 'password', secret: PASSWORD } });
  const credentialId = ((await cred.json()) as { id: string }).id;
  const host = await stack.api('/api/v1/hosts', {
    method: 'POST',
    json: { id: 'win-1', transport: 'winrm', address: '127.0.0.1', port: fake.port, username: USER, credentialId, environment: 'uat' },
  });
  expect(host.status).toBe(201);
  const action = await stack.api('/api/v1/actions', {
    method: 'POST',
    json: { id: 'say', name: 'Say', command_template: 'echo {{message}}', parameters: [{ name: 'message', type: 'string', required: true }] },
  });
  expect(action.status).toBe(201);
});

afterAll(async () => {
  await fake?.stop();
  await stack?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a Windows host reached over WinRM', () => {
  test('runs a command template with NTLM, pins the certificate on first use, and streams the log', async () => {
    expect((await (await stack.api('/api/v1/hosts/win-1')).json()) as HostView).toMatchObject({ transport: 'winrm', winrmAuth: 'ntlm', port: fake.port, hostKeyPinned: false });
    const message = `$(Remove-Item C:\\) & "quoted" 'single' ; | %PATH%`;
    const res = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'say', hostId: 'win-1', params: { message } } });
    expect(res.status).toBe(201);
    const run = await stack.waitForRun(((await res.json()) as RunView).id);
    expect(run).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const lines = (await stack.lines(run.id)).map((l) => l.line);
    expect(lines[0]).toBe(`attempt 1 on host win-1 over WinRM (${USER}@127.0.0.1:${fake.port}, ntlm): echo "${message.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
    expect(lines).toContain(message);
    expect(fake.ntlmLogons.length).toBeGreaterThan(0);
    expect(fake.ntlmLogons.every((l) => l.channelBindingMatched)).toBe(true);
    // The password is in no request body and no log line.
    expect(fake.requests.map((r) => JSON.stringify(r)).join('\n')).not.toContain(PASSWORD);
    expect(lines.join('\n')).not.toContain(PASSWORD);
    expect((await (await stack.api('/api/v1/hosts/win-1')).json()) as HostView).toMatchObject({ hostKeyPinned: true, online: true });
  });

  test('refuses bash scripts and a database query on a Windows host, with the reason', async () => {
    const bash = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'echo-params', hostId: 'win-1', params: {} } });
    expect(bash.status).toBe(400);
    expect(((await bash.json()) as { error: { fields: Record<string, string[]> } }).error.fields.hostId?.[0]).toContain('runs PowerShell scripts and command templates, not bash');
    const created = await stack.api('/api/v1/actions', {
      method: 'POST',
      json: { id: 'count-db', name: 'Count', operation: { type: 'database_query', engine: 'postgresql', connection: { host: 'db', database: 'app', user: 'app' }, query: 'SELECT 1' } },
    });
    expect(created.status).toBe(201);
    const op = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'count-db', hostId: 'win-1', params: {} } });
    expect(op.status).toBe(400);
    expect(((await op.json()) as { error: { fields: Record<string, string[]> } }).error.fields.hostId?.[0]).toBe(
      'database_query does not run over WinRM (a WinRM shell cannot carry a database connection); run it on win-1 through an agent, or over SSH from a host that reaches the database',
    );
  });

  test('a host operation runs as Drydock’s fixed PowerShell program, with its inputs in the job document', async () => {
    const file = 'C:\\data\\"$(Remove-Item C:\\)".bak';
    const created = await stack.api('/api/v1/actions', {
      method: 'POST',
      json: { id: 'win-file', name: 'File', operation: { type: 'file_validation', path: '{{path}}', checks: ['exists'] }, parameters: [{ name: 'path', type: 'string', required: true }] },
    });
    expect(created.status).toBe(201);
    const res = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'win-file', hostId: 'win-1', params: { path: file } } });
    expect(res.status).toBe(201);
    // The fake host runs a script body with bash, not PowerShell: the run fails, and what reached the host is what counts.
    await stack.waitForRun(((await res.json()) as RunView).id);
    const command = fake.commands.at(-1)!;
    const document = JSON.parse(command.stdin.toString('utf8')) as { env: { n: string; v: string }[]; script: string; argv: string[] };
    expect(Buffer.from(document.script, 'base64').toString('utf8')).toBe(FILE_VALIDATION_PROGRAM);
    expect(document.argv).toEqual([]);
    expect(document.env.find((e) => e.n === 'DRYDOCK_OP_PATH')?.v).toBe(Buffer.from(file).toString('base64'));
    expect(fake.requests.map((r) => r.xml).join('\n')).not.toContain('Remove-Item');
  });

  test('WinRM hosts take a password credential and no jump host', async () => {
    const key = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'a-key', kind: 'ssh_key', secret: 'not really a key' } });
    const keyId = ((await key.json()) as { id: string }).id;
    const wrong = await stack.api('/api/v1/hosts', { method: 'POST', json: { id: 'win-2', transport: 'winrm', address: '127.0.0.1', username: 'x', credentialId: keyId } });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { fields: Record<string, string[]> } }).error.fields.credentialId).toEqual(['WinRM needs a password credential']);
  });
});
