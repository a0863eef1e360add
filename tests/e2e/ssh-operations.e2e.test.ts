import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, type RunView } from '@drydock/core';
import type { EnvironmentSnapshot, RunArtifactView } from '@drydock/core/run-contract';
import { keyPair, type Sshd, startSshd } from '../../activities/src/ssh/sshd-fixtures.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Host operations and run capture on an agentless host: a real OpenSSH server on loopback, reached by the central
// worker. The machine's PostgreSQL (trust auth, postgres) and MariaDB (root, no password) are the databases.

const MB = 1024 * 1024;
// Each run connects anew and the machine is shared: a generous bound keeps a loaded machine from failing a test.
const RUN_WAIT_MS = 90_000;
let stack: TestStack;
let dir: string;
let sshd: Sshd;
let web: Server;
let webBase: string;

beforeAll(async () => {
  // 3 MB per file: capture-demo's 2 MB file passes, a 4 MB one does not.
  stack = await startTestStack({ env: { DRYDOCK_ARTIFACT_MAX_FILE_MB: '3' } });
  dir = await mkdtemp(join(tmpdir(), 'drydock-sshops-'));
  await chmod(dir, 0o755);
  const client = await keyPair(join(dir, 'client'));
  await keyPair(join(dir, 'host'));
  await writeFile(join(dir, 'authorized_keys'), `${client.publicKey}\n`);
  sshd = await startSshd({ dir, port: await freePort(), hostKeyFile: join(dir, 'host') });
  const cred = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'ops-key', kind: 'ssh_key', secret: client.privateKey } });
  const credentialId = ((await cred.json()) as { id: string }).id;
  const host = await stack.api('/api/v1/hosts', { method: 'POST', json: { id: 'box-ops', transport: 'ssh', address: '127.0.0.1', port: sshd.port, username: 'root', credentialId } });
  expect(host.status).toBe(201);

  web = createServer((req, res) => {
    if (req.url === '/health') res.writeHead(200, { 'content-type': 'text/plain' }).end('status: healthy\n');
    else res.writeHead(500).end('database unavailable\n');
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webBase = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});

afterAll(async () => {
  web?.closeAllConnections();
  await new Promise((resolve) => (web ? web.close(resolve) : resolve(null)));
  await sshd?.stop();
  await stack?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function action(json: Record<string, unknown>): Promise<void> {
  const res = await stack.api('/api/v1/actions', { method: 'POST', json });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function runAction(actionId: string, params: Record<string, unknown> = {}): Promise<RunView> {
  const res = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId, hostId: 'box-ops', params } });
  if (res.status !== 201) throw new Error(`start ${actionId}: ${res.status} ${await res.text()}`);
  return stack.waitForRun(((await res.json()) as RunView).id, undefined, RUN_WAIT_MS);
}

async function artifactsOf(runId: string): Promise<RunArtifactView[]> {
  return ((await (await stack.api(`/api/v1/runs/${runId}/artifacts`)).json()) as { artifacts: RunArtifactView[] }).artifacts;
}

const logOf = async (runId: string) => (await stack.lines(runId)).map((l) => l.line);

