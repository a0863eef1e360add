import { HostTransportError, SOCKET_FAILURES } from '../transport/transport-error.ts';

export type SshErrorReason = 'unreachable' | 'auth' | 'host_key_changed' | 'host_key_unknown' | 'timeout' | 'other';

/** Reaching or using an SSH host failed; `message` names the host and says what to do, never a credential. */
export class SshError extends HostTransportError<SshErrorReason> {
  override name = 'SshError';
  get unreachable(): boolean {
    return this.reason !== 'other';
  }
}

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is sshd running on that port?)',
  ...SOCKET_FAILURES,
};

interface Ssh2Error extends Error {
  level?: string;
  code?: string | number;
}

/**
 * Maps an error ssh2 emitted before the session was ready. `where` is how the message names the host
 * ("127.0.0.1:22", or "bastion 10.0.0.1:22"); `seconds` the handshake timeout.
 */
export function connectFailure(err: Ssh2Error, where: string, username: string, seconds: number): SshError {
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (err.level === 'client-authentication') {
    return new SshError('auth', `authentication as ${username} failed on ${where}: check the credential, and that its public key is in ~${username}/.ssh/authorized_keys`);
  }
  if (err.level === 'client-timeout') {
    return new SshError('timeout', `${where} did not complete the SSH handshake within ${seconds} s: check the host, the port and any firewall in between`);
  }
  if (err.level === 'client-dns') return new SshError('unreachable', `${where} is unreachable: the host name does not resolve`);
  if (code !== undefined && code in UNREACHABLE_CODES) return new SshError('unreachable', `${where} is unreachable: ${UNREACHABLE_CODES[code]}`);
  if (err.level === 'client-socket') return new SshError('unreachable', `${where} is unreachable: ${err.message}`);
  return new SshError('other', `the SSH handshake with ${where} failed: ${err.message}`);
}
