import type { AgentScriptJob } from '@drydock/core/run-contract';
import { SECRET_MASK } from '@drydock/core/manifest';

// The same limits and masking as the agent's runner (agent/src/script-runner.ts), so a run reads alike either way.
export const MAX_LINE = 16_384;
export const STDERR_TAIL_LINES = 20;

/** Replaces every secret parameter's value in a line, longest first, so one secret inside another is masked whole. */
export function secretMasker(job: AgentScriptJob): (line: string) => string {
  const secrets = job.secretNames
    .map((n) => job.params[n])
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (line) => line;
  return (line) => secrets.reduce((out, s) => out.split(s).join(SECRET_MASK), line);
}

export interface LineSplitter {
  push(chunk: string): void;
  /** Emits what is left after the last newline. */
  end(): void;
}

/**
 * Splits a stream into lines without their `\n` / `\r\n`. A line longer than MAX_LINE is cut with a note,
 * and the rest of it is dropped up to the next newline.
 */
export function lineSplitter(emit: (line: string) => void): LineSplitter {
  let partial = '';
  let dropping = false;
  let ended = false;
  const cut = (raw: string) => (raw.length > MAX_LINE ? `${raw.slice(0, MAX_LINE)}… [line cut at ${MAX_LINE} characters]` : raw);
  return {
    push(chunk) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) {
        if (dropping) dropping = false;
        else emit(cut(part.endsWith('\r') ? part.slice(0, -1) : part));
      }
      if (dropping) partial = '';
      else if (partial.length > MAX_LINE) {
        emit(cut(partial));
        partial = '';
        dropping = true;
      }
    },
    end() {
      if (ended) return;
      ended = true;
      if (partial && !dropping) emit(cut(partial));
      partial = '';
    },
  };
}
