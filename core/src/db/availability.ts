/** Errors of a database that is not there (down, restarting, unreachable), as opposed to a bad query. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);
/** PostgreSQL's own: shutting down, crashed, starting up or recovering (class 57P), or out of connections. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Why the database cannot be reached, when `err` says it cannot; undefined for any other error. */
export function databaseUnavailable(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (UNREACHABLE_CODES.has(code)) return code;
    if (UNAVAILABLE_STATES.has(code)) return (e as Error).message || code;
  }
  return undefined;
}

/**
 * Resolves once the database answers. A process that starts while the database is away (restarting, or not
 * up yet) waits for it, saying so once, instead of exiting into a restart loop.
 */
export async function untilDatabaseAnswers(probe: () => Promise<unknown>, options: { where: string; say: (line: string) => void; onWait?: (reason: string) => void }): Promise<void> {
  let waitingSince: number | undefined;
  for (;;) {
    try {
      await probe();
      if (waitingSince !== undefined) options.say(`the database at ${options.where} answers after ${((Date.now() - waitingSince) / 1000).toFixed(1)} s`);
      return;
    } catch (err) {
      const reason = databaseUnavailable(err);
      if (!reason) throw err;
      options.onWait?.(reason);
      if (waitingSince === undefined) {
        waitingSince = Date.now();
        options.say(`waiting for the database at ${options.where} (${reason})`);
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
