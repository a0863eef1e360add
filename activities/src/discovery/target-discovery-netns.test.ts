import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPair } from '../ssh/sshd-fixtures.ts';
import { createTestNetwork, startFakeWinrmIn, startSshdIn, type TestNetwork } from './netns-fixtures.ts';
import { createTargetDiscovery, type DiscoveryProgress } from './target-discovery.ts';

// Discovery across a network: a namespace this test creates, a real sshd inside on port 22 of one address and
// the fake WinRM server on 5985 and 5986 of another, scanned with the default ports through a veth pair.
// The scan covers the namespace's /29 and nothing else.

const exec = promisify(execFile);

let network: TestNetwork;
let dir: string;
let hostKey: { key: string; fingerprint: string };
let winrmFingerprint: string;
let sshLog: string;

beforeAll(async () => {
  network = await createTestNetwork(3);
  dir = await mkdtemp(join(tmpdir(), 'drydock-netns-'));
  const keyFile = join(dir, 'host-key');
  const pair = await keyPair(keyFile);
  hostKey = { key: pair.publicKey, fingerprint: (await exec('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`])).stdout.split(' ')[1]! };
  sshLog = (await startSshdIn(network, network.hosts[0]!, dir, keyFile)).logFile;
  winrmFingerprint = (await startFakeWinrmIn(network, network.hosts[1]!, dir)).fingerprint;
});

afterAll(async () => {
  await network?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('discovery in a network namespace', () => {
  it('finds the Linux host over SSH and the Windows host over WinRM, and proposes both with what to pin', async () => {
    const [linux, windows, empty] = network.hosts;
    const discovery = createTargetDiscovery({ policy: { maxAddresses: 16, allowPublic: false } });
    const progress: DiscoveryProgress[] = [];
    // .1 is this machine's end of the veth pair: excluded, so only the namespace is scanned.
    const result = await discovery.scan({ include: [`${network.prefix}.0/29`], exclude: [network.gateway], connectTimeoutMs: 1_000 }, { onProgress: (p) => progress.push(p) });

    expect(result.total).toBe(5);
    expect(progress.at(-1)).toEqual({ scanned: 5, total: 5, found: 3 });
    expect(result.endpoints.map((e) => `${e.address}:${e.port} ${e.protocol}${'unrecognised' in e ? ' ?' : ''}`)).toEqual([`${linux}:22 ssh`, `${windows}:5985 winrm-http`, `${windows}:5986 winrm-https`]);
    expect(result.proposals.map(({ endpoints: _e, ...p }) => p)).toEqual([
      {
        address: linux,
        id: linux!.replace(/\./g, '-'),
        transport: 'ssh',
        port: 22,
        tags: ['os:debian'],
        hostKey: { type: 'ssh-ed25519', fingerprint: hostKey.fingerprint, key: hostKey.key },
        notes: [],
      },
      {
        address: windows,
        id: windows!.replace(/\./g, '-'),
        transport: 'winrm',
        port: 5986,
        tags: ['os:windows'],
        certificate: { subject: 'CN=localhost', issuer: 'CN=localhost', fingerprint: winrmFingerprint, validTo: expect.any(String), selfSigned: true },
        notes: [],
      },
    ]);
    expect(result.proposals.some((p) => p.address === empty)).toBe(false);
    // The key was read during key exchange; sshd saw the connection end before any user name was sent.
    expect(await readFile(sshLog, 'utf8')).not.toMatch(/Invalid user|drydock-discovery|Accepted|Failed/);
  });
});
