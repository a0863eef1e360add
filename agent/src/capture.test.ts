import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { LogBatchBody } from '@drydock/core/api-schemas';
import { SECRET_MASK } from '@drydock/core/manifest';
import { type AgentScriptJob, ENVIRONMENT_SNAPSHOT_NAME, type EnvironmentSnapshot } from '@drydock/core/run-contract';
import { describe, expect, test as baseTest } from 'vitest';
import { createAgentActivities } from './activities.ts';
import { AttemptJournal } from './attempt-journal.ts';
import { captureAttempt, type CaptureLimits, environmentSnapshot, findArtifacts, maskEnvironment } from './capture.ts';
import { artifactUploader } from './capture-upload.ts';
import { agentScriptJob } from '@drydock/core/testing';

function job(overrides: Partial<AgentScriptJob> = {}): AgentScriptJob {
  return agentScriptJob({ ...{ runId: '0190f5c2-0000-7000-8000-000000000001', scriptId: 'capture-demo', scriptPath: 'scripts/capture-demo.sh' }, ...overrides });
}

interface Received {
  url: URL;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A real HTTP server in the API's place: it takes uploads as the artifacts route does, or answers what a test says. */
interface ApiStandIn {
  url: string;
  received: Received[];
  /** The next answers, in order, before it goes back to storing: a status and an error message. */
  answers: { status: number; message: string }[];
  /** Log lines the agent sent, as the log endpoint takes them. */
  lines: { stream: string; line: string }[];
}

interface Fixtures {
  dir: string;
  api: ApiStandIn;
}

const test = baseTest
  .extend('dir', async ({}, { onCleanup }) => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-capture-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    return dir;
  })
  .extend('api', async ({}, { onCleanup }): Promise<Fixtures['api']> => {
    const state: ApiStandIn = { url: '', received: [], answers: [], lines: [] };
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      if (req.url?.endsWith('/logs')) {
        state.lines.push(...(JSON.parse(body.toString('utf8')) as LogBatchBody).lines.map((l) => ({ stream: l.stream, line: l.line })));
        return void res.writeHead(204).end();
      }
      const answer = state.answers.shift();
      if (answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'http', message: answer.message } }));
        return;
      }
      state.received.push({ url: new URL(req.url!, 'http://api'), headers: req.headers, body });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ size: body.length, sha256: createHash('sha256').update(body).digest('hex') }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return state;
  });

/** The agent's real journal, sending its log lines to the stand-in. */
const journal = (dir: string, api: ApiStandIn) =>
  new AttemptJournal({ dir: join(dir, 'journal'), shipping: { apiUrl: api.url, token: 'dda_test', flushIntervalMs: 10 }, log: { info() {}, warn() {} } });

const LIMITS: CaptureLimits = { maxFileBytes: 1024 * 1024, maxRunBytes: 3 * 1024 * 1024 };

async function capture(
  f: Fixtures,
  workDir: string,
  globs: string[],
  options: { limits?: CaptureLimits; snapshot?: boolean; j?: AgentScriptJob; env?: Record<string, string>; packages?: string[]; services?: string[] } = {},
) {
  const lines: string[] = [];
  await captureAttempt({
    job: options.j ?? job(),
    capture: { environment_snapshot: options.snapshot ?? false, artifacts: globs, packages: options.packages, services: options.services },
    attempt: 1,
    workDir,
    env: options.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    limits: options.limits ?? LIMITS,
    upload: artifactUploader({ apiUrl: f.api.url, token: () => 'dda_test' }),
    log: (l) => lines.push(l),
    signal: new AbortController().signal,
  });
  return lines;
}

