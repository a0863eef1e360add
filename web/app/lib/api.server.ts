import { type ClientResponse, hc } from 'hono/client';
import type { SuccessStatusCode } from 'hono/utils/http-status';
import { data } from 'react-router';
import type { AppType } from '@drydock/api/app-type';
import { loadConfig } from '@drydock/core';
import type { ErrorBody } from '@drydock/core/api-schemas';

const { apiUrl } = loadConfig();
export { apiUrl };

function csrfTokenOf(request: Request): string | undefined {
  const cookie = request.headers.get('cookie') ?? '';
  const match = /(?:^|;\s*)drydock_csrf=([^;]+)/.exec(cookie);
  return match?.[1];
}

export type ApiErrorBody = ErrorBody['error'];
export type ApiResult<T> = { ok: true; status: number; body: T } | { ok: false; status: number; error: ApiErrorBody };

/** What a route answers on success, as its contract declares it. */
export type Answer<R> = R extends ClientResponse<infer T, infer S> ? (S extends SuccessStatusCode ? T : never) : never;
type Pending = Promise<ClientResponse<unknown, number>>;

/**
 * The API's `/api/v1` routes as the person behind `request`: their cookie travels with every server-side call,
 * and each route's inputs and answers are typed from the API's own declarations (`AppType`).
 */
export function api(request: Request) {
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const name of ['cookie', 'user-agent', 'accept-language']) {
    const value = request.headers.get(name);
    if (value) headers[name] = value;
  }
  // The session's CSRF token, from its cookie: this server takes same-origin form posts only (its cross-site
  // guard refuses the rest), so a call it makes for a form is one the person's own page sent.
  const csrf = csrfTokenOf(request);
  if (csrf) headers['x-csrf-token'] = csrf;
  return hc<AppType>(apiUrl, {
    headers,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      try {
        return await fetch(input, { ...init, signal: request.signal });
      } catch (err) {
        if (request.signal.aborted) throw err;
        throw data({ code: 'api_unreachable', message: `The Drydock API at ${apiUrl} is not reachable. Check that it is running.` }, { status: 502 });
      }
    },
  }).api.v1;
}

/** For actions: the answer's success body, typed by the route, or the API's error to show beside the form. */
export async function result<P extends Pending>(pending: P): Promise<ApiResult<Answer<Awaited<P>>>> {
  const response = await pending;
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (response.ok) return { ok: true, status: response.status, body: body as Answer<Awaited<P>> };
  const error = (body as Partial<ErrorBody> | null)?.error;
  return {
    ok: false,
    status: response.status,
    error: error ?? { code: `http_${response.status}`, message: `The API answered ${response.status} ${response.statusText}`.trim() },
  };
}

/** For loaders: the success body, or the route's error response, which its ErrorBoundary explains. */
export async function answer<P extends Pending>(pending: P): Promise<Answer<Awaited<P>>> {
  const outcome = await result(pending);
  if (!outcome.ok) throw data(outcome.error, { status: outcome.status });
  return outcome.body;
}
