import { describe, expect, test } from 'vitest';
import type { HostView } from '@drydock/core/api-schemas';
import { checkHostBody, createBody, patchBody, readSettings, settingsOf, splitTags } from './host-form.ts';

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  return data;
}

const CREDENTIAL = '0f8fad5b-d9cb-469f-a165-70867728950e';

const host: HostView = {
  id: 'db-staging-1',
  name: 'DB staging 1',
  transport: 'ssh',
  online: false,
  pollers: null,
  lastSeenAt: null,
  os: null,
  agentVersion: null,
  tags: ['linux', 'db'],
  environment: 'staging',
  group: null,
  address: '10.0.4.12',
  port: 22,
  username: 'deploy',
  credential: { id: CREDENTIAL, name: 'deploy key' },
  jumpHostId: null,
  hostKeyPinned: true,
  winrmAuth: null,
  maxConcurrentJobs: 4,
  status: 'unreachable',
  runningRuns: 0,
  lastError: null,
  lock: null,
  metrics: null,
};

const windows: HostView = { ...host, id: 'win-1', name: 'win-1', transport: 'winrm', port: 5986, username: 'CORP\\ops', tags: ['windows'], winrmAuth: 'ntlm', hostKeyPinned: false };

const shown = {
  name: 'DB staging 1',
  address: '10.0.4.12',
  port: '22',
  username: 'deploy',
  credentialId: CREDENTIAL,
  jumpHostId: '',
  environment: 'staging',
  group: '',
  tags: 'linux, db',
};

