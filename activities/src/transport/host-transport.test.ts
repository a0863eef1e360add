import type {} from '../../../tests/support/provided-context.d.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, inject, test as baseTest } from 'vitest';
import { type Db, freePort, migrateToLatest, newId, openDatabase, SecretBox } from '@drydock/core';
import { DEFAULT_CAPTURE_LIMITS, type ScriptLine } from '@drydock/core/job-data';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { DockerEngine } from '../docker/docker-engine.ts';
import { BUSYBOX_IMAGE, buildTestImages, dockerUp } from '../docker/docker-fixtures.ts';
import { keyPair, startSshd } from '../ssh/sshd-fixtures.ts';
import { selfSignedCertificate, startFakeWinrm } from '../winrm/winrm-fake-server.ts';
import type { AttemptContext, HostTransport } from './host-transport.ts';
import { HostTransportError } from './transport-error.ts';
import { HOST_TRANSPORTS } from './transports.ts';

// The contract every transport keeps, run against each one's real peer: sshd, the WinRM test server, dockerd.

const TEAM = 'team-contract';

interface Peer {
  kind: 'ssh' | 'winrm' | 'docker';
  interpreter: AgentScriptJob['interpreter'];
  /** A host row (and credential) that reaches the peer, and one whose address answers nothing. */
  host: Record<string, unknown>;
  unreachable: Record<string, unknown>;
  credential?: { kind: 'ssh_key' | 'password'; secret: string };
  /** The identity the transport pins on first contact; null where there is none (an engine's socket). */
  identity: string | null;
  container?: AttemptContext['container'];
}

interface Lab {
  db: Db;
  secrets: SecretBox;
  peers: Peer[];
}

