import { CicdError, providerSaid, rateLimitFailure, unreachable } from './cicd-error.ts';
import type { CicdProviderKind } from './provider.ts';

export interface CicdHttpOptions {
  provider: CicdProviderKind;
  /** `https://jenkins.example.com/`, `https://circleci.com/api/v2`; a trailing `/` is ignored. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** How long one request may take before the provider counts as unreachable. Default 30 s. */
  requestTimeoutMs?: number;
  now?: () => number;
}

export interface CicdHttpRequest {
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  body?: string | URLSearchParams;
  /** Follow redirects (CircleCI's step output, GitHub's log download); refused otherwise. */
  followRedirects?: boolean;
}

export interface CicdHttpResponse {
  status: number;
  headers: Headers;
  text: string;
  url: string;
}

export interface CicdHttp {
  readonly base: string;
  request(method: string, pathOrUrl: string, request?: CicdHttpRequest): Promise<CicdHttpResponse>;
  /** Maps a failed answer to a CicdError; `what` names the thing asked for ("job team/api"). */
  failure(res: CicdHttpResponse, what: string, hints?: FailureHints): CicdError;
}

export interface FailureHints {
  /** What a 403 means the credentials lack, when the provider does not say. */
  missing?: (res: CicdHttpResponse) => string[];
  /** What to tell a user about a 401. */
  badCredentials?: string;
}

/** One HTTP round trip at a time, with timeouts, and the failures every provider shares mapped once. */
export function cicdHttp(options: CicdHttpOptions): CicdHttp {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeout = options.requestTimeoutMs ?? 30_000;
  const now = options.now ?? Date.now;
  const provider = options.provider;

  const request: CicdHttp['request'] = async (method, pathOrUrl, req = {}) => {
    const url = new URL(/^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${base}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: req.headers,
        body: req.body,
        signal: AbortSignal.timeout(timeout),
        redirect: req.followRedirects ? 'follow' : 'manual',
      });
    } catch (err) {
      throw unreachable(provider, base, err);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw unreachable(provider, base, err);
    }
    return { status: res.status, headers: res.headers, text, url: url.toString() };
  };

  const failure: CicdHttp['failure'] = (res, what, hints = {}) => {
    const header = (name: string) => res.headers.get(name);
    const limited = rateLimitFailure(provider, base, res.status, header, now());
    if (limited) return limited;
    const said = providerSaid(res.text);
    const detail = said ? `: ${said}` : '';
    if (res.status === 401) {
      return new CicdError(provider, 'bad_credentials', `${base} refused the credentials (HTTP 401${detail}); ${hints.badCredentials ?? 'check the token: it may be wrong, expired or revoked'}`);
    }
    if (res.status === 403) {
      const missing = hints.missing?.(res) ?? [];
      const lacks = missing.length > 0 ? `; the credentials lack ${missing.join(', ')}` : '';
      return new CicdError(provider, 'permission_denied', `${base} does not allow this for ${what} (HTTP 403${detail})${lacks}`, { missing });
    }
    if (res.status === 404) return new CicdError(provider, 'not_found', `${what} was not found at ${base} (HTTP 404): check the name, and that the credentials may see it`);
    if (res.status >= 500) return new CicdError(provider, 'unavailable', `${base} could not answer (HTTP ${res.status}${detail}); try again later`);
    if (res.status >= 300 && res.status < 400) {
      return new CicdError(provider, 'wrong_url', `${base} redirected to ${res.headers.get('location') ?? 'elsewhere'} (HTTP ${res.status}): is the URL the API's address?`);
    }
    return new CicdError(provider, 'rejected', `${base} refused the request for ${what} (HTTP ${res.status}${detail})`);
  };

  return { base, request, failure };
}

/** Parses a JSON answer, or says the URL does not lead to the provider's API. */
export function jsonBody<T>(provider: CicdProviderKind, base: string, res: CicdHttpResponse): T {
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new CicdError(provider, 'wrong_url', `${res.url} answered HTTP ${res.status} with a body that is not JSON: is ${base} the address of the ${provider} API?`);
  }
}
