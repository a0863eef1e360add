import { describe, expect, it } from 'vitest';
import { connectionPace, type PaceClock } from './connection-pace.ts';

/** A clock the test moves; each sleep is recorded as the instant it ends. */
function manualClock() {
  let now = 1_000;
  const wakes: number[] = [];
  const clock: PaceClock = {
    now: () => now,
    sleep: async (ms) => {
      wakes.push(now + ms - 1_000);
    },
  };
  return { clock, wakes, advance: (ms: number) => (now += ms) };
}

describe('the connection pace', () => {
  it('spaces connection attempts evenly at the rate asked, in the order asked', async () => {
    const { clock, wakes } = manualClock();
    const pace = connectionPace(5, clock);
    await Promise.all(Array.from({ length: 6 }, () => pace.take()));
    // The first goes at once, then one every 200 ms.
    expect(wakes).toEqual([200, 400, 600, 800, 1000]);
  });

  it('does not make up for a quiet spell with a burst', async () => {
    const { clock, wakes, advance } = manualClock();
    const pace = connectionPace(10, clock);
    await pace.take();
    advance(5_000);
    await pace.take();
    await pace.take();
    expect(wakes).toEqual([5_100]);
  });
});
