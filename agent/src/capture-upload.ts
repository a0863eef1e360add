import type { ArtifactUpload, UploadOutcome } from './capture.ts';

export interface ArtifactUploaderOptions {
  apiUrl: string;
  /** The agent's token, read at every request: a rotated token takes effect for uploads still to go. */
  token: () => string;
  /** Tries per file when the API cannot be reached or answers 5xx. */
  tries?: number;
}

async function refusal(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const message = (JSON.parse(text) as { error?: { message?: string } }).error?.message;
    if (message) return message;
  } catch {
    // not the API's JSON error
  }
  return `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

/**
 * Sends one captured file to `POST /api/v1/agent/runs/:runId/artifacts` as a streamed body of known length.
 * The API stores it by (run, attempt, name), so a file sent again after a lost answer replaces itself.
 */
export function artifactUploader(options: ArtifactUploaderOptions): ArtifactUpload {
  const tries = options.tries ?? 3;
  return async (runId, attempt, file, signal): Promise<UploadOutcome> => {
    const query = new URLSearchParams({ attempt: String(attempt), kind: file.kind, name: file.name });
    const url = `${options.apiUrl}/api/v1/agent/runs/${encodeURIComponent(runId)}/artifacts?${query}`;
    let last = '';
    for (let i = 0; i < tries; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500 * 3 ** (i - 1)));
      if (signal.aborted) return { ok: false, message: `stopped: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}` };
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.token()}`, 'content-type': file.contentType },
          body: file.body,
          signal,
        });
      } catch (err) {
        last = `could not reach the API at ${options.apiUrl}: ${(err as Error).message}`;
        continue;
      }
      if (res.ok) {
        const stored = (await res.json()) as { size: number; sha256: string };
        return { ok: true, size: stored.size, sha256: stored.sha256 };
      }
      last = `the API refused it: ${await refusal(res)}`;
      if (res.status < 500 && res.status !== 429) break;
    }
    return { ok: false, message: last };
  };
}
