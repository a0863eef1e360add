import { describeScript, scriptMismatch } from '@drydock/activities/job-execution';
import type { AgentScriptJob, ScriptRef } from '@drydock/core/run-contract';
import { getWithRetry } from './api-link.ts';

/** Fetches the content a job's script reference names; rejects with a message for the run's log. */
export type ScriptFetch = (runId: string, ref: ScriptRef, signal: AbortSignal) => Promise<string>;

export interface ScriptFetcherOptions {
  apiUrl: string;
  /** The agent's token, read at every request: a rotated token takes effect at once. */
  token: () => string;
  /**
   * Tries when the API cannot be reached or answers 5xx or 429; unbounded unless given, so an API that restarts
   * delays the run instead of failing it. The attempt's signal (its cancel or timeout) ends the waiting.
   */
  tries?: number;
}

/** `GET /api/v1/agent/runs/:runId/script`, checked against the reference: the agent runs exactly what the run was validated against. */
export function scriptFetcher(options: ScriptFetcherOptions): ScriptFetch {
  const tries = options.tries ?? Number.POSITIVE_INFINITY;
  return async (runId, ref, signal) => {
    const url = `${options.apiUrl}/api/v1/agent/runs/${encodeURIComponent(runId)}/script`;
    const res = await getWithRetry({ url, apiUrl: options.apiUrl, token: options.token, tries, signal });
    if (typeof res === 'string') throw new Error(`could not fetch ${describeScript(ref)}: ${res}`);
    const content = await res.text();
    const mismatch = scriptMismatch(ref, content);
    if (mismatch) throw new Error(mismatch);
    return content;
  };
}

/** The script a job runs: fetched by its reference, or carried inline by a job of an older run. */
export async function jobScript(job: AgentScriptJob, fetchScript: ScriptFetch | undefined, signal: AbortSignal): Promise<string | null> {
  if (!job.script) return job.content ?? null;
  if (!fetchScript) throw new Error(`this agent cannot fetch ${describeScript(job.script)}: it was started without the API's address`);
  return fetchScript(job.runId, job.script, signal);
}
