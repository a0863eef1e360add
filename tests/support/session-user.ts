import { newId } from '@drydock/core';

/** The part of a test stack a signed-in person needs: its API. */
interface StackApi {
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

export interface SessionUser {
  user: { id: string; email: string };
  /** Calls the API as this person's browser does: the session cookie, and the CSRF header on every call. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

async function ok<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what} failed: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/**
 * A person with a session rather than a token: the stack's admin adds them to its team with `role`, and they set
 * their password through their invitation link, which signs them in. Unlike a token, a session switches teams.
 */
export async function signedInMember(stack: StackApi, role: 'viewer' | 'operator' | 'maintainer' | 'admin'): Promise<SessionUser> {
  const email = `${role}-${newId().slice(-8)}@drydock.test`;
  const added = await ok<{ member: { userId: string }; link: { url: string } }>(
    await stack.api('/api/v1/members', { method: 'POST', json: { email, name: email, role } }),
    `adding ${email}`,
  );
  const token = new URL(added.link.url).searchParams.get('token');
  const reset = await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token, password: 'a long password for tests 42' } });
  const { csrfToken } = await ok<{ csrfToken: string }>(reset, `setting the password of ${email}`);
  const cookie = (reset.headers.getSetCookie().find((c) => c.startsWith('drydock_session=')) ?? '').split(';')[0]!;
  return {
    user: { id: added.member.userId, email },
    api: (path, init = {}) => stack.api(path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), cookie, 'x-csrf-token': csrfToken } }),
  };
}
