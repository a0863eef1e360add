import type { AgentScriptJob } from '@drydock/core/run-contract';
import { errorText, getWithRetry } from './api-link.ts';

/** A job with its secret parameters' values, asked of the API for the run the job belongs to; rejects with a message for the run's log. */
export type SecretFetch = (job: AgentScriptJob, signal: AbortSignal) => Promise<AgentScriptJob>;

export interface SecretFetcherOptions {
  apiUrl: string;
  /** The agent's token, read at every request: a rotated token takes effect at once. */
  token: () => string;
  /** Tries when the API cannot be reached or answers 5xx or 429 (not Vault's failures, which it reports as such); default 8. */
  tries?: number;
}

/** Why the secrets could not be had, with whether a later attempt may fare better (Vault unavailable). */
export class SecretFetchError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = 'SecretFetchError';
    this.retryable = retryable;
  }
}

/**
 * `GET /api/v1/agent/runs/:runId/secrets`: the values live only in this process's memory, for the attempt that
 * asked; they are never written to the journal or to disk (they reach the script as environment variables).
 */
export function secretFetcher(options: SecretFetcherOptions): SecretFetch {
  const tries = options.tries ?? 8;
  return async (job, signal) => {
    const refs = job.secretRefs;
    if (!refs || Object.keys(refs).length === 0) return job;
    const url = `${options.apiUrl}/api/v1/agent/runs/${encodeURIComponent(job.runId)}/secrets`;
    // 502 and 503 are the API's word on Vault, not on itself: 503 (Vault unavailable) is worth a later attempt.
    const res = await getWithRetry({ url, apiUrl: options.apiUrl, token: options.token, tries, signal, final: (r) => r.status === 502 || r.status === 503 });
    if (typeof res === 'string') throw new SecretFetchError(`could not fetch the secret parameters of run ${job.runId}: ${res}`, false);
    if (!res.ok) {
      const said = await errorText(res);
      throw new SecretFetchError(said || `the API could not resolve the secrets of run ${job.runId} (HTTP ${res.status})`, res.status === 503);
    }
    const body = (await res.json()) as { secrets?: Record<string, unknown> };
    const values: Record<string, string> = {};
    for (const name of Object.keys(refs)) {
      const value = body.secrets?.[name];
      if (typeof value !== 'string') throw new SecretFetchError(`the API holds no value for the secret parameter ${name} of run ${job.runId}`, false);
      values[name] = value;
    }
    const resolved: AgentScriptJob = { ...job, params: { ...job.params, ...values } };
    delete resolved.secretRefs;
    return resolved;
  };
}
