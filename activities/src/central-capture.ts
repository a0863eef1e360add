import { createRequire } from 'node:module';
import { type CaptureLimits, formatBytes, MAX_ARTIFACT_FILES, paramEnvName } from '@drydock/core/job-data';

export { type CaptureLimits, formatBytes, MAX_ARTIFACT_FILES };
import type { AgentScriptJob, ArtifactKind, JobCapture } from '@drydock/core/run-contract';

// What a central worker's capture shares, whatever the transport (SSH, WinRM): the agent's limits and words.

/** The Drydock version of this worker, which a snapshot taken from here names where an agent names its own. */
export const DRYDOCK_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Capture gives up after this long, as on an agent, well within the minute the workflow leaves an attempt past its timeout. */
export const CAPTURE_BUDGET_MS = 45_000;

/** The DRYDOCK_* variables a job's script gets on every transport: the run's names, then one per parameter. */
export function jobVariables(job: AgentScriptJob, extraEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, ...extraEnv };
  for (const [name, value] of Object.entries(job.params)) env[paramEnvName(name)] = Array.isArray(value) ? value.join(',') : String(value);
  return env;
}

/** A captured file on its way to the blob store. */
export interface CapturedContent {
  name: string;
  kind: ArtifactKind;
  contentType: string;
  content: Uint8Array;
}

export type StoreCaptured = (file: CapturedContent) => Promise<Stored>;

/** What a central worker's capture of one attempt takes, whatever the transport. */
export interface CentralCaptureOptions {
  job: AgentScriptJob;
  capture: JobCapture;
  attempt: number;
  /** The DRYDOCK_* variables the script had. */
  scriptEnv: Record<string, string>;
  limits: CaptureLimits;
  store: StoreCaptured;
  log: (line: string) => void;
  signal: AbortSignal;
}

export interface Stored {
  size: number;
  sha256: string;
}

/**
 * One attempt's captures as a central worker stores them: each file checked against the per-file and per-run
 * limits before it is read, then stored, with the same log lines the agent writes. Never throws for a file.
 */
export function captureBudget(limits: CaptureLimits, log: (line: string) => void) {
  let total = 0;
  let captured = 0;
  return {
    /** Whether `size` more bytes fit; when not, the log says which limit, by its setting. */
    admits(size: number, what: string): boolean {
      if (size > limits.maxFileBytes) {
        log(`${what} not captured: ${formatBytes(size)} is over the per-file limit of ${formatBytes(limits.maxFileBytes)} (DRYDOCK_ARTIFACT_MAX_FILE_MB)`);
        return false;
      }
      if (total + size > limits.maxRunBytes) {
        log(
          `${what} not captured: ${formatBytes(size)} more would bring this attempt's captures to ${formatBytes(total + size)}, over the per-run limit of ${formatBytes(limits.maxRunBytes)} (DRYDOCK_ARTIFACT_MAX_RUN_MB)`,
        );
        return false;
      }
      return true;
    },
    /** The most one file may still take: the per-file limit, or what is left of the per-run one. */
    room(): number {
      return Math.min(limits.maxFileBytes, limits.maxRunBytes - total);
    },
    async store(what: string, write: () => Promise<Stored>): Promise<void> {
      try {
        const stored = await write();
        total += stored.size;
        captured++;
        log(`captured ${what} (${formatBytes(stored.size)}, sha256 ${stored.sha256.slice(0, 12)})`);
      } catch (err) {
        log(`${what} not captured: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    summary(attempt: number): void {
      if (captured > 0) log(`captured ${captured} file${captured === 1 ? '' : 's'} (${formatBytes(total)}) from attempt ${attempt}`);
    },
  };
}

export type CaptureBudget = ReturnType<typeof captureBudget>;
