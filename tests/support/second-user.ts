import { newId } from '@drydock/core';
import type { TestStack } from './stack.ts';

export interface UserApi {
  user: { id: string; email: string };
  /** Calls the stack's API with this person's API token. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

async function expectOk(res: Response, what: string): Promise<unknown> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what} failed: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Another member of the stack's team with `role`, as a person becomes one: the admin adds them, they set a
 * password through their link (which signs them in), and they create an API token for their calls.
 */
export async function asAnotherUser(stack: TestStack, role: 'viewer' | 'operator' | 'maintainer' | 'admin'): Promise<UserApi> {
  const email = `${role}-${newId().slice(-8)}@drydock.test`;
  const added = (await expectOk(await stack.api('/api/v1/members', { method: 'POST', json: { email, name: email, role } }), `adding ${email}`)) as {
    member: { userId: string };
    link: { url: string } | null;
  };
  const token = new URL(added.link!.url).searchParams.get('token');
  const reset = await stack.api('/api/v1/auth/reset', { method: 'POST', json: { token, password: 'a long password for tests 42' } });
  const me = (await expectOk(reset, `setting the password of ${email}`)) as { csrfToken: string };
  const cookie = (reset.headers.getSetCookie().find((c) => c.startsWith('drydock_session=')) ?? '').split(';')[0]!;
  const created = (await expectOk(
    await stack.api('/api/v1/tokens', { method: 'POST', headers: { cookie, 'x-csrf-token': me.csrfToken }, json: { name: 'tests', scopes: ['read', 'run', 'manage'] } }),
    `creating a token for ${email}`,
  )) as { token: string };
  return {
    user: { id: added.member.userId, email },
    api: (path, init = {}) => stack.api(path, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${created.token}` } }),
  };
}
