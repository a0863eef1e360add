import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import {
  AddedMemberSchema,
  AuthStatusSchema,
  CreatedTokenSchema,
  MemberListSchema,
  MemberPatchSchema,
  MemberViewSchema,
  MeSchema,
  NewMemberBodySchema,
  NewServiceAccountBodySchema,
  NewTokenBodySchema,
  OneTimeLinkSchema,
  ResetBodySchema,
  ServiceAccountListSchema,
  ServiceAccountViewSchema,
  SetupBodySchema,
  SignInBodySchema,
  SwitchTeamBodySchema,
  TokenListSchema,
  TokenViewSchema,
} from '@drydock/core';
import { clientIp, noteAudit } from '../audit.ts';
import { CSRF_COOKIE, SESSION_COOKIE, setPrincipal } from '../auth.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';
import { access, CALLER, errors, json, jsonBody, resourceRouter } from '../contract.ts';
import {
  addMember,
  changeMember,
  completeSetup,
  createPersonalToken,
  createServiceAccount,
  createServiceAccountToken,
  csrfTokenOf,
  issueResetLink,
  listMembers,
  listPersonalTokens,
  listServiceAccounts,
  me,
  type NewSession,
  resetPassword,
  revokeToken,
  setupOpen,
  signIn,
  signOut,
  signOutEverywhere,
  switchTeam,
} from '../identity-service.ts';

const tags = ['identity'];
const IdParams = z.object({ id: z.string().meta({ description: 'The id' }) });
const UserParams = z.object({ userId: z.string().meta({ description: "The member's user id" }) });
const signedIn = (what: string) => ({
  200: {
    ...json(MeSchema, `${what}: the session cookie (\`drydock_session\`, HttpOnly) and the CSRF cookie are set; \`csrfToken\` is the header value for calls that change something`),
  },
});

const status = createRoute({
  method: 'get',
  path: '/auth/status',
  tags,
  summary: 'How users sign in here, and whether the first admin is still to be set up',
  security: CALLER.anyone,
  responses: { 200: json(AuthStatusSchema, 'The sign-in status') },
});

const signInRoute = createRoute({
  method: 'post',
  path: '/auth/sign-in',
  tags,
  summary: 'Sign in with an email and a local password',
  description: `An unknown email and a wrong password get the same answer. Five wrong passwords in a row lock the account for 15 minutes.`,
  security: CALLER.anyone,
  request: { body: jsonBody(SignInBodySchema) },
  responses: { ...signedIn('Signed in'), ...errors(400, [401, 'Email or password is wrong, or the account is locked'], [403, 'The user is disabled, or belongs to no team']) },
});

const setup = createRoute({
  method: 'post',
  path: '/auth/setup',
  tags,
  summary: "Set the first admin's password with the one-time setup link the API printed at its first start",
  description: 'Open until an admin has a password; closed for good after.',
  security: CALLER.anyone,
  request: { body: jsonBody(SetupBodySchema) },
  responses: { ...signedIn('The first admin, signed in'), ...errors(400, [401, 'The link is unknown, used or expired'], [409, 'Setup is done: an admin exists']) },
});

const reset = createRoute({
  method: 'post',
  path: '/auth/reset',
  tags,
  summary: 'Set a password with a reset or invitation link an admin issued',
  description: "The user's other sessions end; a lockout is lifted.",
  security: CALLER.anyone,
  request: { body: jsonBody(ResetBodySchema) },
  responses: { ...signedIn('The password is set, and the user signed in'), ...errors(400, [401, 'The link is unknown, used or expired'], [403, 'The user is disabled']) },
});

const signOutRoute = createRoute({
  method: 'post',
  path: '/auth/sign-out',
  tags,
  ...access('viewer', 'read'),
  summary: 'End this session',
  responses: { 204: { description: 'Signed out; the cookies are cleared' } },
});

const signOutAll = createRoute({
  method: 'post',
  path: '/auth/sign-out-everywhere',
  tags,
  ...access('viewer', 'read'),
  summary: "End every session of the caller, on every device (API tokens stay: revoke them one by one)",
  responses: { 200: json(z.object({ sessions: z.number().int().meta({ description: 'Sessions ended' }) }), 'Signed out everywhere') },
});

const meRoute = createRoute({
  method: 'get',
  path: '/me',
  tags: ['system'],
  ...access('viewer', 'read'),
  summary: 'Who is calling: the user, their teams with their role in each, the current team, how they signed in',
  responses: { 200: json(MeSchema, 'The caller') },
});

