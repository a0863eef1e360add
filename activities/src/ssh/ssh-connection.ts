import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import { connectFailure, SshError } from './ssh-error.ts';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  auth: { kind: 'ssh_key'; privateKey: string } | { kind: 'password'; password: string };
  /** Pinned host key (OpenSSH "type base64" form) or null on first use. */
  knownHostKey: string | null;
  /** Optional bastion: the connection to the target is tunnelled through it (like ProxyJump). */
  jump?: Omit<SshTarget, 'jump'>;
  connectTimeoutMs?: number;
}

/** A ready SSH session. */
export interface SshSession {
  client: Client;
  hostKey: string;
  jumpHostKey: string | null;
  /** Why the connection (or the bastion's) broke, or null while it holds. */
  lostError(): Error | null;
  /** Called once, as soon as the connection breaks; not after `close()`. */
  onLost(listener: (err: Error) => void): void;
  close(): void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;
const SERVER_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];
const CHANNEL_OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

export function hostPort(target: { host: string; port: number }): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
function blobType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  return length > 0 && 4 + length <= blob.length ? blob.subarray(4, 4 + length).toString('latin1') : null;
}

/** The base64 key blob in a pinned key written "type base64 [comment]" (or just "base64"). */
function pinnedBlob(pinned: string): Buffer | null {
  const fields = pinned.trim().split(/\s+/);
  const candidate = fields.length === 1 ? fields[0] : fields[1];
  if (!candidate || !/^[A-Za-z0-9+/]+={0,2}$/.test(candidate)) return null;
  const blob = Buffer.from(candidate, 'base64');
  return blobType(blob) === null ? null : blob;
}

function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Offers the pinned key's type first, so a server with several host keys presents the pinned one. */
function hostKeyAlgorithms(pinned: Buffer | null): string[] {
  const type = pinned ? blobType(pinned) : null;
  const preferred = type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : type && SERVER_HOST_KEY_ALGORITHMS.includes(type) ? [type] : [];
  return [...preferred, ...SERVER_HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))];
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

interface Hop {
  client: Client;
  hostKey: string;
  loss: Loss;
  /** Ends the connection on purpose: not a loss. */
  end(): void;
}

/** Remembers the first reason a connection broke, synchronously, for whoever asks or listens. */
class Loss {
  error: Error | null = null;
  private listeners: ((err: Error) => void)[] = [];
  report(err: Error) {
    if (this.error) return;
    this.error = err;
    for (const listener of this.listeners.splice(0)) listener(err);
  }
  listen(listener: (err: Error) => void) {
    if (this.error) listener(this.error);
    else this.listeners.push(listener);
  }
}

/** Connects and authenticates to one host, verifying its host key before any credential is sent. */
function connectHop(target: Omit<SshTarget, 'jump'>, where: string, signal: AbortSignal, sock?: Duplex): Promise<Hop> {
  const pinned = target.knownHostKey === null ? null : pinnedBlob(target.knownHostKey);
  if (target.knownHostKey !== null && pinned === null) {
    return Promise.reject(new SshError('other', `the pinned host key for ${where} is not in OpenSSH "type base64" form: pin it again`));
  }
  const timeoutMs = target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const client = new Client();
  let seen: Buffer | null = null;
  let ready = false;
  let closing = false;
  const loss = new Loss();
  const reportLost = (err: Error) => {
    if (!closing) loss.report(err);
  };

  return new Promise<Hop>((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err === null) {
        ready = true;
        resolve({
          client,
          hostKey: `${blobType(seen!)} ${seen!.toString('base64')}`,
          loss,
          end: () => {
            closing = true;
            client.end();
          },
        });
      } else {
        client.destroy();
        reject(err);
      }
    };
    const onAbort = () => settle(abortReason(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    client.once('ready', () => settle(null));
    client.on('error', (err: Error & { level?: string }) => {
      if (ready) return reportLost(err);
      if (seen && pinned && !seen.equals(pinned)) {
        return settle(
          new SshError(
            'host_key_changed',
            `host key for ${where} changed since it was pinned: it now presents ${blobType(seen)} ${fingerprint(seen)}; ` +
              'if the key was replaced on purpose, clear the pinned key and run again',
          ),
        );
      }
      settle(connectFailure(err, where, target.username, timeoutMs / 1000));
    });
    client.once('close', () => {
      if (ready) reportLost(new Error('the connection closed'));
      else settle(new SshError('unreachable', `${where} closed the connection before the SSH session was ready`));
    });

    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.username,
      readyTimeout: timeoutMs,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      algorithms: { serverHostKey: hostKeyAlgorithms(pinned) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      hostVerifier: (key: Buffer) => {
        seen = Buffer.from(key);
        return pinned === null || seen.equals(pinned);
      },
      ...(sock ? { sock } : {}),
      ...(target.auth.kind === 'ssh_key'
        ? { privateKey: `${target.auth.privateKey.replace(/\r\n?/g, '\n').trim()}\n` }
        : { password: target.auth.password, tryKeyboard: false }),
    };
    try {
      client.connect(config);
    } catch {
      // ssh2 throws synchronously on a key it cannot parse; its message is not needed to act on it.
      settle(new SshError('auth', `the SSH private key for ${where} could not be read: use an unencrypted OpenSSH or PEM private key`));
    }
  });
}

function forwardThrough(jump: Client, target: SshTarget, via: string, signal: AbortSignal): Promise<Duplex> {
  const where = hostPort(target);
  return new Promise<Duplex>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    jump.forwardOut('127.0.0.1', 0, target.host, target.port, (err: (Error & { reason?: number | string }) | undefined, stream) => {
      signal.removeEventListener('abort', onAbort);
      if (!err) return resolve(stream);
      const description = err.message.replace(/^\(SSH\) Channel open failure: /, '');
      reject(
        err.reason === CHANNEL_OPEN_ADMINISTRATIVELY_PROHIBITED
          ? new SshError('other', `${via} refuses to forward connections to ${where} (${description}): allow it with AllowTcpForwarding/PermitOpen in its sshd_config`)
          : new SshError('unreachable', `${where} is unreachable from ${via}: ${description}`),
      );
    });
  });
}

/** Opens an authenticated session to `target`, through its bastion when it has one. Aborting rejects with the signal's reason. */
export async function openSession(target: SshTarget, signal: AbortSignal): Promise<SshSession> {
  const where = hostPort(target);
  if (!target.jump) {
    const hop = await connectHop(target, where, signal);
    return {
      client: hop.client,
      hostKey: hop.hostKey,
      jumpHostKey: null,
      lostError: () => hop.loss.error,
      onLost: (listener) => hop.loss.listen(listener),
      close: () => hop.end(),
    };
  }
  const via = `bastion ${hostPort(target.jump)}`;
  const jump = await connectHop(target.jump, via, signal);
  try {
    const tunnel = await forwardThrough(jump.client, target, via, signal);
    const hop = await connectHop(target, where, signal, tunnel);
    const loss = new Loss();
    jump.loss.listen((err) => loss.report(new Error(`lost the connection to ${via}: ${err.message}`)));
    hop.loss.listen((err) => loss.report(err));
    return {
      client: hop.client,
      hostKey: hop.hostKey,
      jumpHostKey: jump.hostKey,
      lostError: () => loss.error,
      onLost: (listener) => loss.listen(listener),
      close: () => {
        hop.end();
        jump.end();
      },
    };
  } catch (err) {
    jump.end();
    throw err;
  }
}
