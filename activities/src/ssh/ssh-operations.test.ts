import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, expect, test as baseTest } from 'vitest';
import { freePort } from '@drydock/core';
import type { Operation, OperationResult } from '@drydock/core/operations';
import { runOperation } from '../operations/run-operation.ts';
import { type ProgramRun, sshOperations, unitFromFacts } from './ssh-operations.ts';
import { openSession, type SshSession, type SshTarget } from './ssh-connection.ts';
import { type KeyPair, keyPair, type Sshd, startSshd } from './sshd-fixtures.ts';

// Host operations on a real OpenSSH server on loopback, logged in as root: the programs run there, the judging here.

interface Lab {
  dir: string;
  client: KeyPair;
  hostKeyFile: string;
}

interface Host {
  session: SshSession;
  where: string;
  sshd: Sshd;
}

const test = baseTest
  .extend('lab', { scope: 'file' }, async ({}, { onCleanup }): Promise<Lab> => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-sshops-'));
    await chmod(dir, 0o755);
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    const client = await keyPair(join(dir, 'client'));
    const hostKeyFile = join(dir, 'host');
    await keyPair(hostKeyFile);
    await writeFile(join(dir, 'authorized_keys'), `${client.publicKey}\n`);
    return { dir, client, hostKeyFile };
  })
  .extend('host', { scope: 'file' }, async ({ lab }, { onCleanup }): Promise<Host> => {
    const sshd = await startSshd({ dir: lab.dir, port: await freePort(), hostKeyFile: lab.hostKeyFile });
    const target: SshTarget = { host: '127.0.0.1', port: sshd.port, username: 'root', auth: { kind: 'ssh_key', privateKey: lab.client.privateKey }, knownHostKey: null };
    const session = await openSession(target, new AbortController().signal);
    onCleanup(async () => {
      session.close();
      await sshd.stop();
    });
    return { session, where: `root@127.0.0.1:${sshd.port}`, sshd };
  })
  .extend('web', { scope: 'file' }, async ({}, { onCleanup }): Promise<string> => {
    const server = createServer((req, res) => {
      if (req.url === '/health') res.writeHead(200, { 'content-type': 'text/plain' }).end('status: healthy\n');
      else if (req.url === '/broken') res.writeHead(500).end('database unavailable\n');
      else if (req.url === '/old') res.writeHead(302, { location: '/health' }).end();
      else if (req.url === '/big') res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 'a'));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

function over(host: Host, op: Operation, options: { secrets?: Record<string, string>; signal?: AbortSignal; lines?: string[] } = {}): Promise<OperationResult> {
  return runOperation(op, {
    signal: options.signal ?? new AbortController().signal,
    secrets: options.secrets ?? {},
    execute: sshOperations({ session: host.session, where: host.where }),
    ...(options.lines ? { onLine: (line: string) => options.lines!.push(line) } : {}),
  });
}

describe('shell_command over SSH', () => {
  test('argv reaches the program verbatim, in the working directory, with the host’s PATH and the operation’s variables only', async ({ host, lab }) => {
    const marker = join(lab.dir, `pwned-${randomBytes(3).toString('hex')}`);
    const words = [`$(touch ${marker})`, `; touch ${marker}`, '`id`', 'a b', '*', "it's", '', 'x=y'];
    const lines: string[] = [];
    const result = await over(
      host,
      { type: 'shell_command', command: ['sh', '-c', 'pwd; for a in "$@"; do printf "[%s]\\n" "$a"; done; env | sort', 'sh', ...words], working_directory: lab.dir, environment: { APP_MODE: 'check', HOME: '/srv/app' } },
      { lines },
    );
    expect(result).toMatchObject({ ok: true, value: 0, checks: [{ name: 'exit code', ok: true, detail: 'exited with code 0' }] });
    expect(lines[0]).toMatch(/^\$ sh -c /);
    expect(lines[1]).toBe(lab.dir);
    expect(lines.slice(2, 2 + words.length)).toEqual(words.map((w) => `[${w}]`));
    const env = lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]);
    expect(env).toContain('PATH');
    expect(env).toContain('APP_MODE');
    expect(env.filter((n) => n!.startsWith('DRYDOCK_') || n === 'SSH_CONNECTION' || n === 'USER')).toEqual([]);
    expect(lines).toContain('HOME=/srv/app');
    expect(existsSync(marker)).toBe(false);
  });

  test('another exit code fails, and says which', async ({ host }) => {
    const result = await over(host, { type: 'shell_command', command: ['sh', '-c', 'echo failing >&2; exit 3'] });
    expect(result).toMatchObject({ ok: false, value: 3, checks: [{ name: 'exit code', ok: false, detail: 'exited with code 3, expected 0' }] });
    expect(result.output).toContain('failing');
  });

  test('a missing program or working directory is a clear failure, not a crash', async ({ host, lab }) => {
    const missing = await over(host, { type: 'shell_command', command: ['drydock-no-such-program', '--version'] });
    expect(missing.checks).toEqual([{ name: 'exit code', ok: false, detail: 'could not start drydock-no-such-program: no such program on PATH' }]);
    const nowhere = await over(host, { type: 'shell_command', command: ['true'], working_directory: join(lab.dir, 'nope') });
    expect(nowhere.checks).toEqual([{ name: 'exit code', ok: false, detail: `working directory ${join(lab.dir, 'nope')} does not exist or is not a directory` }]);
  });

  test('its timeout kills the remote process group', async ({ host }) => {
    const result = await over(host, { type: 'shell_command', command: ['sleep', '30'], timeout_seconds: 1 });
    expect(result.checks).toEqual([{ name: 'exit code', ok: false, detail: 'timed out after 1 s; process group killed' }]);
  });
});