const switchRoute = createRoute({
  method: 'post',
  path: '/me/team',
  tags,
  ...access('viewer', 'read'),
  summary: 'Switch the session to another team of the user: every later call acts in it',
  request: { body: jsonBody(SwitchTeamBodySchema) },
  responses: { 200: json(MeSchema, 'The caller, in the new team'), ...errors(400, [403, 'An API token: it acts in its own team'], [404, 'The user is not in this team']) },
});

const tokenList = createRoute({
  method: 'get',
  path: '/tokens',
  tags,
  ...access('viewer', 'read'),
  summary: "The caller's API tokens in the current team (never their values)",
  responses: { 200: json(TokenListSchema, 'The tokens, newest first') },
});

const tokenCreate = createRoute({
  method: 'post',
  path: '/tokens',
  tags,
  ...access('viewer', 'manage'),
  summary: 'Create a personal API token: it acts as you, with your role in the current team, limited to its scopes',
  request: { body: jsonBody(NewTokenBodySchema) },
  responses: { 201: json(CreatedTokenSchema, 'Created: `token` is shown this once'), ...errors(400) },
});

const tokenRevoke = createRoute({
  method: 'delete',
  path: '/tokens/{id}',
  tags,
  ...access('viewer', 'manage'),
  summary: 'Revoke an API token (yours; an admin: any of the team); it stops working at once',
  request: { params: IdParams },
  responses: { 200: json(TokenViewSchema, 'Revoked'), ...errors(404) },
});

const accountList = createRoute({
  method: 'get',
  path: '/service-accounts',
  tags,
  ...access('admin', 'read'),
  summary: "The team's service accounts and their tokens",
  responses: { 200: json(ServiceAccountListSchema, 'The service accounts') },
});

const accountCreate = createRoute({
  method: 'post',
  path: '/service-accounts',
  tags,
  ...access('admin', 'manage'),
  summary: 'Create a service account for automation (CI, cron elsewhere), with a role in the current team',
  request: { body: jsonBody(NewServiceAccountBodySchema) },
  responses: { 201: json(ServiceAccountViewSchema, 'Created; give it a token next'), ...errors(400, [409, 'The team has a service account of this name']) },
});

const accountToken = createRoute({
  method: 'post',
  path: '/service-accounts/{id}/tokens',
  tags,
  ...access('admin', 'manage'),
  summary: 'Create a token of a service account',
  request: { params: IdParams, body: jsonBody(NewTokenBodySchema) },
  responses: { 201: json(CreatedTokenSchema, 'Created: `token` is shown this once'), ...errors(400, 404) },
});

const memberList = createRoute({
  method: 'get',
  path: '/members',
  tags,
  ...access('admin', 'read'),
  summary: 'The members of the current team, with their roles',
  responses: { 200: json(MemberListSchema, 'The members') },
});

const memberAdd = createRoute({
  method: 'post',
  path: '/members',
  tags,
  ...access('admin', 'manage'),
  summary: 'Add a user to the current team; a new user gets a one-time link that sets their password',
  request: { body: jsonBody(NewMemberBodySchema) },
  responses: { 201: json(AddedMemberSchema, 'Added'), ...errors(400, [409, 'Already a member']) },
});

const memberChange = createRoute({
  method: 'patch',
  path: '/members/{userId}',
  tags,
  ...access('admin', 'manage'),
  summary: "Change a member's role, or disable them (their sessions end at once, their tokens stop working)",
  request: { params: UserParams, body: jsonBody(MemberPatchSchema) },
  responses: { 200: json(MemberViewSchema, 'The member as they are now'), ...errors(400, 404, [409, 'The last admin of the team']) },
});

const memberReset = createRoute({
  method: 'post',
  path: '/members/{userId}/reset-link',
  tags,
  ...access('admin', 'manage'),
  summary: 'Issue a one-time password reset link for a member (valid 24 hours; an earlier one stops working)',
  request: { params: UserParams },
  responses: { 201: json(OneTimeLinkSchema, 'The link: give it to the member'), ...errors(404) },
});

function meta(c: Context<ApiEnv>) {
  return { ip: clientIp(c), userAgent: c.req.header('user-agent') ?? null };
}