describe('host operations on an SSH host', { timeout: 300_000 }, () => {
  test('shell_command: exit 0 passes with the output in the log; another code fails naming it', async () => {
    await action({
      id: 'ops-shell',
      name: 'Shell',
      operation: { type: 'shell_command', command: ['sh', '-c', 'echo "hello $1 from $(hostname)"; exit "$2"', 'sh', '{{name}}', '{{code}}'] },
      parameters: [
        { name: 'name', type: 'string', required: true },
        { name: 'code', type: 'integer', default: 0 },
      ],
    });
    const ok = await runAction('ops-shell', { name: '$(id) ; "x"', code: 0 });
    expect(ok).toMatchObject({ status: 'succeeded', exitCode: 0, result: { ok: true, value: 0 } });
    const lines = await logOf(ok.id);
    expect(lines[0]).toBe(`attempt 1 on host box-ops over SSH (root@127.0.0.1:${sshd.port}): operation shell_command`);
    expect(lines.some((l) => l.startsWith('hello $(id) ; "x" from '))).toBe(true);

    const failed = await runAction('ops-shell', { name: 'x', code: 3 });
    expect(failed).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(failed.error).toMatch(/^checks failed: exit code/);
    expect(failed.result?.checks).toEqual([{ name: 'exit code', ok: false, detail: 'exited with code 3, expected 0' }]);
  });

  test('file_validation from the catalog: each check reported, and a failure names the checks that failed', async () => {
    const file = join(dir, 'backup.tar');
    await writeFile(file, Buffer.alloc(2 * MB));
    const res = await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'check-file', hostId: 'box-ops', params: { path: file, min_mb: 1, age: '1h' } } });
    expect(res.status).toBe(201);
    const ok = await stack.waitForRun(((await res.json()) as RunView).id, undefined, RUN_WAIT_MS);
    expect(ok.status).toBe('succeeded');
    expect(ok.result?.checks.map((c) => c.name)).toEqual(['exists', 'readable', 'size_gt_mb:1', 'modified_within:1h']);
    expect(ok.result?.checks[1]?.detail).toBe('readable by the SSH user root (root, which the mode bits do not stop); mode 0644');

    await utimes(file, new Date('2020-01-01'), new Date('2020-01-01'));
    const stale = await stack.waitForRun((await stack.startRun('check-file', { path: file, min_mb: 5, age: '24h' }, 'box-ops')).id, undefined, RUN_WAIT_MS);
    expect(stale.status).toBe('failed');
    expect(stale.error).toMatch(/^checks failed: size_gt_mb:5, modified_within:24h/);
  });

  test('service_health: HTTP is asked from the host; a 500 fails; systemd says it is not there; windows_service is refused', async () => {
    await action({ id: 'ops-health', name: 'Health', operation: { type: 'service_health', http: { url: `${webBase}/health`, expect_body_contains: 'healthy' } } });
    await action({ id: 'ops-broken', name: 'Broken', operation: { type: 'service_health', http: { url: `${webBase}/broken` } } });
    await action({ id: 'ops-unit', name: 'Unit', operation: { type: 'service_health', systemd: { unit: 'ssh.service', expect: 'active' } } });
    await action({ id: 'ops-winsvc', name: 'Windows service', operation: { type: 'service_health', windows_service: { name: 'W32Time', expect: 'Running' } } });

    const ok = await runAction('ops-health');
    expect(ok).toMatchObject({ status: 'succeeded', result: { ok: true, value: 200 } });
    expect(ok.result?.checks[1]?.detail).toBe('body (16 bytes) contains "healthy"');
    const broken = await runAction('ops-broken');
    expect(broken).toMatchObject({ status: 'failed', result: { ok: false, value: 500 } });
    expect(broken.result?.checks[0]?.detail).toBe('500 Internal Server Error, expected 200');
    // This machine was not booted with systemd: the check fails with that reason, as it would on an agent here.
    const unit = await runAction('ops-unit');
    expect(unit.result?.checks).toEqual([{ name: 'state', ok: false, detail: 'systemd is not available on this host (it was not booted with systemd as init)' }]);

    const refused = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'ops-winsvc', hostId: 'box-ops', params: {} } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { fields: Record<string, string[]> } }).error.fields.hostId).toEqual([
      'windows_service checks run on Windows hosts, over WinRM or through an agent; box-ops is reached over SSH',
    ]);
  });

  test('database_query through a tunnel from the host: PostgreSQL and MariaDB, in range and out of it', async () => {
    await action({
      id: 'ops-pg',
      name: 'PostgreSQL databases',
      operation: {
        type: 'database_query',
        engine: 'postgresql',
        connection: { host: '127.0.0.1', port: 5432, database: 'postgres', user: 'postgres' },
        query: 'SELECT count(*) FROM pg_database WHERE datname = {{db}}',
        expect: { min: 1 },
      },
      parameters: [{ name: 'db', type: 'string', required: true }],
    });
    await action({
      id: 'ops-mariadb',
      name: 'MariaDB schemas',
      operation: {
        type: 'database_query',
        engine: 'mysql',
        connection: { host: '127.0.0.1', port: 3306, database: 'mysql', user: 'root' },
        query: 'SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {{db}}',
        expect: { equals: 1 },
      },
      parameters: [{ name: 'db', type: 'string', required: true }],
    });

    const pg = await runAction('ops-pg', { db: 'postgres' });
    expect(pg).toMatchObject({ status: 'succeeded', result: { ok: true, value: 1 } });
    expect(await logOf(pg.id)).toContain(`through a tunnel from root@127.0.0.1:${sshd.port}: 127.0.0.1:5432 is the database as that host sees it`);
    const pgMissing = await runAction('ops-pg', { db: "nope' OR '1'='1" });
    expect(pgMissing).toMatchObject({ status: 'failed', result: { ok: false, value: 0 } });
    expect(pgMissing.result?.checks[1]).toEqual({ name: 'value >= 1', ok: false, detail: '0 is below the minimum 1' });

    const maria = await runAction('ops-mariadb', { db: 'mysql' });
    expect(maria).toMatchObject({ status: 'succeeded', result: { ok: true, value: 1 } });
    const mariaMissing = await runAction('ops-mariadb', { db: 'drydock_no_such_schema' });
    expect(mariaMissing.status).toBe('failed');
    expect(mariaMissing.result?.checks[1]).toEqual({ name: 'value = 1', ok: false, detail: 'the query returned 0, expected 1' });
  });
});

