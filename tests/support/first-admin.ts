import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ApiCall = (path: string, init?: RequestInit & { json?: unknown }) => Promise<Response>;

/** The first admin, as the setup link made them: their password, an API token (read, run, manage) and a signed-in session. */
export interface StackAdmin {
  email: string;
  name: string;
  password: string;
  token: string;
  /** `drydock_session=…; drydock_csrf=…`, the cookies a browser signed in as the admin sends. */
  cookie: string;
  csrfToken: string;
}

export const TEST_ADMIN = { email: 'admin@drydock.test', name: 'Test Admin', password: 'the test admin password 42' } as const;

/** `fetch` against `base` with a `json` body option; no credential unless the caller's headers carry one. */
export function apiCaller(base: string): ApiCall {
  return (path, init = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (json !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetch(`${base}${path}`, {
      // A request the API never answers fails the test with its path, not with the test's own timeout.
      signal: AbortSignal.timeout(30_000),
      ...rest,
      headers,
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
  };
}

/** Calls as `admin` (their API token), unless a call brings its own `authorization` or `cookie`; without an admin, as `call` does. */
export function asAdmin(call: ApiCall, admin: StackAdmin | undefined): ApiCall {
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (admin && !headers.has('authorization') && !headers.has('cookie')) headers.set('authorization', `Bearer ${admin.token}`);
    return call(path, { ...init, headers });
  };
}

/**
 * The first admin of a fresh accounts-mode Drydock, made as a person makes them: the one-time link the API left in
 * `<data dir>/setup-link` sets their password and signs them in; signed in, they create an API token.
 */
export async function firstAdmin(dataDir: string, call: ApiCall, timeoutMs = 30_000): Promise<StackAdmin> {
  const file = join(dataDir, 'setup-link');
  const deadline = Date.now() + timeoutMs;
  let link: string | undefined;
  while (!link?.includes('token=')) {
    if (Date.now() > deadline) throw new Error(`the API wrote no setup link to ${file} within ${timeoutMs} ms`);
    link = await readFile(file, 'utf8').then((t) => t.trim(), () => undefined);
    if (!link) await new Promise((r) => setTimeout(r, 100));
  }
  const setupToken = new URL(link).searchParams.get('token');
  const setup = await call('/api/v1/auth/setup', { method: 'POST', json: { token: setupToken, ...TEST_ADMIN } });
  if (setup.status !== 200) throw new Error(`the setup link did not make the first admin: HTTP ${setup.status} ${await setup.text()}`);
  const { csrfToken } = (await setup.json()) as { csrfToken: string };
  const cookie = setup.headers
    .getSetCookie()
    .filter((c) => c.startsWith('drydock_session=') || c.startsWith('drydock_csrf='))
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const created = await call('/api/v1/tokens', { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken }, json: { name: 'tests', scopes: ['read', 'run', 'manage'] } });
  if (created.status !== 201) throw new Error(`the admin could not create an API token: HTTP ${created.status} ${await created.text()}`);
  const { token } = (await created.json()) as { token: string };
  return { ...TEST_ADMIN, token, cookie, csrfToken };
}
