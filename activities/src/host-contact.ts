import type { Db } from '@drydock/core';
import { HostTransportError } from './transport/transport-error.ts';

/**
 * Why a central attempt could not reach or keep its host, when the cause is the transport (refused, unreachable,
 * authentication, host key or certificate, TLS, the engine socket); null for failures a person need not look
 * at the host for (a script's own error, a bad parameter, a missing image, a cancellation).
 */
export function transportFailure(err: unknown): string | null {
  return err instanceof HostTransportError && err.unreachable ? err.message : null;
}

/** The host answered: it is reached now, and whatever failed before no longer stands. */
export async function noteHostReached(db: Db, hostId: string): Promise<void> {
  await db.updateTable('hosts').set({ last_seen_at: new Date(), last_error: null, last_error_at: null }).where('id', '=', hostId).execute();
}

/** Runs one contact with an SSH, WinRM or Docker host; a transport failure is written on the host before it propagates. */
export async function withContactNoted<T>(db: Db, hostId: string, contact: () => Promise<T>): Promise<T> {
  try {
    return await contact();
  } catch (err) {
    const reason = transportFailure(err);
    // The failure is the run's to report; a database hiccup here must not replace it.
    if (reason !== null) await db.updateTable('hosts').set({ last_error: reason, last_error_at: new Date() }).where('id', '=', hostId).execute().catch(() => {});
    throw err;
  }
}