describe('run capture on an SSH host', { timeout: 180_000 }, () => {
  test('keeps the snapshot and the files for download; an oversized file is refused naming the limit', async () => {
    const run = await stack.waitForRun((await stack.startRun('capture-demo', { big_mb: 4, api_token: 'ssh-capture-secret' }, 'box-ops')).id, undefined, RUN_WAIT_MS);
    expect(run).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const artifacts = await artifactsOf(run.id);
    expect(artifacts.map((a) => [a.name, a.kind])).toEqual([
      ['drydock-environment.json', 'environment'],
      ['out/report.txt', 'artifact'],
    ]);
    const lines = await logOf(run.id);
    expect(lines).toContain('artifact out/big.bin not captured: 4 MB is over the per-file limit of 3 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)');
    expect(lines.at(-1)).toMatch(/^captured 2 files \(.+\) from attempt 1$/);
    expect(lines.join('\n')).not.toContain('ssh-capture-secret');

    for (const a of artifacts) {
      const res = await stack.api(a.downloadUrl);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(a.sha256);
      if (a.name === 'out/report.txt') expect(bytes.toString()).toContain(`run: ${run.id} attempt: 1 host: box-ops`);
      if (a.kind === 'environment') {
        const snapshot = JSON.parse(bytes.toString()) as EnvironmentSnapshot;
        expect(snapshot.host.os).toMatchObject({ type: 'Linux', platform: 'linux' });
        expect(snapshot.host.distribution?.ID).toBe('debian');
        expect(snapshot.disk?.totalMb).toBeGreaterThan(0);
        expect(snapshot.interpreter).toMatchObject({ name: 'bash', version: expect.stringContaining('bash') });
        expect(snapshot.environment).toMatchObject({ DRYDOCK_PARAM_API_TOKEN: '••••••', DRYDOCK_PARAM_BIG_MB: '4', DRYDOCK_HOST_ID: 'box-ops' });
        expect(bytes.toString()).not.toContain('ssh-capture-secret');
        // capture-demo names them; the SSH host is this Debian machine, which has dpkg-query and was not booted with systemd.
        expect(snapshot.packages).toEqual([
          { name: 'bash', version: execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' }), source: 'dpkg' },
          { name: 'no-such-package-xyz', version: null, source: 'dpkg', error: 'dpkg-query: no packages found matching no-such-package-xyz' },
        ]);
        expect(snapshot.services).toEqual([{ name: 'ssh', state: null, manager: null, error: 'no systemd on this host (it was not booted with systemd as init), nor OpenRC' }]);
      }
    }
  });

  test('a file that links out of the run directory is refused, and the rest is kept', async () => {
    await action({
      id: 'ops-escape',
      name: 'Escape',
      command_template: "sh -c 'echo kept > kept.txt && ln -s /etc/passwd escape.txt'",
      capture: { artifacts: ['*.txt'] },
    });
    const run = await runAction('ops-escape');
    expect(run.status).toBe('succeeded');
    expect((await artifactsOf(run.id)).map((a) => a.name)).toEqual(['kept.txt']);
    expect(await logOf(run.id)).toContain("artifact escape.txt not captured: it leads outside the run's work directory (a symlink to /etc/passwd)");
  });
});