describe('host form', () => {
  test('a new host leaves empty optional fields to the API and reads tags comma-separated', () => {
    const body = createBody(form({ id: 'web-1', name: '', address: '10.0.0.5', port: '', username: 'ops', credentialId: CREDENTIAL, jumpHostId: '', environment: 'dev', group: '', tags: 'linux, ,web ' }));
    expect(body).toEqual({ id: 'web-1', transport: 'ssh', address: '10.0.0.5', username: 'ops', credentialId: CREDENTIAL, environment: 'dev', tags: ['linux', 'web'] });
    expect(checkHostBody(body, 'new')).toEqual({});
    expect(splitTags(' , ')).toEqual([]);
  });

  test('problems are keyed by field, in words a person acts on', () => {
    const body = createBody(form({ id: 'Web 1', address: '', port: '70000', username: 'ops', credentialId: '', tags: '' }));
    expect(checkHostBody(body, 'new')).toEqual({
      id: ['use lower-case letters, digits and "-"'],
      address: ['required'],
      port: ['a port number from 1 to 65535'],
      credentialId: ['choose an SSH key or password credential'],
    });
    expect(checkHostBody(createBody(form({ id: 'web-1', address: 'x', port: '2x', username: 'ops', credentialId: CREDENTIAL })), 'new').port).toEqual(['a port number from 1 to 65535']);
  });

  test('an edit sends only what changed since the form was shown', () => {
    const before = settingsOf(host);
    expect(patchBody(form(shown), before)).toEqual({});
    expect(patchBody(form({ ...shown, port: '2222', tags: 'linux', group: 'payments' }), before)).toEqual({ port: 2222, tags: ['linux'], group: 'payments' });
    expect(patchBody(form({ ...shown, environment: '' }), before)).toEqual({ environment: null });
    expect(checkHostBody({ environment: null }, 'edit')).toEqual({});
    expect(checkHostBody(patchBody(form({ ...shown, port: '' }), before), 'edit')).toEqual({ port: ['a port number from 1 to 65535'] });
  });

  test('an agent host form has labels only, so connection settings are never sent', () => {
    const agent = settingsOf({ ...host, transport: 'agent', address: null, port: null, username: null, credential: null });
    expect(patchBody(form({ name: 'db', environment: 'uat', group: '' }), agent)).toEqual({ name: 'db', environment: 'uat' });
  });

  test('a new WinRM host sends its authentication, never a jump host, and the API picks its port', () => {
    const fields = { transport: 'winrm', id: 'win-1', address: '10.0.4.20', port: '', username: 'CORP\\ops', credentialId: CREDENTIAL, winrmAuth: 'basic', jumpHostId: 'bastion', tags: 'windows' };
    const body = createBody(form(fields));
    expect(body).toEqual({ id: 'win-1', transport: 'winrm', address: '10.0.4.20', username: 'CORP\\ops', credentialId: CREDENTIAL, winrmAuth: 'basic', tags: ['windows'] });
    expect(checkHostBody(body, 'new')).toEqual({});
    expect(checkHostBody(createBody(form({ ...fields, username: 'ops@corp.example' })), 'new')).toEqual({});
    // An SSH host leaves the WinRM choice out; a form without a transport is an SSH one.
    expect(createBody(form({ ...fields, transport: 'ssh' }))).toMatchObject({ transport: 'ssh', jumpHostId: 'bastion' });
    expect(createBody(form({ ...fields, transport: 'ssh' }))).not.toHaveProperty('winrmAuth');
    expect(createBody(form({ id: 'web-1' })).transport).toBe('ssh');
  });

  test('WinRM problems are worded for WinRM', () => {
    const body = createBody(form({ transport: 'winrm', id: 'win-1', address: '10.0.4.20', username: 'CORP ops', credentialId: '', winrmAuth: 'kerberos' }));
    expect(checkHostBody(body, 'new')).toEqual({
      username: ['a user name: user, DOMAIN\\user or user@domain'],
      credentialId: ['choose a password credential'],
      winrmAuth: ['choose NTLM or Basic'],
    });
    expect(checkHostBody(createBody(form({ transport: 'telnet', id: 'x-1', address: 'x', username: 'ops', credentialId: CREDENTIAL })), 'new')).toEqual({ transport: ['choose SSH, WinRM or a Docker engine'] });
    expect(checkHostBody({ credentialId: '' }, 'edit', 'winrm')).toEqual({ credentialId: ['choose a password credential'] });
  });

  test('the job cap: a number when given, null to fall back to the default, sent only when it changed', () => {
    const before = settingsOf(host);
    expect(createBody(form({ transport: 'ssh', id: 'x-1', address: 'x', username: 'ops', credentialId: CREDENTIAL, maxConcurrentJobs: '2' }))).toMatchObject({ maxConcurrentJobs: 2 });
    expect(patchBody(form({ maxConcurrentJobs: '4' }), before)).toEqual({});
    expect(patchBody(form({ maxConcurrentJobs: '8' }), before)).toEqual({ maxConcurrentJobs: 8 });
    expect(patchBody(form({ maxConcurrentJobs: '' }), before)).toEqual({ maxConcurrentJobs: null });
    expect(checkHostBody({ maxConcurrentJobs: 0 }, 'edit', 'ssh')).toEqual({ maxConcurrentJobs: ['a whole number of jobs from 1 to 1000, or empty for the default'] });
  });

  test('a new Docker engine sends its socket and labels only, whatever connection fields the form still held', () => {
    const body = createBody(form({ transport: 'docker', id: 'engine-1', socketPath: '/run/docker.sock', address: '10.0.0.1', username: 'ops', credentialId: CREDENTIAL, tags: 'containers, gpu' }));
    expect(body).toEqual({ id: 'engine-1', transport: 'docker', socketPath: '/run/docker.sock', tags: ['containers', 'gpu'] });
    expect(checkHostBody(body, 'new')).toEqual({});
    expect(checkHostBody(createBody(form({ transport: 'docker', id: 'engine-1', socketPath: 'docker.sock' })), 'new')).toEqual({
      socketPath: ['an absolute path to the engine socket, such as /var/run/docker.sock'],
    });
  });

  test('a WinRM host edit sends a changed authentication like any other setting', () => {
    const before = settingsOf(windows);
    const shownWindows = { ...shown, name: 'win-1', port: '5986', username: 'CORP\\ops', tags: 'windows', winrmAuth: 'ntlm' };
    expect(patchBody(form(shownWindows), before)).toEqual({});
    expect(patchBody(form({ ...shownWindows, winrmAuth: 'basic' }), before)).toEqual({ winrmAuth: 'basic' });
    expect(checkHostBody({ winrmAuth: 'basic' }, 'edit', 'winrm')).toEqual({});
    expect(readSettings(JSON.stringify(before))).toEqual(before);
  });

  test('the snapshot the edit form carries reads back, and anything else is refused', () => {
    const before = settingsOf(host);
    expect(readSettings(JSON.stringify(before))).toEqual(before);
    expect(readSettings('{"name":1}')).toBeNull();
    expect(readSettings(JSON.stringify({ ...before, transport: 'telnet' }))).toBeNull();
    expect(readSettings(JSON.stringify({ ...before, winrmAuth: 'kerberos' }))).toBeNull();
    expect(readSettings('not json')).toBeNull();
    expect(readSettings(null)).toBeNull();
  });
});
