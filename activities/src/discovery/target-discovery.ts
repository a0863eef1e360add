import { connect, type Socket } from 'node:net';
import { type DiscoveryPolicy, type ScanRanges, scanAddresses } from './address-range.ts';
import { connectionPace, type PaceClock, realClock } from './connection-pace.ts';
import { DiscoveryRefusedError } from './discovery-error.ts';
import { osFromBanner, readSshIdentity, type SshIdentity } from './ssh-probe.ts';
import { identifyWinrm, type WinrmIdentity } from './winrm-probe.ts';

export type ProbeProtocol = 'ssh' | 'winrm-http' | 'winrm-https';

/** One port to knock on at every address, and what to expect there. */
export interface Probe {
  port: number;
  protocol: ProbeProtocol;
}

export const DEFAULT_PROBES: readonly Probe[] = [
  { port: 22, protocol: 'ssh' },
  { port: 5985, protocol: 'winrm-http' },
  { port: 5986, protocol: 'winrm-https' },
];

export const MAX_CONCURRENCY = 256;
export const MAX_RATE_PER_SECOND = 1_000;

export interface DiscoveryRequest extends ScanRanges {
  /** Default 22 (SSH), 5985 (WinRM over HTTP) and 5986 (WinRM over HTTPS). */
  probes?: readonly Probe[];
  /** Connections open at once; default 32. */
  concurrency?: number;
  /** Connection attempts a second, at most; default 100. */
  ratePerSecond?: number;
  /** How long a port may take to accept; default 2 s. A closed or filtered port is no endpoint. */
  connectTimeoutMs?: number;
  /** How long an open port may take to say what it is; default 8 s. */
  probeTimeoutMs?: number;
}

export interface DiscoveryProgress {
  /** Addresses whose every probe has finished. */
  scanned: number;
  total: number;
  /** Endpoints found so far. */
  found: number;
}

export type Endpoint =
  | { address: string; port: number; protocol: 'ssh'; ssh: SshIdentity }
  | { address: string; port: number; protocol: 'winrm-http' | 'winrm-https'; winrm: WinrmIdentity }
  /** The port accepted a connection but did not answer as the protocol expected there. */
  | { address: string; port: number; protocol: ProbeProtocol; unrecognised: true };

/** A host as discovery proposes it, for a person to review, give a credential and import. */
export interface HostProposal {
  address: string;
  /** A host id made from the address (`10-0-0-5`); the reviewer may choose another. */
  id: string;
  transport: 'ssh' | 'winrm' | null;
  port: number | null;
  tags: string[];
  /** SSH: the host key to pin, as hosts keep it ("type base64"), with its fingerprint to compare by eye. */
  hostKey?: { type: string; fingerprint: string; key: string };
  /** WinRM over HTTPS: the certificate to pin (its SHA-256 fingerprint). */
  certificate?: NonNullable<WinrmIdentity['certificate']>;
  /** What the reviewer should know: an HTTP-only WinRM listener, both SSH and WinRM, a key that could not be read. */
  notes: string[];
  endpoints: Endpoint[];
}

export interface DiscoveryResult {
  total: number;
  endpoints: Endpoint[];
  proposals: HostProposal[];
}

export interface TargetDiscoveryDeps {
  policy: DiscoveryPolicy;
  clock?: PaceClock;
}

function openSocket(address: string, port: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, signal });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners('connect');
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      if (!ok) socket.destroy();
      resolve(ok ? socket : null);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function option(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min || v > max) throw new DiscoveryRefusedError('bad_options', `${name} is between ${min} and ${max}`);
  return v;
}

export function suggestedHostId(address: string): string {
  return address.toLowerCase().replace(/[^0-9a-f]+/g, '-').replace(/^-|-$/g, '').slice(0, 63);
}

/** From what answered on one address, the host to propose: which transport, which port, which key to pin. */
export function proposeHost(address: string, endpoints: Endpoint[]): HostProposal {
  const ssh = endpoints.find((e): e is Extract<Endpoint, { protocol: 'ssh'; ssh: SshIdentity }> => 'ssh' in e);
  const https = endpoints.find((e): e is Extract<Endpoint, { winrm: WinrmIdentity }> => 'winrm' in e && e.protocol === 'winrm-https');
  const http = endpoints.find((e) => 'winrm' in e && e.protocol === 'winrm-http');
  const os = ssh ? osFromBanner(ssh.ssh.banner) : null;
  const windows = os === 'windows' || https !== undefined || http !== undefined;
  const notes: string[] = [];
  let transport: HostProposal['transport'] = null;
  let port: number | null = null;
  if (https && (!ssh || os === 'windows')) {
    transport = 'winrm';
    port = https.port;
    if (ssh) notes.push(`OpenSSH for Windows also answers on port ${ssh.port}`);
  } else if (ssh) {
    transport = 'ssh';
    port = ssh.port;
    if (https) notes.push(`WinRM over HTTPS also answers on port ${https.port}`);
    if (!ssh.ssh.hostKey) notes.push(`the host key could not be read (${ssh.ssh.note ?? 'key exchange failed'}): it is pinned on first use instead`);
  } else if (http) {
    notes.push(`WinRM answers over HTTP only (port ${http.port}); Drydock's WinRM client uses HTTPS: enable the HTTPS listener (5986) to add this host`);
  }
  if (https && !https.winrm.identified) notes.push(`port ${https.port} looks like WinRM (HTTP.sys asking for Negotiate) but refused an anonymous Identify`);
  const tags = [...new Set([...(os ? [`os:${os}`] : windows ? ['os:windows'] : [])])];
  return {
    address,
    id: suggestedHostId(address),
    transport,
    port,
    tags,
    ...(transport === 'ssh' && ssh?.ssh.hostKey ? { hostKey: ssh.ssh.hostKey } : {}),
    ...(transport === 'winrm' && https?.winrm.certificate ? { certificate: https.winrm.certificate } : {}),
    notes,
    endpoints,
  };
}

