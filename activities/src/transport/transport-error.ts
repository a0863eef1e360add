/**
 * Reaching or using a host without an agent failed; `message` names the host and says what to do, never a
 * credential. Every transport's error is one of these, so the host row and the run report alike.
 */
export abstract class HostTransportError<Reason extends string = string> extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.reason = reason;
  }

  /**
   * Whether the cause is the way to the host (refused, unreachable, authentication, host key or certificate,
   * TLS, the engine's socket) rather than the job (a script's own error, a bad parameter, a missing image).
   */
  abstract get unreachable(): boolean;
}

/** What a socket error means to a person, for every transport's "unreachable" message; each adds its own ECONNREFUSED hint. */
export const SOCKET_FAILURES: Readonly<Record<string, string>> = {
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved right now',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
};