describe('file_validation over SSH', () => {
  test('each check is judged as on an agent, from what the host reports', async ({ host, lab }) => {
    const file = join(lab.dir, 'backup.tar');
    await writeFile(file, Buffer.concat([Buffer.alloc(2 * 1024 * 1024), Buffer.from('\nBACKUP COMPLETE\n')]));
    const result = await over(host, { type: 'file_validation', path: file, checks: ['exists', 'readable', 'writable', 'size_gt_mb:1', 'modified_within:1h', 'contains:BACKUP COMPLETE'] });
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => [c.name, c.detail])).toEqual([
      ['exists', 'exists (a regular file, 2.0 MB)'],
      ['readable', 'readable by the SSH user root (root, which the mode bits do not stop); mode 0644'],
      ['writable', 'writable by the SSH user root (root, which the mode bits do not stop); mode 0644'],
      ['size_gt_mb:1', 'size 2.0 MB (2097169 bytes) > 1 MB'],
      ['modified_within:1h', expect.stringMatching(/^modified \d+ s ago \(.+\), within 1h$/)],
      ['contains:BACKUP COMPLETE', 'contains "BACKUP COMPLETE"'],
    ]);
  });

  test('a stale, small file fails the checks it does not meet, and a missing one every check', async ({ host, lab }) => {
    const file = join(lab.dir, 'old.log');
    await writeFile(file, 'short\n');
    await utimes(file, new Date('2020-01-01'), new Date('2020-01-01'));
    const stale = await over(host, { type: 'file_validation', path: file, checks: ['exists', 'size_gt_mb:5', 'modified_within:24h', 'contains:ERROR'] });
    expect(stale.checks.map((c) => [c.name, c.ok])).toEqual([
      ['exists', true],
      ['size_gt_mb:5', false],
      ['modified_within:24h', false],
      ['contains:ERROR', false],
    ]);
    expect(stale.checks[3]!.detail).toBe('"ERROR" not found in the file (6 bytes)');

    const missing = await over(host, { type: 'file_validation', path: join(lab.dir, 'nope.tar'), checks: ['exists', 'readable'] });
    expect(missing.checks).toEqual([
      { name: 'exists', ok: false, detail: 'file does not exist' },
      { name: 'readable', ok: false, detail: 'file does not exist' },
    ]);
    await symlink(join(lab.dir, 'gone'), join(lab.dir, 'dangling'));
    const dangling = await over(host, { type: 'file_validation', path: join(lab.dir, 'dangling'), checks: ['exists'] });
    expect(dangling.checks[0]!.detail).toBe('file does not exist (a symbolic link to a missing target)');
    const through = await over(host, { type: 'file_validation', path: join(file, 'inside'), checks: ['exists'] });
    expect(through.checks[0]!.detail).toBe('file does not exist (a part of the path is not a directory)');
  });

  test('a directory exists, and size checks say they apply to files', async ({ host, lab }) => {
    const result = await over(host, { type: 'file_validation', path: lab.dir, checks: ['exists', 'size_lt_mb:1'] });
    expect(result.checks).toEqual([
      { name: 'exists', ok: true, detail: 'exists (a directory)' },
      { name: 'size_lt_mb:1', ok: false, detail: 'is a directory; size checks apply to files' },
    ]);
  });
});