const test = baseTest.extend('lab', { scope: 'file' }, async ({}, { onCleanup }): Promise<Lab> => {
  // One cleanup per fixture: the steps run in reverse order of their setup.
  const cleanups: (() => Promise<unknown>)[] = [];
  onCleanup(async () => {
    for (const step of cleanups.reverse()) await step();
  });
  const dir = await mkdtemp(join(tmpdir(), 'drydock-transport-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));

  const server = inject('postgresServerUrl');
  const name = `drydock_transport_${randomBytes(4).toString('hex')}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const handle = openDatabase(url.toString());
  cleanups.push(async () => {
    await handle.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
  await migrateToLatest(handle.db);
  await handle.db.insertInto('teams').values({ id: TEAM, name: 'Contract' }).execute();
  const secrets = new SecretBox({ k1: randomBytes(32) }, 'k1');

  const client = await keyPair(join(dir, 'client'));
  const hostKey = await keyPair(join(dir, 'host'));
  await writeFile(join(dir, 'authorized_keys'), `${client.publicKey}\n`);
  const sshd = await startSshd({ dir, port: await freePort(), hostKeyFile: join(dir, 'host') });
  cleanups.push(() => sshd.stop());

  const certificate = await selfSignedCertificate(dir, 'winrm');
  const winrm = await startFakeWinrm({ dir, certificate, auth: 'ntlm', username: 'drydock', password: 'Pa55-w0rd!', env: process.env });
  cleanups.push(() => winrm.stop());

  await dockerUp();
  await buildTestImages(new DockerEngine());

  const closed = await freePort();
  return {
    db: handle.db,
    secrets,
    peers: [
      {
        kind: 'ssh',
        interpreter: 'sh',
        host: { address: '127.0.0.1', port: sshd.port, username: 'root' },
        unreachable: { address: '127.0.0.1', port: closed, username: 'root' },
        credential: { kind: 'ssh_key', secret: client.privateKey },
        identity: hostKey!.publicKey,
      },
      {
        kind: 'winrm',
        interpreter: 'powershell',
        host: { address: '127.0.0.1', port: winrm.port, username: 'drydock', auth_method: 'ntlm' },
        unreachable: { address: '127.0.0.1', port: closed, username: 'drydock', auth_method: 'ntlm' },
        credential: { kind: 'password', secret: 'Pa55-w0rd!' },
        identity: certificate.fingerprint,
      },
      {
        kind: 'docker',
        interpreter: 'sh',
        host: { address: '/var/run/docker.sock' },
        unreachable: { address: join(dir, 'no-engine.sock') },
        identity: null,
        container: { image: BUSYBOX_IMAGE, network: false, read_only: false },
      },
    ],
  };
});

async function addHost(lab: Lab, peer: Peer, row: Record<string, unknown>): Promise<string> {
  const hostId = `${peer.kind}-${randomUUID()}`;
  let credentialId: string | null = null;
  if (peer.credential) {
    credentialId = newId();
    await lab.db
      .insertInto('credentials')
      .values({ id: credentialId, team_id: TEAM, name: credentialId, kind: peer.credential.kind, secret_enc: lab.secrets.seal(peer.credential.secret) })
      .execute();
  }
  await lab.db
    .insertInto('hosts')
    .values({ id: hostId, team_id: TEAM, name: hostId, transport: peer.kind, credential_id: credentialId, ...row })
    .execute();
  return hostId;
}

function job(peer: Peer): AgentScriptJob {
  return {
    runId: `run-${randomUUID()}`,
    scriptId: 'script-1',
    interpreter: peer.interpreter,
    scriptPath: 'scripts/contract',
    content: 'echo "hello $DRYDOCK_PARAM_WHO"\necho "to stderr" >&2\nexit 3\n',
    commandTemplate: null,
    operation: null,
    params: { who: 'a; rm -rf / $(id)' },
    secretNames: [],
    timeoutSeconds: 60,
    successCriteria: { exit_codes: [0], output_contains: [], output_not_contains: [] },
  };
}

function context(lab: Lab, peer: Peer, hostId: string, events: string[]): AttemptContext {
  const j = job(peer);
  return {
    db: lab.db,
    secrets: lab.secrets,
    hostId,
    job: j,
    attempt: 1,
    extraEnv: { DRYDOCK_RUN_ID: j.runId, DRYDOCK_SCRIPT_ID: j.scriptId, DRYDOCK_HOST_ID: hostId, DRYDOCK_ATTEMPT: '1' },
    captureLimits: DEFAULT_CAPTURE_LIMITS,
    container: peer.container,
    pin: async (_id, identity) => {
      events.push(`pin ${identity}`);
    },
    reached: async () => {
      events.push('reached');
    },
  };
}

const kinds = ['ssh', 'winrm', 'docker'] as const;

describe('every host transport', () => {
  test('is registered under the hosts.transport value it serves', () => {
    expect([...HOST_TRANSPORTS.keys()].sort()).toEqual([...kinds].sort());
    for (const [kind, transport] of HOST_TRANSPORTS) expect(transport.kind).toBe(kind);
  });

  describe.each(kinds)('%s', (kind) => {
    const transportOf = (): HostTransport => HOST_TRANSPORTS.get(kind)!;
    const peerOf = (lab: Lab) => lab.peers.find((p) => p.kind === kind)!;

    test('runs a job with its parameter as data, streams its lines, reports its exit, and pins the identity it met', async ({ lab }) => {
      const peer = peerOf(lab);
      const hostId = await addHost(lab, peer, peer.host);
      const events: string[] = [];
      const attempt = await transportOf().open(context(lab, peer, hostId, events));
      expect(attempt.via).not.toBe('');
      const lines: ScriptLine[] = [];
      try {
        const exit = await attempt.run((line) => lines.push(line), new AbortController().signal);
        expect(exit).toMatchObject({ exitCode: 3, timedOut: false, cancelled: false });
        expect(exit.stderrTail).toContain('to stderr');
      } finally {
        await attempt.close();
      }
      expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['hello a; rm -rf / $(id)']);
      expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['to stderr']);
      expect(events).toContain('reached');
      if (peer.identity === null) expect(events.filter((e) => e.startsWith('pin'))).toEqual([]);
      else expect(events).toContain(`pin ${peer.identity}`);
    });

    test('a host that answers nothing fails as unreachable, in the shared error class, naming what to check', async ({ lab }) => {
      const peer = peerOf(lab);
      const hostId = await addHost(lab, peer, peer.unreachable);
      const events: string[] = [];
      const attempt = await transportOf().open(context(lab, peer, hostId, events));
      const err = await attempt.run(() => {}, new AbortController().signal).then(
        () => new Error('expected the run to fail'),
        (e: unknown) => e,
      );
      await attempt.close();
      expect(err).toBeInstanceOf(HostTransportError);
      expect((err as HostTransportError).unreachable).toBe(true);
      expect((err as Error).message).toMatch(/unreachable|not reachable|refused/);
      expect(events).toEqual([]);
    });
  });
});