async function files(dir: string, entries: Record<string, string | Buffer>) {
  for (const [name, content] of Object.entries(entries)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
}

describe('finding artifacts', () => {
  test('globs are relative to the work directory and match regular files only, in name order', async ({ dir }) => {
    await files(dir, { 'out/b.txt': 'b', 'out/a.txt': 'a', 'out/skip.log': 'x', 'out/nested/c.txt': 'c', 'top.txt': 't' });
    const lines: string[] = [];
    const found = await findArtifacts(dir, ['out/*.txt', 'out/**/*.txt', 'out/nested', 'missing/*.bin'], (l) => lines.push(l));
    expect(found.map((f) => f.name)).toEqual(['out/a.txt', 'out/b.txt', 'out/nested/c.txt']);
    expect(found[0]).toMatchObject({ size: 1 });
    expect(lines).toEqual(['artifact glob out/nested matched no file', 'artifact glob missing/*.bin matched no file']);
  });

  test('a symlink that leads out of the work directory is refused, one inside it is kept', async ({ dir }) => {
    const work = join(dir, 'work');
    await files(work, { 'out/real.txt': 'inside' });
    await writeFile(join(dir, 'secret.txt'), 'outside the run');
    await symlink(join(dir, 'secret.txt'), join(work, 'out/escape.txt'));
    await symlink('real.txt', join(work, 'out/alias.txt'));
    await files(join(dir, 'outside'), { passwd: 'root:x:0:0', hostname: 'elsewhere' });
    await symlink(join(dir, 'outside'), join(work, 'out/etc'));
    const lines: string[] = [];
    const found = await findArtifacts(work, ['out/*.txt', 'out/**/passwd', 'out/etc/hostname'], (l) => lines.push(l));
    expect(found.map((f) => f.name)).toEqual(['out/alias.txt', 'out/real.txt']);
    expect(lines).toContain(`artifact out/escape.txt not captured: it leads outside the run's work directory (a symlink to ${join(dir, 'secret.txt')})`);
    // A symlinked directory is never walked, so nothing under it matches a wildcard; a path spelled out through it is refused.
    expect(lines).toContain('artifact glob out/**/passwd matched no file');
    expect(lines).toContain(`artifact out/etc/hostname not captured: it leads outside the run's work directory (a symlink to ${join(dir, 'outside/hostname')})`);
  });

  test('globs that a backtracking matcher takes minutes over are matched at once', async ({ dir }) => {
    const work = join(dir, 'work');
    const long = `${'a'.repeat(200)}.txt`;
    await files(work, { [`out/${long}`]: 'x' });
    const braces = '{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}{u,v}{w,x}{y,z}{a,b}{c,d}{e,f}';
    const lines: string[] = [];
    const found = await findArtifacts(work, [`out/${braces}`, 'out/*a*a*a*a*a*a*a*a*b', 'out/*a*a*a*a*a*a*a*a*.txt'], (l) => lines.push(l));
    expect(found.map((f) => f.name)).toEqual([`out/${long}`]);
    expect(lines).toEqual([`artifact glob out/${braces} matched no file`, 'artifact glob out/*a*a*a*a*a*a*a*a*b matched no file']);
  });

  test('a FIFO is not read (it would block), and globs with ".." or an absolute path are refused', async ({ dir }) => {
    await mkdir(join(dir, 'out'));
    execFileSync('mkfifo', [join(dir, 'out/pipe.txt')]);
    const lines: string[] = [];
    const found = await findArtifacts(dir, ['out/*.txt', '../*', '/etc/passwd'], (l) => lines.push(l));
    expect(found).toEqual([]);
    expect(lines).toEqual([
      'artifact glob ../* refused: globs are relative to the run\'s work directory, without ".."',
      'artifact glob /etc/passwd refused: globs are relative to the run\'s work directory, without ".."',
      'artifact out/pipe.txt not captured: it is not a regular file',
    ]);
  });
});

describe('capturing an attempt', () => {
  test('uploads each file with its bytes, length, kind and attempt, and logs it with its checksum', async ({ dir, api }) => {
    const big = Buffer.alloc(700 * 1024, 7);
    await files(dir, { 'out/report.txt': 'all good\n', 'out/data.bin': big });
    const lines = await capture({ dir, api }, dir, ['out/*']);
    expect(api.received.map((r) => [r.url.searchParams.get('name'), r.url.searchParams.get('kind'), r.url.searchParams.get('attempt')])).toEqual([
      ['out/data.bin', 'artifact', '1'],
      ['out/report.txt', 'artifact', '1'],
    ]);
    const report = api.received[1]!;
    expect(report.url.pathname).toBe(`/api/v1/agent/runs/${job().runId}/artifacts`);
    expect(report.headers).toMatchObject({ authorization: 'Bearer dda_test', 'content-type': 'text/plain; charset=utf-8', 'content-length': '9' });
    expect(report.body.toString()).toBe('all good\n');
    expect(api.received[0]!.body.equals(big)).toBe(true);
    const sha = createHash('sha256').update('all good\n').digest('hex');
    expect(lines).toContain(`captured artifact out/report.txt (9 B, sha256 ${sha.slice(0, 12)})`);
    expect(lines.at(-1)).toBe('captured 2 files (700.0 kB) from attempt 1');
  });

  test('a file over the per-file limit, or past the per-run limit, is refused with the limit named; the rest still go', async ({ dir, api }) => {
    await files(dir, { 'out/a.bin': Buffer.alloc(600 * 1024), 'out/b.bin': Buffer.alloc(2 * 1024 * 1024), 'out/c.bin': Buffer.alloc(700 * 1024), 'out/d.txt': 'small' });
    const lines = await capture({ dir, api }, dir, ['out/*'], { limits: { maxFileBytes: 1024 * 1024, maxRunBytes: 1024 * 1024 + 512 } });
    expect(api.received.map((r) => r.url.searchParams.get('name'))).toEqual(['out/a.bin', 'out/d.txt']);
    expect(lines).toContain('artifact out/b.bin not captured: 2 MB is over the per-file limit of 1 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)');
    expect(lines).toContain(
      "artifact out/c.bin not captured: 700.0 kB more would bring this attempt's captures to 1.3 MB, over the per-run limit of 1.0 MB (DRYDOCK_ARTIFACT_MAX_RUN_MB)",
    );
  });

  test("the API's refusal is logged with its reason; a 503 is tried again", async ({ dir, api }) => {
    await files(dir, { 'out/a.txt': 'a', 'out/b.txt': 'b' });
    api.answers.push({ status: 413, message: 'out/a.txt is over the per-file artifact limit of 0.5 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)' }, { status: 503, message: 'busy' });
    const lines = await capture({ dir, api }, dir, ['out/*.txt']);
    expect(lines[0]).toBe('artifact out/a.txt not captured: the API refused it: out/a.txt is over the per-file artifact limit of 0.5 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)');
    expect(api.received.map((r) => r.url.searchParams.get('name'))).toEqual(['out/b.txt']);
  });

  test('an unreachable API costs the files, never the attempt', async ({ dir }) => {
    await files(dir, { 'out/a.txt': 'a' });
    const lines: string[] = [];
    await captureAttempt({
      job: job(),
      capture: { environment_snapshot: false, artifacts: ['out/*.txt'] },
      attempt: 2,
      workDir: dir,
      env: {},
      limits: LIMITS,
      upload: artifactUploader({ apiUrl: 'http://127.0.0.1:1', token: () => 'dda_test', tries: 1 }),
      log: (l) => lines.push(l),
      signal: new AbortController().signal,
    });
    expect(lines).toEqual([expect.stringMatching(/^artifact out\/a\.txt not captured: could not reach the API at http:\/\/127\.0\.0\.1:1: /)]);
  });
});

describe('the environment snapshot', () => {
  const secretJob = job({ params: { token: 's3cr3t-value', region: 'eu' }, secretNames: ['token'] });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    DRYDOCK_PARAM_TOKEN: 's3cr3t-value',
    DRYDOCK_PARAM_REGION: 'eu',
    MY_API_KEY: 'abc',
    DB_PASSWORD: 'hunter2',
    AWS_SECRET_ACCESS_KEY: 'xyz',
    GIT_CREDENTIALS: 'user:pw',
    NOTE: 'the token is s3cr3t-value, do not tell',
  };

  test('masks secret parameters, secret-looking names and secret values wherever they appear', () => {
    expect(maskEnvironment(secretJob, env)).toEqual({
      AWS_SECRET_ACCESS_KEY: SECRET_MASK,
      DB_PASSWORD: SECRET_MASK,
      DRYDOCK_PARAM_REGION: 'eu',
      DRYDOCK_PARAM_TOKEN: SECRET_MASK,
      GIT_CREDENTIALS: SECRET_MASK,
      MY_API_KEY: SECRET_MASK,
      NOTE: `the token is ${SECRET_MASK}, do not tell`,
      PATH: env.PATH,
    });
  });

  test('says what the host is, its disk and the interpreter version, and holds no secret value', async ({ dir, api }) => {
    const snapshot = await environmentSnapshot(secretJob, dir, env);
    expect(snapshot.host.os.platform).toBe('linux');
    expect(snapshot.host.os.arch).toBe(process.arch);
    expect(snapshot.host.hostname).not.toBe('');
    expect(snapshot.host.distribution?.ID).toBeTruthy();
    expect(snapshot.disk?.totalMb).toBeGreaterThan(0);
    expect(snapshot.interpreter).toMatchObject({ name: 'bash', command: 'bash', version: expect.stringContaining('bash') });
    expect(snapshot.environment.DRYDOCK_PARAM_REGION).toBe('eu');

    expect(snapshot).toMatchObject({ packages: [], services: [] });

    await capture({ dir, api }, dir, [], { snapshot: true, j: secretJob, env, packages: ['bash', 'no-such-package-xyz'], services: ['ssh'] });
    const sent = api.received[0]!;
    expect(sent.url.searchParams.get('kind')).toBe('environment');
    expect(sent.url.searchParams.get('name')).toBe(ENVIRONMENT_SNAPSHOT_NAME);
    expect(sent.headers['content-type']).toBe('application/json');
    const text = sent.body.toString();
    for (const secret of ['s3cr3t-value', 'hunter2', 'abc', 'xyz', 'user:pw']) expect(text).not.toContain(`"${secret}`);
    expect(text).not.toContain('s3cr3t-value');
    const sentSnapshot = JSON.parse(text) as EnvironmentSnapshot;
    expect(sentSnapshot.host.os.type).toBe('Linux');
    expect(sentSnapshot.packages).toEqual([
      { name: 'bash', version: expect.stringMatching(/^\d/), source: 'dpkg' },
      { name: 'no-such-package-xyz', version: null, source: 'dpkg', error: 'dpkg-query: no packages found matching no-such-package-xyz' },
    ]);
    expect(sentSnapshot.services).toEqual([{ name: 'ssh', state: null, manager: null, error: expect.stringMatching(/^no systemd on this host/) }]);
  });
});

