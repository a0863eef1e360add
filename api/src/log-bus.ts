import type postgres from 'postgres';
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

/**
 * One LISTEN connection per API process fans NOTIFY out to every SSE client of a run, so a thousand
 * watchers cost one database connection, and any API process sees lines another process stored.
 */
export async function createLogBus(sql: postgres.Sql): Promise<LogBus> {
  const subscribers = new Map<string, Set<{ wake(): void }>>();
  const onNotify = (runId: string) => {
    for (const s of subscribers.get(runId) ?? []) s.wake();
  };
  // Run ids and bulk execution ids are both UUIDs: one map serves the run log streams and the bulk grids.
  const listeners = await Promise.all([sql.listen(LOG_CHANNEL, onNotify), sql.listen(RUN_CHANNEL, onNotify), sql.listen(BULK_CHANNEL, onNotify)]);

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
      await Promise.all(listeners.map((l) => l.unlisten()));
    },
  };
}
