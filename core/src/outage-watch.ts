export interface OutageWatch {
  /** Something failed for want of the dependency: said once, then probed until it answers. */
  down(reason: string): void;
  readonly isDown: boolean;
  stop(): void;
}

/**
 * Says once when a dependency (the database, Temporal, the API) stops answering and once when it answers
 * again, however many requests fail in between: an outage is two lines in a process's log, not one per retry.
 */
export function outageWatch(options: {
  what: string;
  /** Resolves once the dependency answers; called every `intervalMs` while it is down. */
  probe: () => Promise<unknown>;
  say: (line: string) => void;
  intervalMs?: number;
}): OutageWatch {
  let since: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    timer = undefined;
    if (since === undefined) return;
    let late: NodeJS.Timeout | undefined;
    // A probe that hangs counts as no answer: the watch keeps asking.
    const ok = await Promise.race([
      options.probe().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => (late = setTimeout(() => resolve(false), 2_000))),
    ]);
    clearTimeout(late);
    if (since === undefined) return;
    if (ok) {
      options.say(`${options.what} answers again after ${((Date.now() - since) / 1000).toFixed(1)} s`);
      since = undefined;
      return;
    }
    timer = setTimeout(() => void check(), options.intervalMs ?? 1_000);
    timer.unref();
  };
  return {
    down(reason) {
      if (since !== undefined) return;
      since = Date.now();
      options.say(`${options.what} does not answer (${reason}); retrying quietly until it does`);
      timer = setTimeout(() => void check(), options.intervalMs ?? 1_000);
      timer.unref();
    },
    get isDown() {
      return since !== undefined;
    },
    stop() {
      clearTimeout(timer);
      since = undefined;
    },
  };
}
