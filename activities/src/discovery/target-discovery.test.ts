import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@drydock/core';
import { keyPair, type Sshd, startSshd } from '../ssh/sshd-fixtures.ts';
import { type Certificate, type FakeWinrm, selfSignedCertificate, startFakeWinrm } from '../winrm/winrm-fake-server.ts';
import { DiscoveryRefusedError } from './discovery-error.ts';
import { createTargetDiscovery, type DiscoveryProgress, type Probe } from './target-discovery.ts';

// Discovery against loopback only: a real sshd on 127.0.0.1, the fake WinRM server on 127.0.0.2 (HTTP and
// HTTPS listeners), something that is neither on 127.0.0.3, nothing on 127.0.0.4. No other address is scanned.

const exec = promisify(execFile);
const discovery = createTargetDiscovery({ policy: { maxAddresses: 4096, allowPublic: false } });

let dir: string;
let sshd: Sshd;
let hostKey: { key: string; fingerprint: string };
let certificate: Certificate;
const winrm: FakeWinrm[] = [];
const servers: Server[] = [];
const accepted = new Set<Socket>();
let probes: Probe[];

/** A TCP server on `host:port`; `onSocket` decides what it does with each connection. */
async function listen(host: string, port: number, onSocket: (socket: Socket) => void): Promise<Server> {
  const server = createServer((socket) => {
    accepted.add(socket);
    socket.on('close', () => accepted.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drydock-discovery-'));
  const keyFile = join(dir, 'host-key');
  const pair = await keyPair(keyFile);
  const fingerprint = (await exec('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`])).stdout.split(' ')[1]!;
  hostKey = { key: pair.publicKey, fingerprint };
  const [sshPort, httpPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
  sshd = await startSshd({ dir, port: sshPort, hostKeyFile: keyFile });
  certificate = await selfSignedCertificate(dir, 'winrm');
  const fake = { dir, host: '127.0.0.2', certificate, auth: 'basic' as const, username: 'drydock', password: 'never-sent', env: {} };
  winrm.push(await startFakeWinrm({ ...fake, port: httpPort, protocol: 'http' }), await startFakeWinrm({ ...fake, port: httpsPort }));
  await listen('127.0.0.3', sshPort, (socket) => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  probes = [
    { port: sshPort, protocol: 'ssh' },
    { port: httpPort, protocol: 'winrm-http' },
    { port: httpsPort, protocol: 'winrm-https' },
  ];
});

afterAll(async () => {
  await sshd?.stop();
  await Promise.all(winrm.map((w) => w.stop()));
  for (const socket of accepted) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await rm(dir, { recursive: true, force: true });
});

describe('a scan of loopback addresses', () => {
  it('finds SSH and WinRM endpoints, reads the host key, the banner, the WinRM identity and certificate, and proposes hosts', async () => {
    const progress: DiscoveryProgress[] = [];
    const result = await discovery.scan({ include: ['127.0.0.1', '127.0.0.2/32', '127.0.0.3', '127.0.0.4'], probes }, { onProgress: (p) => progress.push(p) });
    const [ssh, http, https] = probes;

    expect(result.total).toBe(4);
    // In address order, and by port within an address.
    const inOrder = <T extends { address: string; port: number }>(list: T[]) => list.sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port);
    expect(result.endpoints).toEqual(inOrder([
      {
        address: '127.0.0.1',
        port: ssh!.port,
        protocol: 'ssh',
        ssh: { banner: expect.stringMatching(/^SSH-2\.0-OpenSSH_9\.\dp\d Debian/), hostKey: { type: 'ssh-ed25519', fingerprint: hostKey.fingerprint, key: hostKey.key } },
      },
      {
        address: '127.0.0.2',
        port: http!.port,
        protocol: 'winrm-http',
        winrm: { identified: true, vendor: 'Microsoft Corporation', productVersion: 'OS: 0.0.0 SP: 0.0 Stack: 3.0', osVersion: null, server: 'Microsoft-HTTPAPI/2.0' },
      },
      {
        address: '127.0.0.2',
        port: https!.port,
        protocol: 'winrm-https',
        winrm: {
          identified: true,
          vendor: 'Microsoft Corporation',
          productVersion: 'OS: 0.0.0 SP: 0.0 Stack: 3.0',
          osVersion: null,
          server: 'Microsoft-HTTPAPI/2.0',
          certificate: { subject: 'CN=localhost', issuer: 'CN=localhost', fingerprint: certificate.fingerprint, validTo: expect.any(String), selfSigned: true },
        },
      },
      { address: '127.0.0.3', port: ssh!.port, protocol: 'ssh', unrecognised: true },
    ]));

    expect(result.proposals.map(({ endpoints: _endpoints, ...p }) => p)).toEqual([
      { address: '127.0.0.1', id: '127-0-0-1', transport: 'ssh', port: ssh!.port, tags: ['os:debian'], hostKey: { type: 'ssh-ed25519', fingerprint: hostKey.fingerprint, key: hostKey.key }, notes: [] },
      {
        address: '127.0.0.2',
        id: '127-0-0-2',
        transport: 'winrm',
        port: https!.port,
        tags: ['os:windows'],
        certificate: expect.objectContaining({ fingerprint: certificate.fingerprint }),
        notes: [],
      },
    ]);

    expect(progress.map((p) => p.scanned)).toEqual([1, 2, 3, 4].slice(0, progress.length));
    expect(progress.at(-1)).toEqual({ scanned: 4, total: 4, found: 4 });
  });

  it('sends no credential: WinRM gets anonymous Identify requests, sshd never sees a user name', async () => {
    await discovery.scan({ include: ['127.0.0.1', '127.0.0.2'], probes });
    expect(winrm.flatMap((w) => w.identifies)).toEqual(expect.arrayContaining([{ authenticated: false }]));
    expect(winrm.flatMap((w) => w.identifies).every((i) => !i.authenticated)).toBe(true);
    const log = await readFile(sshd.logFile, 'utf8');
    expect(log).toMatch(/Connection (closed|reset) by 127\.0\.0\.1/);
    expect(log).not.toMatch(/drydock-discovery|Invalid user|Failed|Accepted/);
  });
});

describe('limits', () => {
  it('keeps no more connections open than the concurrency allows', async () => {
    const port = await freePort();
    let open = 0;
    let most = 0;
    let total = 0;
    const hosts = Array.from({ length: 12 }, (_, i) => `127.0.0.${20 + i}`);
    // Says nothing and hangs up after a while; counted on this side, where a connection ends before the scanner can know it has.
    for (const host of hosts) {
      await listen(host, port, (socket) => {
        open += 1;
        total += 1;
        most = Math.max(most, open);
        socket.on('error', () => {});
        socket.resume();
        setTimeout(() => {
          open -= 1;
          socket.destroy();
        }, 100);
      });
    }
    const result = await discovery.scan({ include: hosts, probes: [{ port, protocol: 'ssh' }], concurrency: 3 });
    expect(total).toBe(12);
    expect(most).toBeLessThanOrEqual(3);
    expect(result.endpoints).toHaveLength(12);
    expect(result.proposals).toEqual([]);
  });

  it('stops when cancelled', async () => {
    const port = await freePort();
    await listen('127.0.0.40', port, (socket) => socket.on('error', () => {}));
    await listen('127.0.0.41', port, (socket) => socket.on('error', () => {}));
    const controller = new AbortController();
    const scan = discovery.scan(
      { include: ['127.0.0.40', '127.0.0.41'], probes: [{ port, protocol: 'ssh' }], concurrency: 1, probeTimeoutMs: 5_000 },
      { signal: controller.signal, onProgress: () => controller.abort(new Error('cancelled by the test')) },
    );
    setTimeout(() => controller.abort(new Error('cancelled by the test')), 200);
    await expect(scan).rejects.toThrow('cancelled by the test');
  });

  it('refuses a range above the cap, or a public address, before connecting anywhere', async () => {
    const port = await freePort();
    let connections = 0;
    await listen('127.0.0.1', port, (socket) => {
      connections += 1;
      socket.destroy();
    });
    const small = createTargetDiscovery({ policy: { maxAddresses: 16, allowPublic: false } });
    await expect(small.scan({ include: ['127.0.0.0/27'], probes: [{ port, protocol: 'ssh' }] })).rejects.toThrow(
      new DiscoveryRefusedError('too_large', 'the ranges hold 30 addresses after the excludes; a scan covers at most 16 (DRYDOCK_DISCOVERY_MAX_ADDRESSES): scan smaller ranges, or exclude parts'),
    );
    await expect(small.scan({ include: ['127.0.0.1', '1.1.1.1'], probes: [{ port, protocol: 'ssh' }] })).rejects.toThrow(
      '1.1.1.1 is public: this server scans private and loopback addresses only; an administrator can allow public ones with DRYDOCK_DISCOVERY_ALLOW_PUBLIC=true',
    );
    expect(connections).toBe(0);
    await expect(discovery.scan({ include: ['127.0.0.1'], probes: [{ port, protocol: 'ssh' }], concurrency: 10_000 })).rejects.toThrow('concurrency is between 1 and 256');
  });
});
