import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { Client, type ConnectConfig } from 'ssh2';

/** What an SSH endpoint tells anyone who connects, before any authentication. */
export interface SshIdentity {
  /** The identification line, `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`. */
  banner: string;
  /** The host key the server proved it holds during key exchange, or null when key exchange failed. */
  hostKey: { type: string; fingerprint: string; key: string } | null;
  /** Why the host key could not be read, when it could not. */
  note?: string;
}

const MAX_BANNER_BYTES = 8 * 1024;
// The order Drydock's SSH transport prefers: the key recorded now is the one runs will see.
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return length > 0 && 4 + length <= blob.length ? blob.subarray(4, 4 + length).toString('latin1') : 'unknown';
}

/**
 * Reads the banner and the host key of the SSH server at the other end of `socket` (connected): the key is
 * taken in `hostVerifier`, which ssh2 calls during key exchange, and refused there, so the connection ends
 * before any user name or credential is sent. Resolves null when the other end is not an SSH server.
 */
export function readSshIdentity(socket: Socket, timeoutMs: number): Promise<SshIdentity | null> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let banner: string | null = null;
    let hostKey: SshIdentity['hostKey'] = null;
    let settled = false;
    const client = new Client();
    const finish = (note?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      client.destroy();
      socket.destroy();
      resolve(banner === null ? null : { banner, hostKey, ...(hostKey === null && note ? { note } : {}) });
    };
    // RFC 4253 4.2: the server may send other lines before the one that starts with "SSH-".
    const onData = (chunk: Buffer) => {
      if (banner !== null) return;
      received = Buffer.concat([received, chunk]);
      const lines = received.toString('latin1').split('\n');
      const ident = lines.slice(0, -1).find((line) => line.startsWith('SSH-'));
      if (ident !== undefined) banner = ident.replace(/\r$/, '').slice(0, 255);
      else if (received.length > MAX_BANNER_BYTES) finish();
    };
    const timer = setTimeout(() => finish('the server did not finish key exchange in time'), timeoutMs);
    socket.on('data', onData);
    client.on('error', (err: Error & { level?: string }) => finish(hostKey === null ? `key exchange failed: ${err.message}` : undefined));
    client.on('close', () => finish('the connection closed during key exchange'));
    const config: ConnectConfig = {
      sock: socket,
      username: 'drydock-discovery',
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: HOST_KEY_ALGORITHMS as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      hostVerifier: (key: Buffer) => {
        const blob = Buffer.from(key);
        hostKey = {
          type: keyType(blob),
          fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
          key: `${keyType(blob)} ${blob.toString('base64')}`,
        };
        // Refusing the key ends the handshake here, before authentication.
        return false;
      },
    };
    try {
      client.connect(config);
    } catch (err) {
      finish(`ssh2 could not start: ${(err as Error).message}`);
    }
  });
}

const OS_IN_BANNER: [RegExp, string][] = [
  [/ubuntu/i, 'ubuntu'],
  [/raspbian/i, 'raspbian'],
  [/debian/i, 'debian'],
  [/freebsd/i, 'freebsd'],
  [/openbsd/i, 'openbsd'],
  [/netbsd/i, 'netbsd'],
  [/for_windows/i, 'windows'],
];

/** The operating system an SSH banner names, as distributions patch it into the version (`OpenSSH_9.2p1 Debian-2`). */
export function osFromBanner(banner: string): string | null {
  return OS_IN_BANNER.find(([pattern]) => pattern.test(banner))?.[1] ?? null;
}
