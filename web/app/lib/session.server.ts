import { apiUrl } from './api.server.ts';

// Sign-in and sign-out go to the API from this server, and the cookies the API sets come back to the browser
// on this origin's answer: the session cookie never reaches the page's script.

function forwarded(request: Request, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', ...extra };
  for (const name of ['cookie', 'user-agent']) {
    const value = request.headers.get(name);
    if (value) headers[name] = value;
  }
  return headers;
}

function cookiesOf(res: Response): Headers {
  const headers = new Headers();
  for (const cookie of res.headers.getSetCookie()) headers.append('set-cookie', cookie);
  return headers;
}

async function messageOf(res: Response): Promise<string> {
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  return body?.error?.message ?? `The API answered ${res.status}`;
}

export async function signInPost(request: Request, body: { email: string; password: string }): Promise<{ ok: true; headers: Headers } | { ok: false; status: number; message: string }> {
  const res = await fetch(`${apiUrl}/api/v1/auth/sign-in`, { method: 'POST', headers: forwarded(request, { 'content-type': 'application/json' }), body: JSON.stringify(body) });
  if (res.ok) return { ok: true, headers: cookiesOf(res) };
  return { ok: false, status: res.status, message: await messageOf(res) };
}

/** The first admin's setup, or a reset (invitation) link: a password set, and the person signed in. */
export async function linkPost(
  request: Request,
  kind: 'setup' | 'reset',
  body: Record<string, string>,
): Promise<{ ok: true; headers: Headers } | { ok: false; status: number; message: string; fields: Record<string, string[]> }> {
  const res = await fetch(`${apiUrl}/api/v1/auth/${kind}`, { method: 'POST', headers: forwarded(request, { 'content-type': 'application/json' }), body: JSON.stringify(body) });
  if (res.ok) return { ok: true, headers: cookiesOf(res) };
  const error = ((await res.json().catch(() => null)) as { error?: { message?: string; fields?: Record<string, string[]> } } | null)?.error;
  return { ok: false, status: res.status, message: error?.message ?? `The API answered ${res.status}`, fields: error?.fields ?? {} };
}

export async function signOutPost(request: Request, everywhere: boolean): Promise<Headers> {
  const csrf = /(?:^|;\s*)drydock_csrf=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
  const res = await fetch(`${apiUrl}/api/v1/auth/${everywhere ? 'sign-out-everywhere' : 'sign-out'}`, { method: 'POST', headers: forwarded(request, csrf ? { 'x-csrf-token': csrf } : {}) });
  const headers = cookiesOf(res);
  // Signed out already (an expired session): clear the cookies all the same.
  if (!res.ok) {
    headers.append('set-cookie', 'drydock_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
    headers.append('set-cookie', 'drydock_csrf=; Path=/; Max-Age=0; SameSite=Lax');
  }
  return headers;
}
