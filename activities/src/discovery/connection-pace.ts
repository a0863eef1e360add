import { setTimeout as delay } from 'node:timers/promises';

/** The clock a pace keeps: real time in a worker, a clock the test moves in its tests. */
export interface PaceClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: PaceClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : undefined),
};

/**
 * At most `perSecond` connection attempts a second, evenly spaced: each `take` reserves the next free slot at
 * once (so callers are served in the order they asked) and waits until it comes.
 */
export function connectionPace(perSecond: number, clock: PaceClock = realClock): { take(signal?: AbortSignal): Promise<void> } {
  const interval = 1000 / perSecond;
  let next = -Infinity;
  return {
    async take(signal) {
      const now = clock.now();
      const slot = Math.max(now, next);
      next = slot + interval;
      if (slot > now) await clock.sleep(slot - now, signal);
    },
  };
}
