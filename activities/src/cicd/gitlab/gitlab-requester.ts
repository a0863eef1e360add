import { createRequesterFn, type FormattedResponse, type ResponseBodyTypes } from '@gitbeaker/requester-utils';

/** GitLab answered with an error status; the provider maps it to a CicdError with what was asked for. */
export class GitlabHttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  constructor(status: number, headers: Record<string, string>, body: unknown) {
    super(`GitLab answered HTTP ${status}`);
    this.name = 'GitlabHttpError';
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

/** GitLab could not be reached at all. */
export class GitlabUnreachableError extends Error {
  constructor(cause: unknown) {
    super('GitLab could not be reached', { cause });
    this.name = 'GitlabUnreachableError';
  }
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  searchParams?: string;
  prefixUrl?: string;
  signal?: AbortSignal;
  asStream?: boolean;
}

async function readBody(response: Response): Promise<ResponseBodyTypes> {
  if (response.status === 204) return null;
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const text = await response.text();
  if (type === 'application/json') {
    try {
      return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * gitbeaker's requester, but one request per call: its default handler retries 429 and 502 ten times within a
 * quarter of a second and then drops the status and Retry-After. Here each answer comes back as it is, so a rate
 * limit reaches the workflow with its wait and a proxy's 502 as a retryable failure.
 */
export function gitlabRequester(doFetch: typeof fetch = fetch) {
  return createRequesterFn(
    (_serviceOptions, requestOptions) => Promise.resolve(requestOptions),
    async (endpoint: string, options?: Record<string, unknown>): Promise<FormattedResponse> => {
      const { prefixUrl, searchParams, method, headers, body, signal, asStream } = (options ?? {}) as RequestOptions;
      const base = prefixUrl ? (prefixUrl.endsWith('/') ? prefixUrl : `${prefixUrl}/`) : undefined;
      const url = new URL(endpoint, base);
      url.search = searchParams ?? '';
      let response: Response;
      try {
        response = await doFetch(url, { method: method ?? 'GET', headers: headers ?? {}, body: body ?? null, signal: signal ?? null, redirect: 'follow' });
      } catch (err) {
        throw new GitlabUnreachableError(err);
      }
      const responseHeaders = Object.fromEntries(response.headers.entries());
      if (asStream && response.ok && response.body) return { body: response.body as ReadableStream, headers: responseHeaders, status: response.status };
      let parsed: ResponseBodyTypes;
      try {
        parsed = await readBody(response);
      } catch (err) {
        throw new GitlabUnreachableError(err);
      }
      if (!response.ok) throw new GitlabHttpError(response.status, responseHeaders, parsed);
      return { body: parsed, headers: responseHeaders, status: response.status };
    },
  );
}
