import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type ENVIRONMENTS, freePort } from '@drydock/core';
import { keyPair, type Sshd, startSshd } from '../../activities/src/ssh/sshd-fixtures.ts';
import type { ApiCall } from './first-admin.ts';

type PerHost<T> = T | ((index: number, hostId: string) => T);

export interface SshdFleetOptions {
  count: number;
  /** Host ids are `<prefix>-001` … `<prefix>-<count>`. Default `ssh`. */
  prefix?: string;
  tags?: PerHost<string[]>;
  environment?: PerHost<(typeof ENVIRONMENTS)[number] | null>;
  group?: PerHost<string | null>;
}

export interface SshdFleetHost {
  id: string;
  port: number;
}

export interface SshdFleet {
  hosts: SshdFleetHost[];
  /** Everyone's address: the hosts differ by port. */
  address: string;
  /** The account the hosts are reached as: the one running the servers (sshd only lets its own user in unless it is root). */
  username: string;
  /** The client key every server accepts; also stored in Drydock as `credentialId`. */
  privateKeyPath: string;
  credentialId: string;
  dir: string;
  sshds: Sshd[];
  stop(): Promise<void>;
}

function perHost<T>(value: PerHost<T> | undefined, fallback: T, index: number, hostId: string): T {
  if (value === undefined) return fallback;
  return typeof value === 'function' ? (value as (index: number, hostId: string) => T)(index, hostId) : value;
}

/**
 * `count` real OpenSSH servers on loopback, one process and one port per host as separate machines would
 * have (each with sshd's own MaxStartups budget), all accepting one client key. Each is registered in
 * `stack`'s Drydock as an SSH host with that key as a stored credential.
 */
export async function startSshdFleet(stack: { api: ApiCall }, options: SshdFleetOptions): Promise<SshdFleet> {
  const prefix = options.prefix ?? 'ssh';
  const dir = await mkdtemp(join(tmpdir(), 'drydock-sshd-fleet-'));
  await chmod(dir, 0o755);
  const sshds: Sshd[] = [];
  const stop = async () => {
    await Promise.all(sshds.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Keys made once: one host key for every server (each host id pins it separately), one client key.
    const [client] = await Promise.all([keyPair(join(dir, 'client')), keyPair(join(dir, 'host-key'))]);
    await writeFile(join(dir, 'authorized_keys'), `${client.publicKey}\n`);

    const width = Math.max(3, String(options.count).length);
    const ids = Array.from({ length: options.count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
    // freePort answers the kernel's choice of a free port; asked in parallel it could repeat one, so ask one at a time.
    const ports: number[] = [];
    while (ports.length < ids.length) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < ids.length) {
          const i = next++;
          sshds[i] = await startSshd({ dir, port: ports[i]!, hostKeyFile: join(dir, 'host-key'), name: ids[i]! });
        }
      }),
    );

    const cred = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: `${prefix}-fleet-key`, kind: 'ssh_key', secret: client.privateKey } });
    if (cred.status !== 201) throw new Error(`storing the SSH fleet's key failed: HTTP ${cred.status} ${await cred.text()}`);
    const credentialId = ((await cred.json()) as { id: string }).id;
    const username = userInfo().username;

    next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < ids.length) {
          const i = next++;
          const id = ids[i]!;
          const body = {
            id,
            transport: 'ssh',
            address: '127.0.0.1',
            port: ports[i],
            username,
            credentialId,
            tags: perHost(options.tags, ['ssh-fleet'], i + 1, id),
            ...(options.environment === undefined ? {} : { environment: perHost(options.environment, null, i + 1, id) }),
            ...(options.group === undefined ? {} : { group: perHost(options.group, null, i + 1, id) }),
          };
          const res = await stack.api('/api/v1/hosts', { method: 'POST', json: body });
          if (res.status !== 201) throw new Error(`adding SSH fleet host ${id} failed: HTTP ${res.status} ${await res.text()}`);
        }
      }),
    );

    return {
      hosts: ids.map((id, i) => ({ id, port: ports[i]! })),
      address: '127.0.0.1',
      username,
      privateKeyPath: join(dir, 'client'),
      credentialId,
      dir,
      sshds,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