/** The agent's activities as a host runs them, capturing into the test's API within `limits`. */
function capturingActivities(dir: string, api: ApiStandIn, limits: CaptureLimits) {
  return createAgentActivities({
    hostId: 'local',
    workDir: join(dir, 'work'),
    journal: journal(dir, api),
    policy: { forbiddenPaths: [], defaultTimeoutSeconds: 300, sourceOf: () => 'test' },
    capture: { upload: artifactUploader({ apiUrl: api.url, token: () => 'dda_test' }), limits },
  });
}

describe('the agent activity with capture', () => {
  test('captures after the process ends, before its work directory goes; a refused file leaves the run succeeded', async ({ dir, api }) => {
    const workDir = join(dir, 'work');
    const activities = capturingActivities(dir, api, { maxFileBytes: 1024 * 1024, maxRunBytes: 10 * 1024 * 1024 });
    const script = 'mkdir -p out\necho "report of $DRYDOCK_RUN_ID" > out/report.txt\nhead -c 2000000 /dev/zero > out/big.bin\necho done\n';
    const result = await new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') }).run(
      activities.runScript,
      job({ content: script, capture: { environment_snapshot: true, artifacts: ['out/*.txt', 'out/big.bin'] } }),
    );
    expect(result).toMatchObject({ exitCode: 0 });
    const system = api.lines.filter((l) => l.stream === 'system').map((l) => l.line);
    const exited = system.findIndex((l) => l.startsWith('exited with code 0'));
    expect(exited).toBeGreaterThan(0);
    expect(system.slice(exited + 1)).toEqual([
      expect.stringMatching(/^captured environment snapshot \(\d+\.\d kB, sha256 [0-9a-f]{12}\)$/),
      'artifact out/big.bin not captured: 1.9 MB is over the per-file limit of 1 MB (DRYDOCK_ARTIFACT_MAX_FILE_MB)',
      expect.stringMatching(/^captured artifact out\/report\.txt \(47 B, sha256 [0-9a-f]{12}\)$/),
      expect.stringMatching(/^captured 2 files \(\d+\.\d kB\) from attempt 1$/),
    ]);
    expect(api.received.find((r) => r.url.searchParams.get('name') === 'out/report.txt')?.body.toString()).toBe(`report of ${job().runId}\n`);
    expect(existsSync(workDir) ? await readdir(workDir) : []).toEqual([]);
  });

  test('a job without capture uploads nothing and its work directory is gone as before', async ({ dir, api }) => {
    const workDir = join(dir, 'work');
    const activities = capturingActivities(dir, api, LIMITS);
    await new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') }).run(activities.runScript, job({ content: 'mkdir out; echo x > out/a.txt\n' }));
    expect(api.received).toEqual([]);
    expect(existsSync(workDir) ? await readdir(workDir) : []).toEqual([]);
  });
});
