import { HostTransportError, SOCKET_FAILURES } from '../transport/transport-error.ts';

export type WinrmErrorReason = 'unreachable' | 'auth' | 'cert_changed' | 'timeout' | 'protocol' | 'other';

/** Reaching or using a WinRM host failed; `message` names the host and says what to do, never a credential. */
export class WinrmError extends HostTransportError<WinrmErrorReason> {
  override name = 'WinrmError';
  get unreachable(): boolean {
    return this.reason !== 'other';
  }
}

export function hostPort(target: { host: string; port: number }): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the WinRM HTTPS listener on that port? It is 5986 by default)',
  ...SOCKET_FAILURES,
};

/** Maps an error of the connection to `where` (host:port) to a WinrmError; WinrmErrors pass through. */
export function connectionFailure(err: unknown, where: string): WinrmError {
  if (err instanceof WinrmError) return err;
  const error = err as NodeJS.ErrnoException;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  if (code !== undefined && code in UNREACHABLE_CODES) return new WinrmError('unreachable', `${where} is unreachable: ${UNREACHABLE_CODES[code]}`);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' || (code ?? '').startsWith('ERR_SSL_')) {
    return new WinrmError('protocol', `${where} did not complete a TLS handshake (${error.message}): check that the port is WinRM's HTTPS listener`);
  }
  return new WinrmError('unreachable', `${where} is unreachable: ${error?.message ?? String(err)}`);
}