/** Secure when people reach Drydock over TLS; the web server forwards `x-forwarded-proto`. */
function secure(deps: ApiDeps, c: Context<ApiEnv>): boolean {
  return deps.config.publicUrl.startsWith('https:') || new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

async function started(deps: ApiDeps, c: Context<ApiEnv>, session: NewSession) {
  const options = { path: '/', sameSite: 'Lax', secure: secure(deps, c), expires: session.absoluteExpiresAt } as const;
  setCookie(c, SESSION_COOKIE, session.cookie, { ...options, httpOnly: true });
  setCookie(c, CSRF_COOKIE, session.csrfToken, options);
  setPrincipal(c, session.principal);
  return me(deps, session.principal, session.csrfToken);
}

function ended(c: Context<ApiEnv>) {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
  deleteCookie(c, CSRF_COOKIE, { path: '/' });
}

export function identityRoutes(deps: ApiDeps) {
  return resourceRouter()
    .openapi(status, async (c) => c.json({ mode: deps.config.DRYDOCK_AUTH_MODE, setupOpen: await setupOpen(deps) }, 200))
    .openapi(signInRoute, async (c) => {
      const { email, password } = c.req.valid('json');
      noteAudit(c, { action: 'auth.sign-in', resource: `user:${email}`, detail: { method: 'local' } });
      return c.json(await started(deps, c, await signIn(deps, email, password, meta(c))), 200);
    })
    .openapi(setup, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'auth.setup', resource: `user:${body.email}` });
      return c.json(await started(deps, c, await completeSetup(deps, body, meta(c))), 200);
    })
    .openapi(reset, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'auth.reset-password' });
      return c.json(await started(deps, c, await resetPassword(deps, body.token, body.password, meta(c))), 200);
    })
    .openapi(signOutRoute, async (c) => {
      noteAudit(c, { action: 'auth.sign-out' });
      await signOut(deps, c.get('principal')!);
      ended(c);
      return c.body(null, 204);
    })
    .openapi(signOutAll, async (c) => {
      noteAudit(c, { action: 'auth.sign-out-everywhere' });
      const sessions = await signOutEverywhere(deps, c.get('principal')!);
      ended(c);
      return c.json({ sessions }, 200);
    })
    .openapi(meRoute, async (c) => {
      const principal = c.get('principal')!;
      return c.json(await me(deps, principal, await csrfTokenOf(deps, principal)), 200);
    })
    .openapi(switchRoute, async (c) => {
      const { teamId } = c.req.valid('json');
      noteAudit(c, { action: 'auth.switch-team', resource: `team:${teamId}` });
      const principal = await switchTeam(deps, c.get('principal')!, teamId);
      setPrincipal(c, principal);
      return c.json(await me(deps, principal, await csrfTokenOf(deps, principal)), 200);
    })
    .openapi(tokenList, async (c) => c.json({ tokens: await listPersonalTokens(deps, c.get('principal')!) }, 200))
    .openapi(tokenCreate, async (c) => {
      const body = c.req.valid('json');
      const created = await createPersonalToken(deps, c.get('principal')!, body);
      noteAudit(c, { action: 'token.create', resource: `token:${created.id}`, detail: { name: body.name, scopes: created.scopes } });
      return c.json(created, 201);
    })
    .openapi(tokenRevoke, async (c) => {
      const { id } = c.req.valid('param');
      noteAudit(c, { action: 'token.revoke', resource: `token:${id}` });
      return c.json(await revokeToken(deps, c.get('principal')!, id), 200);
    })
    .openapi(accountList, async (c) => c.json({ serviceAccounts: await listServiceAccounts(deps, c.get('principal')!) }, 200))
    .openapi(accountCreate, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'service-account.create', detail: { name: body.name, role: body.role } });
      return c.json(await createServiceAccount(deps, c.get('principal')!, body), 201);
    })
    .openapi(accountToken, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const created = await createServiceAccountToken(deps, c.get('principal')!, id, body);
      noteAudit(c, { action: 'token.create', resource: `token:${created.id}`, detail: { serviceAccount: id, name: body.name, scopes: created.scopes } });
      return c.json(created, 201);
    })
    .openapi(memberList, async (c) => c.json({ members: await listMembers(deps, c.get('principal')!.teamId) }, 200))
    .openapi(memberAdd, async (c) => {
      const body = c.req.valid('json');
      noteAudit(c, { action: 'member.add', resource: `user:${body.email}`, detail: { role: body.role } });
      return c.json(await addMember(deps, c.get('principal')!, body), 201);
    })
    .openapi(memberChange, async (c) => {
      const { userId } = c.req.valid('param');
      const body = c.req.valid('json');
      noteAudit(c, { action: 'member.update', resource: `user:${userId}`, detail: body });
      return c.json(await changeMember(deps, c.get('principal')!, userId, body), 200);
    })
    .openapi(memberReset, async (c) => {
      const { userId } = c.req.valid('param');
      noteAudit(c, { action: 'member.reset-link', resource: `user:${userId}` });
      return c.json(await issueResetLink(deps, c.get('principal')!, userId), 201);
    });
}
