import { CicdError } from './cicd-error.ts';
import type { CicdConnectionCheck, CicdConnectionReport } from './provider.ts';

/** Collects the checks of a "test connection": each a name and what it found, or the CicdError that says why not. */
export function connectionReport() {
  const checks: CicdConnectionCheck[] = [];
  const missing: string[] = [];
  return {
    /** Runs one check; true when it passed. Errors other than CicdErrors are bugs and propagate. */
    async check(name: string, fn: () => Promise<string>): Promise<boolean> {
      try {
        checks.push({ name, ok: true, detail: await fn() });
        return true;
      } catch (err) {
        if (!(err instanceof CicdError)) throw err;
        checks.push({ name, ok: false, detail: err.message });
        missing.push(...err.missing);
        return false;
      }
    },
    report(): CicdConnectionReport {
      return { ok: checks.length > 0 && checks.every((c) => c.ok), checks: [...checks], missing: [...new Set(missing)] };
    },
  };
}
