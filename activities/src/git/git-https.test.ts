import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile as readDiskFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test as baseTest } from 'vitest';
import { createSourceRepository } from './git-fixtures.ts';
import { gitInvocation } from './git-process.ts';
import { parseRemote, remoteAccess } from './git-remote.ts';
import { fetchMirror, GitError, type MirrorOptions, readFile } from './git-repository.ts';

const TOKEN = 'glpat-S3cr3t-t0ken-value';

interface GitHttpServer {
  url: string;
  /** Every process command line seen on this machine while git was fetching with a valid credential. */
  commandLines: string[];
  authorizedRequests: number;
}

/**
 * Smart HTTP as a forge serves it: `git http-backend` as a CGI behind Basic auth, so a request without
 * the right credential gets 401 with `WWW-Authenticate: Basic`.
 */
const test = baseTest
  .extend('tmp', async ({}, { onCleanup }) => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-git-https-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    return dir;
  })
  .extend('server', async ({ tmp }, { onCleanup }): Promise<GitHttpServer> => {
    const source = await createSourceRepository(join(tmp, 'remote'));
    await source.write({ 'manifests/deploy.yaml': 'id: deploy\n' });
    await source.commit('Add deploy');
    await source.push();
    const accepted = new Set(['x-access-token', 'x-token-auth'].map((user) => `Basic ${Buffer.from(`${user}:${TOKEN}`).toString('base64')}`));
    const state = { commandLines: [] as string[], authorizedRequests: 0 };
    const server = createServer((req, res) => {
      if (!accepted.has(req.headers.authorization ?? '')) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="catalog"', 'Content-Type': 'text/plain' });
        res.end('Unauthorized\n');
        return;
      }
      state.authorizedRequests += 1;
      void processCommandLines().then((lines) => {
        state.commandLines.push(...lines);
        serveCgi(req, res, join(tmp, 'remote'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return {
      url: `http://127.0.0.1:${port}/catalog.git`,
      get commandLines() {
        return state.commandLines;
      },
      get authorizedRequests() {
        return state.authorizedRequests;
      },
    };
  });

function serveCgi(req: IncomingMessage, res: ServerResponse, projectRoot: string): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const cgi = spawn('git', ['http-backend'], {
    env: {
      ...process.env,
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      REMOTE_USER: 'catalog-reader',
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let headerDone = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headerDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) return;
    headerDone = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
  });
  cgi.on('close', () => res.end());
}

async function processCommandLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    try {
      lines.push((await readDiskFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' '));
    } catch {
      // exited meanwhile
    }
  }
  return lines;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function options(tmp: string, url: string, extra: Partial<MirrorOptions> = {}): MirrorOptions {
  return { url, branch: 'main', mirrorDir: join(tmp, 'mirror'), knownHostsFile: join(tmp, 'known_hosts'), ...extra };
}

describe('a repository behind HTTP basic auth', () => {
  test('is mirrored with the right token, which appears on no command line and in no mirror file', async ({ tmp, server }) => {
    const { headSha } = await fetchMirror(options(tmp, server.url, { auth: { kind: 'https_token', token: TOKEN } }));
    expect(await readFile(join(tmp, 'mirror'), headSha, 'manifests/deploy.yaml')).toEqual({ content: 'id: deploy\n', type: 'file' });

    expect(server.authorizedRequests).toBeGreaterThan(0);
    expect(server.commandLines.some((line) => line.includes('git-remote-http') || line.includes('remote-http'))).toBe(true);
    const base64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    expect(server.commandLines.filter((line) => line.includes(TOKEN) || line.includes(base64))).toEqual([]);
    for (const file of await filesUnder(join(tmp, 'mirror'))) {
      const content = await readDiskFile(file, 'latin1');
      expect(content.includes(TOKEN) || content.includes(base64), file).toBe(false);
    }
  });

  test('takes the username a forge expects', async ({ tmp, server }) => {
    const auth = { kind: 'https_token', username: 'x-token-auth', token: TOKEN } as const;
    await expect(fetchMirror(options(tmp, server.url, { auth }))).resolves.toMatchObject({ headSha: expect.stringMatching(/^[0-9a-f]{40}$/) });
  });

  test('fails with reason auth, without the token in the message, when the token is wrong or missing', async ({ tmp, server }) => {
    const wrong = 'glpat-wrong-t0ken-value';
    const err = await fetchMirror(options(tmp, server.url, { auth: { kind: 'https_token', token: wrong } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).reason).toBe('auth');
    expect((err as GitError).message).toBe(`authentication failed for ${server.url}: check the credential`);
    expect(String((err as GitError).stack)).not.toContain(wrong);

    const anonymous = await fetchMirror(options(tmp, server.url)).catch((e: unknown) => e);
    expect((anonymous as GitError).reason).toBe('auth');
  });

  test('passes the token to git only through its environment', () => {
    const remote = parseRemote('https://git.example.com:8443/team/catalog.git');
    const access = remoteAccess(remote, { kind: 'https_token', token: TOKEN }, { knownHostsFile: '/var/lib/drydock/known_hosts' });
    const { argv, env } = gitInvocation({
      gitDir: '/var/lib/drydock/mirrors/catalog',
      args: ['fetch', '--end-of-options', remote.url, '+refs/heads/main:refs/heads/main'],
      baseEnv: { PATH: '/usr/bin', HOME: '/root', DATABASE_URL: 'postgres://secret', GIT_TRACE_CURL: '1' },
      extraEnv: access.env,
    });
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    expect(argv.join(' ')).not.toContain(TOKEN);
    expect(argv.join(' ')).not.toContain(basic);
    expect(env).toMatchObject({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.https://git.example.com:8443/.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      GIT_TERMINAL_PROMPT: '0',
      PATH: '/usr/bin',
    });
    expect(env).not.toHaveProperty('DATABASE_URL');
    expect(env).not.toHaveProperty('GIT_TRACE_CURL');
    expect(access.secrets).toEqual([TOKEN, basic]);
  });
});
