import { loadConfig } from '@drydock/core';
import { data } from 'react-router';

const { apiUrl } = loadConfig();

export interface ApiErrorBody {
  code: string;
  message: string;
  fields?: Record<string, string[]>;
}

export type ApiResult<T> = { ok: true; status: number; body: T } | { ok: false; status: number; error: ApiErrorBody };

export interface ApiCall {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
}

/** Calls the API as the person behind `request`: their cookie travels with every server-side call. */
export async function callApi<T>(request: Request, path: string, call: ApiCall = {}): Promise<ApiResult<T>> {
  const headers = new Headers({ accept: 'application/json' });
  for (const name of ['cookie', 'user-agent', 'accept-language']) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  if (call.body !== undefined) headers.set('content-type', 'application/json');

  let response: Response;
  try {
    response = await fetch(new URL(path, apiUrl), {
      method: call.method ?? 'GET',
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: request.signal,
    });
  } catch (err) {
    if (request.signal.aborted) throw err;
    throw data(
      { code: 'api_unreachable', message: `The Drydock API at ${apiUrl} is not reachable. Check that it is running.` },
      { status: 502 },
    );
  }

  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (response.ok) return { ok: true, status: response.status, body: body as T };
  const error = (body as { error?: ApiErrorBody } | null)?.error;
  return {
    ok: false,
    status: response.status,
    error: error ?? { code: `http_${response.status}`, message: `The API answered ${response.status} ${response.statusText}`.trim() },
  };
}

/** For loaders: an API failure becomes the route's error response, which its ErrorBoundary explains. */
export async function getFromApi<T>(request: Request, path: string): Promise<T> {
  const result = await callApi<T>(request, path);
  if (!result.ok) throw data(result.error, { status: result.status });
  return result.body;
}
