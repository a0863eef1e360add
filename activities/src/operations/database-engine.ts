import type { Duplex } from 'node:stream';
import type { BindValue } from '@drydock/core/operations';

export const CONNECT_TIMEOUT_SECONDS = 10;

/** A failed query, in one line a user can act on; it never holds the password. */
export class DatabaseQueryError extends Error {
  override readonly name = 'DatabaseQueryError';
}

/** What an engine is asked: one statement, in a read-only transaction, rolled back afterwards. */
export interface QueryRequest {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | undefined;
  query: string;
  bind: BindValue[];
  timeoutMs: number;
  signal: AbortSignal;
  /**
   * Opens the connection's byte stream some other way than a TCP connection from here: an SSH host's
   * tunnel. A failure should carry a network `code` (ECONNREFUSED, …) so it is worded like a direct one.
   */
  connect?: () => Promise<Duplex>;
}

export interface QueryAnswer {
  rowCount: number;
  /** The first column's name, when the statement returned columns. */
  column: string | null;
  /** The first column of the first row, as the driver gave it; undefined when there was no row. */
  first: unknown;
}

/** Connection failures below the protocol, in words. */
export function networkFailure(code: string | undefined, where: string, engine: string): string | null {
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot reach ${engine} at ${where}: connection refused (is it running, and on that port?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach ${engine} at ${where}: host name not found`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach ${engine} at ${where}: host unreachable`;
    case 'ETIMEDOUT':
    case 'CONNECT_TIMEOUT':
      return `cannot reach ${engine} at ${where}: no answer within ${CONNECT_TIMEOUT_SECONDS} s`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${engine} at ${where} closed the connection`;
    default:
      return null;
  }
}