/**
 * Target discovery: scans address ranges for SSH and WinRM endpoints and proposes hosts. The ranges are checked
 * against the policy before anything is sent (the cap on their size, public addresses); connections are limited
 * in number and in rate; nothing authenticates, so no credential is ever sent to a scanned address.
 */
export function createTargetDiscovery(deps: TargetDiscoveryDeps) {
  const clock = deps.clock ?? realClock;
  return {
    /** The addresses a request would scan, or the refusal: what the API says before it starts a discovery. */
    addresses(request: ScanRanges): string[] {
      return scanAddresses(request, deps.policy);
    },

    async scan(request: DiscoveryRequest, options: { signal?: AbortSignal; onProgress?: (progress: DiscoveryProgress) => void } = {}): Promise<DiscoveryResult> {
      const addresses = scanAddresses(request, deps.policy);
      const probes = request.probes ?? DEFAULT_PROBES;
      if (probes.length === 0) throw new DiscoveryRefusedError('bad_options', 'give at least one port to probe');
      for (const p of probes) option(p.port, p.port, 1, 65_535, `port ${p.port}`);
      const concurrency = option(request.concurrency, 32, 1, MAX_CONCURRENCY, 'concurrency');
      const pace = connectionPace(option(request.ratePerSecond, 100, 1, MAX_RATE_PER_SECOND, 'ratePerSecond'), clock);
      const connectTimeoutMs = option(request.connectTimeoutMs, 2_000, 100, 30_000, 'connectTimeoutMs');
      const probeTimeoutMs = option(request.probeTimeoutMs, 8_000, 100, 60_000, 'probeTimeoutMs');
      const { signal, onProgress } = options;

      const work = addresses.flatMap((address, index) => probes.map((probe) => ({ address, index, probe })));
      const left = addresses.map(() => probes.length);
      const found: Endpoint[][] = addresses.map(() => []);
      let scanned = 0;
      let endpoints = 0;
      let next = 0;

      const probeOne = async (address: string, probe: Probe): Promise<Endpoint | null> => {
        await pace.take(signal);
        const socket = await openSocket(address, probe.port, connectTimeoutMs, signal);
        if (!socket) return null;
        if (probe.protocol === 'ssh') {
          const ssh = await readSshIdentity(socket, probeTimeoutMs);
          return ssh ? { address, port: probe.port, protocol: 'ssh', ssh } : { address, port: probe.port, protocol: 'ssh', unrecognised: true };
        }
        const winrm = await identifyWinrm(socket, address, probe.port, probe.protocol === 'winrm-https', probeTimeoutMs);
        return winrm ? { address, port: probe.port, protocol: probe.protocol, winrm } : { address, port: probe.port, protocol: probe.protocol, unrecognised: true };
      };

      const worker = async () => {
        while (next < work.length) {
          signal?.throwIfAborted();
          const item = work[next++]!;
          const endpoint = await probeOne(item.address, item.probe).catch((err: unknown) => {
            if (signal?.aborted) throw signal.reason;
            throw err;
          });
          if (endpoint) {
            found[item.index]!.push(endpoint);
            endpoints += 1;
          }
          left[item.index]! -= 1;
          if (left[item.index] === 0) {
            scanned += 1;
            onProgress?.({ scanned, total: addresses.length, found: endpoints });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
      signal?.throwIfAborted();

      const all = found.flatMap((list) => [...list].sort((a, b) => a.port - b.port));
      const proposals = addresses.flatMap((address, i) => {
        const recognised = found[i]!.filter((e) => !('unrecognised' in e)).sort((a, b) => a.port - b.port);
        return recognised.length === 0 ? [] : [proposeHost(address, recognised)];
      });
      return { total: addresses.length, endpoints: all, proposals };
    },
  };
}

export type TargetDiscovery = ReturnType<typeof createTargetDiscovery>;
