import type { ParamValue } from '@drydock/core/manifest';

/** A parameter's value as the script reads it, in a variable or a `--name=value` word: lists joined by commas. */
export function paramText(value: ParamValue): string {
  return Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : String(value);
}

/** setTimeout's largest delay; a longer timeout would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
