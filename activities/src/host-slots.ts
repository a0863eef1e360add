import { sql } from 'kysely';
import type { Db } from '@drydock/core';
import type { ProcessExit } from './job-execution.ts';

/** A slot lease lasts this long unless renewed; a worker that died mid-job frees its slot within it. */
export const SLOT_LEASE_MS = 30_000;
const RENEW_MS = 10_000;
const POLL_MS = 250;

export interface HostSlotOptions {
  db: Db;
  hostId: string;
  /** The host's own cap, or the configured default for hosts without an agent. */
  cap: number;
  /** Who holds the slot: one attempt of one run. A retried attempt is another holder. */
  holder: string;
  signal: AbortSignal;
  /** Said once when the job has to wait for a slot. */
  onWait: (message: string) => void;
}

/** Takes a free (or expired, or already ours) slot of the host; null when all are held. */
async function tryTake(db: Db, hostId: string, cap: number, holder: string): Promise<number | null> {
  const { rows } = await sql<{ slot: number }>`
    insert into host_slots (host_id, slot, holder, expires_at)
    select ${hostId}, s, ${holder}, now() + make_interval(secs => ${SLOT_LEASE_MS / 1000})
    from generate_series(0, ${cap - 1}::int) s
    where not exists (select 1 from host_slots h where h.host_id = ${hostId} and h.slot = s and h.expires_at > now() and h.holder <> ${holder})
    order by s
    limit 1
    on conflict (host_id, slot) do update set holder = excluded.holder, expires_at = excluded.expires_at
      where host_slots.expires_at <= now() or host_slots.holder = excluded.holder
    returning slot`.execute(db);
  return rows[0]?.slot ?? null;
}

/**
 * Runs `fn` holding one of the host's `cap` slots, so a host without an agent never runs more jobs at once than
 * it is allowed, whether they come from single runs, bulk executions or several central workers. Waits (polling)
 * while all slots are held; cancelled while waiting, it returns `cancelled()` without running `fn`. Renews the
 * lease while `fn` runs and frees the slot however it ends.
 */
export async function withHostSlot<T>(o: HostSlotOptions, fn: () => Promise<T>, cancelled: () => T): Promise<T> {
  let said = false;
  let slot: number | null;
  for (;;) {
    if (o.signal.aborted) return cancelled();
    slot = await tryTake(o.db, o.hostId, o.cap, o.holder);
    if (slot !== null) break;
    if (!said) {
      said = true;
      o.onWait(`waiting for a free slot: host ${o.hostId} runs at most ${o.cap} job${o.cap === 1 ? '' : 's'} at once`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      o.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
  const taken = slot;
  const renew = setInterval(() => {
    void o.db
      .updateTable('host_slots')
      .set({ expires_at: sql<Date>`now() + make_interval(secs => ${SLOT_LEASE_MS / 1000})` })
      .where('host_id', '=', o.hostId)
      .where('slot', '=', taken)
      .where('holder', '=', o.holder)
      .execute()
      .catch(() => {});
  }, RENEW_MS);
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await o.db.deleteFrom('host_slots').where('host_id', '=', o.hostId).where('slot', '=', taken).where('holder', '=', o.holder).execute();
  }
}

/** The cap of an agentless host: its own setting, else the configured default. */
export async function hostSlotCap(db: Db, hostId: string, fallback: number): Promise<number> {
  const row = await db.selectFrom('hosts').select('max_concurrent_jobs').where('id', '=', hostId).executeTakeFirst();
  return row?.max_concurrent_jobs ?? fallback;
}

/** How a job cancelled before it got a slot ends: cancelled, having run nothing. */
export function cancelledWhileWaiting(): ProcessExit & { signal: null } {
  return { exitCode: null, signal: null, timedOut: false, cancelled: true, durationMs: 0, stderrTail: '' };
}
