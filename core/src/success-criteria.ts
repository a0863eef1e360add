import type { SuccessCriteria } from './manifest.ts';

/** What of the manifest's success criteria a finished process did not meet, in words; the exit code first. */
export function unmetCriteria(criteria: SuccessCriteria, exitCode: number | null, durationMs: number, missing: string[], forbidden: string[]): string[] {
  const out: string[] = [];
  if (exitCode !== null && !criteria.exit_codes.includes(exitCode)) out.push(`exit code ${exitCode} is not one of ${criteria.exit_codes.join(', ')}`);
  for (const needle of missing) out.push(`output never contained ${JSON.stringify(needle)}`);
  for (const needle of forbidden) out.push(`output contained ${JSON.stringify(needle)}`);
  if (criteria.max_execution_time !== undefined && durationMs > criteria.max_execution_time * 1000) {
    out.push(`took ${(durationMs / 1000).toFixed(1)} s, more than the ${criteria.max_execution_time} s allowed`);
  }
  return out;
}
