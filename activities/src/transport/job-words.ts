import type { ScriptLine } from '@drydock/core/job-data';
import type { ParamValue } from '@drydock/core/manifest';
import type { AgentScriptJob } from '@drydock/core/run-contract';

/** A parameter's value as the script reads it, in a variable or a `--name=value` word: lists joined by commas. */
export function paramText(value: ParamValue): string {
  return Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : String(value);
}

/** setTimeout's largest delay; a longer timeout would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What ended a job early, once `stopWhen` has stopped it. */
export interface StopTriggers {
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  /** The job exited: its timeout no longer applies. */
  disarm(): void;
  /** The job is over: neither the timeout nor the signal stops it any more. */
  dispose(): void;
}

/** Calls `stop` when the job's timeout passes or its signal aborts (at once if it already has). */
export function stopWhen(signal: AbortSignal, timeoutSeconds: number, stop: () => void): StopTriggers {
  let timedOut = false;
  let cancelled = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    stop();
  }, Math.min(timeoutSeconds * 1000, MAX_TIMER_MS));
  const onAbort = () => {
    cancelled = true;
    stop();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    get timedOut() {
      return timedOut;
    },
    get cancelled() {
      return cancelled;
    },
    disarm: () => clearTimeout(timeout),
    dispose() {
      clearTimeout(timeout);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

/** What every transport's run of a job takes, beside where it runs. */
export interface JobRunOptions {
  job: AgentScriptJob;
  onLine: (line: ScriptLine) => void;
  signal: AbortSignal;
  /** More `DRYDOCK_*` variables for the script, such as DRYDOCK_HOST_ID and DRYDOCK_ATTEMPT. */
  extraEnv?: Record<string, string>;
}
