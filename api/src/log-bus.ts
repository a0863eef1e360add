import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { BULK_CHANNEL, LOG_CHANNEL, RUN_CHANNEL } from '@drydock/activities';

export { LOG_CHANNEL };

/** Wakes a waiting SSE stream when its run gets log lines or changes state, or its bulk execution changes. */
export interface RunSubscription {
  /** Resolves on the next change of the run, or after `timeoutMs` with false. */
  next(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export interface LogBus {
  subscribe(runId: string): RunSubscription;
  close(): Promise<void>;
}

/** A NOTIFY the bus sends itself: heard back, its LISTEN connection works; not heard, it is listened again. */
const PROBE_CHANNEL = 'drydock_bus_probe';
const PROBE_INTERVAL_MS = 5_000;
const PROBE_WAIT_MS = 3_000;

/**
 * One LISTEN connection per API process fans NOTIFY out to every SSE client of a run, so a thousand
 * watchers cost one database connection, and any API process sees lines another process stored. The
 * connection is checked every few seconds and made again after a database restart; every stream is woken
 * then, since what was notified meanwhile was lost.
 */
export async function createLogBus(sql: postgres.Sql, url: string): Promise<LogBus> {
  const subscribers = new Map<string, Set<{ wake(): void }>>();
  const onNotify = (runId: string) => {
    for (const s of subscribers.get(runId) ?? []) s.wake();
  };
  const wakeAll = () => {
    for (const set of subscribers.values()) for (const s of set) s.wake();
  };
  const probes = new Map<string, () => void>();

  let listener: postgres.Sql | undefined;
  const listen = async () => {
    const next = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'drydock-log-bus' } });
    try {
      // Run ids and bulk execution ids are both UUIDs: one map serves the run log streams and the bulk grids.
      await Promise.all([
        next.listen(LOG_CHANNEL, onNotify),
        next.listen(RUN_CHANNEL, onNotify),
        next.listen(BULK_CHANNEL, onNotify),
        next.listen(PROBE_CHANNEL, (nonce) => probes.get(nonce)?.()),
      ]);
    } catch (err) {
      await next.end({ timeout: 0 }).catch(() => {});
      throw err;
    }
    const previous = listener;
    listener = next;
    await previous?.end({ timeout: 0 }).catch(() => {});
  };
  await listen();

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const probe = async () => {
    const nonce = randomUUID();
    const heard = new Promise<boolean>((resolve) => {
      const late = setTimeout(() => resolve(false), PROBE_WAIT_MS);
      probes.set(nonce, () => {
        clearTimeout(late);
        resolve(true);
      });
    });
    try {
      // Sent through the pool: if the database does not take it, the database is away, not the LISTEN connection.
      const sent = await sql`select pg_notify(${PROBE_CHANNEL}, ${nonce})`.then(
        () => true,
        () => false,
      );
      if (!sent || (await heard) || closed) return;
      await listen();
      wakeAll();
    } catch {
      // The database went away again meanwhile; the next probe tries again.
    } finally {
      probes.delete(nonce);
    }
  };
  const loop = () => {
    timer = setTimeout(() => {
      void probe().finally(() => {
        if (!closed) loop();
      });
    }, PROBE_INTERVAL_MS);
    timer.unref();
  };
  loop();

  return {
    subscribe(runId) {
      let dirty = false;
      let resolve: ((changed: boolean) => void) | undefined;
      const sub = {
        wake() {
          dirty = true;
          resolve?.(true);
        },
      };
      const set = subscribers.get(runId) ?? new Set();
      set.add(sub);
      subscribers.set(runId, set);
      return {
        next(timeoutMs) {
          if (dirty) {
            dirty = false;
            return Promise.resolve(true);
          }
          return new Promise<boolean>((r) => {
            const timer = setTimeout(() => finish(false), timeoutMs);
            const finish = (changed: boolean) => {
              clearTimeout(timer);
              resolve = undefined;
              dirty = false;
              r(changed);
            };
            resolve = finish;
          });
        },
        close() {
          resolve?.(false);
          set.delete(sub);
          if (set.size === 0) subscribers.delete(runId);
        },
      };
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await listener?.end({ timeout: 0 });
    },
  };
}
