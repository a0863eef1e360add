import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// RSS keeps garbage until the collector runs, so it says little about what code holds. This samples the memory
// still reachable (heap and buffers, after a full collection) while `run` works, relative to before it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function live(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** The most memory `run` held reachable at once, sampled every `everyMs`, in bytes above what was reachable before. */
export async function peakLiveMemory<T>(run: () => Promise<T>, everyMs = 100): Promise<{ result: T; peakBytes: number }> {
  const base = live();
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, live() - base);
  }, everyMs);
  try {
    const result = await run();
    return { result, peakBytes: Math.max(peak, live() - base) };
  } finally {
    clearInterval(timer);
  }
}
