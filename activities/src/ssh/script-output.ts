import { secretMasker } from '@drydock/core/job-data';

// The same limits and masking as the agent's runner (agent/src/script-runner.ts), so a run reads alike either way.
export const MAX_LINE = 16_384;
export const STDERR_TAIL_LINES = 20;

export { secretMasker };

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
