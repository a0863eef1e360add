import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A user of the test provider: signs in with `login` and `password`. */
export interface OidcTestUser {
  login: string;
  password: string;
  /** The subject the provider gives the user. Default `sub-<login>`. */
  sub: string;
  email: string;
  name: string;
  groups: string[];
}

export interface OidcTestClient {
  clientId: string;
  /** Absent: a public client (token endpoint authentication `none`, PKCE only). */
  clientSecret?: string;
  redirectUris: string[];
}

/** What oidc-provider.main.ts reads from the file named in its argv. */
export interface OidcProviderSpec {
  host: string;
  clients: OidcTestClient[];
  users: OidcTestUser[];
  /** Seconds the provider's clock is off by (negative: behind). */
  clockOffsetSeconds?: number;
  /** Put the scopes' claims (email, name, groups) in the ID token too, as some providers do; by default only userinfo has them. */
  claimsInIdToken?: boolean;
}

export interface OidcProviderOptions {
  /** The host the provider listens on and names in its issuer: `127.0.0.1` (default) or `localhost`, as the browser will use it. */
  host?: string;
  clients: OidcTestClient[];
  users: (Omit<OidcTestUser, 'sub'> & { sub?: string })[];
  clockOffsetSeconds?: number;
  claimsInIdToken?: boolean;
  /** Print the provider's output, prefixed. */
  echo?: boolean;
}

export interface OidcSignInAnswer {
  /** The URL the provider finally sent the browser to: the redirect URI with `code`, `state` and `iss` (or `error`). */
  callbackUrl: string;
}

/** An HTTP user agent with its own cookies, driving the provider's pages as a person in a browser would. */
export interface ProviderBrowser {
  /**
   * Opens `authorizationUrl`, signs in on the provider's login page (unless this browser's session at the
   * provider already has), and follows the redirects until the provider sends it to a URL under `redirectUri`,
   * which it does not open: the caller hands it to the code under test. `cancel` presses Cancel instead.
   */
  signIn(authorizationUrl: string | URL, how: { redirectUri: string; login?: string; password?: string; cancel?: boolean }): Promise<OidcSignInAnswer>;
}

export interface OidcTestProvider {
  issuer: string;
  users: OidcTestUser[];
  output: string[];
  browser(): ProviderBrowser;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./oidc-provider.main.ts', import.meta.url));
const READY = /^oidc provider ready: (\S+)$/;

/**
 * Starts a real OpenID provider (`oidc-provider`) as its own process on a free port, with the given clients
 * and users. It ends with the test process, even when that is killed.
 */
export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcTestProvider> {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-oidc-'));
  const users: OidcTestUser[] = options.users.map((u) => ({ ...u, sub: u.sub ?? `sub-${u.login}` }));
  const spec: OidcProviderSpec = {
    host: options.host ?? '127.0.0.1',
    clients: options.clients,
    users,
    ...(options.clockOffsetSeconds ? { clockOffsetSeconds: options.clockOffsetSeconds } : {}),
    ...(options.claimsInIdToken ? { claimsInIdToken: true } : {}),
  };
  const specFile = join(dir, 'provider.json');
  await writeFile(specFile, JSON.stringify(spec), { mode: 0o600 });

  // stdin stays open and unwritten: the provider exits when it closes, so a dead test leaves no provider behind.
  const child: ChildProcess = spawn(process.execPath, [ENTRY, specFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the OpenID provider did not start within 20 s:\n${output.join('\n')}`)), 20_000);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        output.push(line);
        if (options.echo) console.log(`[oidc] ${line}`);
        const ready = READY.exec(line);
        if (ready) {
          clearTimeout(timer);
          resolve(ready[1]!);
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the OpenID provider exited before it was ready:\n${output.join('\n')}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  });

  return {
    issuer,
    users,
    output,
    browser: () => providerBrowser(issuer),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

function providerBrowser(issuer: string): ProviderBrowser {
  const origin = new URL(issuer).origin;
  let jar: Cookie[] = [];

  const cookieHeader = (url: URL) =>
    jar
      .filter((c) => url.origin === origin && url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');

  const remember = (res: Response, url: URL) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? url.pathname.replace(/\/[^/]*$/, '/');
      // Expiry is ignored on purpose: a provider run with a skewed clock writes its dates off by as much.
      jar = jar.filter((c) => !(c.name === name && c.path === path));
      if (value !== '') jar.push({ name, value, path });
    }
  };

  const request = async (url: URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    const cookies = cookieHeader(url);
    if (cookies) headers.set('cookie', cookies);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    remember(res, url);
    return res;
  };

  return {
    async signIn(authorizationUrl, how) {
      const redirect = new URL(how.redirectUri);
      let url = new URL(authorizationUrl);
      let init: RequestInit = {};
      for (let hops = 0; hops < 20; hops++) {
        if (url.origin === redirect.origin && url.pathname === redirect.pathname) return { callbackUrl: url.href };
        const res = await request(url, init);
        init = {};
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
          await res.body?.cancel();
          url = new URL(location, url);
          continue;
        }
        const page = await res.text();
        const form = /<form method="post" action="([^"]+)"/.exec(page);
        if (res.status === 200 && form) {
          if (how.cancel) {
            url = new URL(/<a href="([^"]+\/abort)">/.exec(page)![1]!, url);
            continue;
          }
          if (how.login === undefined || how.password === undefined) throw new Error('the provider asks for a login and a password, and none were given');
          url = new URL(form[1]!, url);
          init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ login: how.login, password: how.password }).toString() };
          continue;
        }
        const error = /id="error"[^>]*>([^<]*)</.exec(page)?.[1];
        throw new Error(`the provider answered ${url.pathname} with HTTP ${res.status}${error ? `: ${error}` : ''}`);
      }
      throw new Error('the provider redirected more than 20 times');
    },
  };
}
