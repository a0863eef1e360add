import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { OidcProviderSpec, OidcTestUser } from './oidc-provider.ts';

// A real OpenID provider (panva's oidc-provider, OpenID Certified) as its own process, for the tests and the
// browser test. Its clients and users come from the spec file named in argv[2]; the login page and the
// interaction routes are ours and minimal: a form with a user name and a password, and a cancel link.
// Started by startOidcProvider (oidc-provider.ts), which reads the ready line for the issuer.

const READY_LINE = 'oidc provider ready:';
const spec = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as OidcProviderSpec;

if (spec.clockOffsetSeconds) {
  // A provider whose clock is off: every time it writes (iat, exp, auth_time) is off by as much.
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + spec.clockOffsetSeconds! * 1000;
}

const usersBySub = new Map(spec.users.map((u) => [u.sub, u]));
const usersByLogin = new Map(spec.users.map((u) => [u.login, u]));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

function claimsOf(user: OidcTestUser) {
  return { sub: user.sub, email: user.email, email_verified: true, name: user.name, groups: user.groups };
}

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, spec.host, resolve));
const { port } = server.address() as AddressInfo;
const issuer = `http://${spec.host}:${port}`;

const configuration: Configuration = {
  clients: spec.clients.map((c) => ({
    client_id: c.clientId,
    ...(c.clientSecret ? { client_secret: c.clientSecret, token_endpoint_auth_method: 'client_secret_basic' } : { token_endpoint_auth_method: 'none' }),
    redirect_uris: c.redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  // The OIDC Core default (false puts scope claims in the ID token too): then the client must ask userinfo.
  conformIdTokenClaims: !spec.claimsInIdToken,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const user = usersBySub.get(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: () => claimsOf(user) };
  },
  // First-party clients: consent is implied, as a company's own identity provider does for its own applications.
  async loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { client, session, params } = ctx.oidc;
    if (!client || !session?.accountId) return undefined;
    const existing = session.grantIdFor(client.clientId);
    if (existing) {
      const grant = await ctx.oidc.provider.Grant.find(existing);
      if (grant) return grant;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(String(params?.scope ?? 'openid'));
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Sign-in failed', `<h1>Sign-in failed</h1><p id="error">${escape(String(out.error))}: ${escape(String(out.error_description ?? ''))}</p>`);
  },
};

const provider = new Provider(issuer, configuration);
const providerCallback = provider.callback();

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`;
}

function loginPage(uid: string, clientId: string, error?: string): string {
  return page(
    'Sign in to the test identity provider',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escape(clientId)}</strong></p>
${error ? `<p id="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <label>User name <input name="login" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>
<a href="/interaction/${escape(uid)}/abort">Cancel</a>`,
  );
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return html(res, 400, page('Sign-in failed', '<p id="error">this sign-in page belongs to another sign-in</p>'));
  const clientId = String(details.params.client_id);
  if (action === undefined && req.method === 'GET') return html(res, 200, loginPage(uid, clientId));
  if (action === 'abort' && req.method === 'GET') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user cancelled the sign-in' }, { mergeWithLastSubmission: false });
  }
  if (action === 'login' && req.method === 'POST') {
    const form = await formBody(req);
    const user = usersByLogin.get(form.get('login') ?? '');
    if (!user || user.password !== form.get('password')) return html(res, 401, loginPage(uid, clientId, 'Wrong user name or password.'));
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }
  html(res, 404, page('Not found', '<p id="error">no such page</p>'));
}

server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  const match = /^\/interaction\/([^/?]+)(?:\/(login|abort))?(?:\?.*)?$/.exec(req.url ?? '');
  if (!match) {
    void providerCallback(req, res);
    return;
  }
  interaction(req, res, match[1]!, match[2]).catch((err: Error) => {
    // An expired or foreign interaction cookie: the page says so, as a real provider's would.
    if (!res.headersSent) html(res, 400, page('Sign-in failed', `<p id="error">${escape(err.message)}</p>`));
  });
});

const shutdown = () => server.close(() => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, shutdown);
// The starter holds our stdin open and never writes: its end means the test died (even by kill -9), and we go too.
process.stdin.once('end', shutdown).resume();

console.log(`${READY_LINE} ${issuer}`);