describe('service_health over SSH', () => {
  test('HTTP is checked with curl from the host: the status is the value, the body is searched', async ({ host, web }) => {
    const ok = await over(host, { type: 'service_health', http: { url: `${web}/health`, expect_body_contains: 'healthy' } });
    expect(ok).toMatchObject({
      ok: true,
      value: 200,
      checks: [
        { name: 'status', ok: true, detail: '200 OK' },
        { name: 'body', ok: true, detail: 'body (16 bytes) contains "healthy"' },
      ],
    });
    const broken = await over(host, { type: 'service_health', http: { url: `${web}/broken` } });
    expect(broken).toMatchObject({ ok: false, value: 500, checks: [{ name: 'status', ok: false, detail: '500 Internal Server Error, expected 200' }] });
  });

  test('a redirect is reported and not followed; a big body is read to its first MB', async ({ host, web }) => {
    const moved = await over(host, { type: 'service_health', http: { url: `${web}/old` } });
    expect(moved.checks[0]).toEqual({
      name: 'status',
      ok: false,
      detail: `302 Found: redirects to ${web}/health, which is not followed; expected 200 (point the check at the final URL, or expect 302)`,
    });
    const big = await over(host, { type: 'service_health', http: { url: `${web}/big`, expect_body_contains: 'zzz' } });
    expect(big.checks[1]).toEqual({ name: 'body', ok: false, detail: 'first 1 MB of the body does not contain "zzz"' });
    const head = await over(host, { type: 'service_health', http: { url: `${web}/health`, method: 'HEAD' } });
    expect(head).toMatchObject({ ok: true, value: 200 });
  });

  test('nothing listening is a clear failure', async ({ host }) => {
    const port = await freePort();
    const result = await over(host, { type: 'service_health', http: { url: `http://127.0.0.1:${port}/health`, expect_body_contains: 'x' } });
    expect(result.checks).toEqual([
      { name: 'status', ok: false, detail: `cannot connect to 127.0.0.1:${port}: connection refused` },
      { name: 'body', ok: false, detail: 'no response to read' },
    ]);
  });

  test('systemd on a host not booted with it fails as not available (this machine has no systemd)', async ({ host }) => {
    const result = await over(host, { type: 'service_health', systemd: { unit: 'ssh.service', expect: 'active' } });
    expect(result.checks).toEqual([{ name: 'state', ok: false, detail: 'systemd is not available on this host (it was not booted with systemd as init)' }]);
  });

  test('systemctl show is read for ActiveState, and a unit that is not loaded says so', () => {
    const run = (facts: [string, string][]): ProgramRun => ({
      facts,
      exit: { exitCode: 0, signal: null, timedOut: false, cancelled: false, durationMs: 1, stderrTail: '', workDir: null },
    });
    // The lines `systemctl show --property=LoadState,ActiveState,SubState` prints, in its order.
    expect(unitFromFacts(run([['rc', '0'], ['prop', 'LoadState=loaded'], ['prop', 'ActiveState=active'], ['prop', 'SubState=running']]))).toEqual({ state: 'active' });
    expect(unitFromFacts(run([['rc', '0'], ['prop', 'LoadState=not-found'], ['prop', 'ActiveState=inactive'], ['prop', 'SubState=dead']]))).toEqual({
      state: 'inactive',
      note: 'no such unit is loaded',
    });
    expect(unitFromFacts(run([['rc', '1'], ['error', 'Failed to connect to bus: No such file or directory']]))).toEqual({
      error: 'systemctl did not say: Failed to connect to bus: No such file or directory',
    });
  });
});

