import type { AgentScriptJob } from '@drydock/core/run-contract';

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
    let last = '';
    for (let i = 0; i < tries; i++) {
      if (i > 0) await abortableDelay(Math.min(500 * 2 ** (i - 1), 5_000), signal);
      signal.throwIfAborted();
      let res: Response;
      try {
        res = await fetch(url, { headers: { authorization: `Bearer ${options.token()}` }, signal });
      } catch (err) {
        if (signal.aborted) throw err;
        last = `could not reach the API at ${options.apiUrl}: ${(err as Error).message}`;
        continue;
      }
      if (res.ok) {
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
      }
      const said = await errorText(res);
      // The API reached Vault and Vault failed: say what Vault said; 503 is Vault unavailable, worth a later attempt.
      if (res.status === 502 || res.status === 503) throw new SecretFetchError(said || `the API could not resolve the secrets of run ${job.runId} (HTTP ${res.status})`, res.status === 503);
      last = `the API answered HTTP ${res.status}${said ? `: ${said}` : ''}`;
      if (res.status < 500 && res.status !== 429) break;
    }
    throw new SecretFetchError(`could not fetch the secret parameters of run ${job.runId}: ${last}`, false);
  };
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 300);
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