// The machine's own servers: PostgreSQL with trust auth for postgres, MariaDB with root and no password.
describe('database_query over SSH, through a tunnel the host opens', () => {
  test('PostgreSQL: a scalar in range passes, out of range fails', async ({ host }) => {
    const connection = { host: '127.0.0.1', port: 5432, database: 'postgres', user: 'postgres' };
    const lines: string[] = [];
    const pass = await over(host, { type: 'database_query', engine: 'postgresql', connection, query: 'SELECT count(*) FROM pg_database WHERE datname = $1', bind: ['postgres'], expect: { equals: 1 } }, { lines });
    expect(pass).toMatchObject({ ok: true, value: 1 });
    expect(lines).toContain(`through a tunnel from ${host.where}: 127.0.0.1:5432 is the database as that host sees it`);
    const fail = await over(host, { type: 'database_query', engine: 'postgresql', connection, query: 'SELECT 42', expect: { max: 10 } });
    expect(fail.checks[1]).toEqual({ name: 'value <= 10', ok: false, detail: '42 is above the maximum 10' });
  });

  test('MySQL (MariaDB): a scalar in range passes, a write is refused', async ({ host }) => {
    const connection = { host: '127.0.0.1', port: 3306, database: 'mysql', user: 'root' };
    const pass = await over(host, { type: 'database_query', engine: 'mysql', connection, query: 'SELECT 7', expect: { min: 1, max: 10 } });
    expect(pass).toMatchObject({ ok: true, value: 7 });
    const write = await over(host, { type: 'database_query', engine: 'mysql', connection, query: 'CREATE TABLE drydock_tunnel_probe (n int)' });
    expect(write.checks[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused: the query tried to write/) });
  });

  test('a port nothing listens on, as the host sees it, is one clear line', async ({ host }) => {
    const port = await freePort();
    const result = await over(host, { type: 'database_query', engine: 'postgresql', connection: { host: '127.0.0.1', port, database: 'postgres', user: 'postgres' }, query: 'SELECT 1' });
    expect(result.checks).toEqual([{ name: 'query', ok: false, detail: `cannot reach PostgreSQL at 127.0.0.1:${port}: connection refused (is it running, and on that port?)` }]);
  });

  test('a host that forbids tunnels says how to allow them', async ({ lab }) => {
    const sshd = await startSshd({ dir: lab.dir, port: await freePort(), hostKeyFile: lab.hostKeyFile, name: 'no-forwarding', settings: ['AllowTcpForwarding=no'] });
    const target: SshTarget = { host: '127.0.0.1', port: sshd.port, username: 'root', auth: { kind: 'ssh_key', privateKey: lab.client.privateKey }, knownHostKey: null };
    const session = await openSession(target, new AbortController().signal);
    try {
      const result = await over({ session, where: `root@127.0.0.1:${sshd.port}`, sshd }, {
        type: 'database_query',
        engine: 'mysql',
        connection: { host: '127.0.0.1', port: 3306, database: 'mysql', user: 'root' },
        query: 'SELECT 1',
      });
      expect(result.checks[0]!.detail).toMatch(/refuses to open tunnels .*: allow it with AllowTcpForwarding in its sshd_config$/);
    } finally {
      session.close();
      await sshd.stop();
    }
  });

  test('the server ends the statement when the run is cancelled', async ({ host }) => {
    const statement = `SELECT pg_sleep(30) /* ${randomBytes(4).toString('hex')} */`;
    const sql = postgres({ host: '127.0.0.1', port: 5432, database: 'postgres', user: 'postgres', max: 1, onnotice: () => {} });
    const running = async () => Number((await sql`SELECT count(*) AS c FROM pg_stat_activity WHERE state = 'active' AND query = ${statement}`)[0]!.c);
    try {
      const controller = new AbortController();
      const pending = over(host, { type: 'database_query', engine: 'postgresql', connection: { host: '127.0.0.1', database: 'postgres', user: 'postgres' }, query: statement }, { signal: controller.signal });
      await expect.poll(running, { timeout: 10_000 }).toBe(1);
      controller.abort();
      expect((await pending).checks).toEqual([{ name: 'query', ok: false, detail: 'cancelled' }]);
      await expect.poll(running, { timeout: 10_000 }).toBe(0);
    } finally {
      await sql.end();
    }
  });
});

describe('windows_service over SSH', () => {
  test('is not for SSH hosts, and says where it is', async ({ host }) => {
    const result = await over(host, { type: 'service_health', windows_service: { name: 'W32Time', expect: 'Running' } });
    expect(result.checks[0]!.detail).toBe(`Windows services are checked on Windows hosts, over WinRM or by an agent; ${host.where} is reached over SSH, which runs POSIX sh`);
  });
});
