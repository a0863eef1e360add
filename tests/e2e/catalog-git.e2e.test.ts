import { execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, type RunView, type ScriptView } from '@drydock/core';
import { eventually, REGISTRATION_SECRET, startTestStack, type TestStack } from '../support/stack.ts';

// A team's scripts repository as a real git repository: a bare repo over file://, pushed to from a clone.

const run = promisify(execFile);
let stack: TestStack;
let sql: postgres.Sql;
let dir: string;
let work: string;
let bare: string;
const SECRET = 'webhook-secret-for-tests';

async function git(...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: work, env: { ...process.env, GIT_AUTHOR_NAME: 'Ada Ops', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada Ops', GIT_COMMITTER_EMAIL: 'ada@example.com' } });
  return stdout.trim();
}

async function put(files: Record<string, string | null>, message: string): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) await rm(join(work, path), { force: true });
    else {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content, { mode: 0o755 });
    }
  }
  await git('add', '-A');
  await git('commit', '-q', '-m', message);
  await git('push', '-q', 'origin', 'HEAD:main');
  return git('rev-parse', 'HEAD');
}

const manifest = (id: string, extra = '', script = `scripts/${id}.sh`) =>
  `id: ${id}\nname: ${id} script\ncategory: ops\ntags: [ops]\nscript: ${script}\ninterpreter: sh\ntimeout: 30\n${extra}`;

async function repository(id: string) {
  return (await (await stack.api(`/api/v1/repositories/${id}`)).json()) as {
    status: string;
    head: string | null;
    lastSyncError: string | null;
    syncs: { status: string; reason: string; head: string | null }[];
    problems: { file: string; line?: number; message: string }[];
  };
}

function syncedTo(id: string, head: string) {
  return eventually(() => repository(id), (repo) => repo.head === head && repo.status === 'ok', { interval: 100, message: `repository ${id} never synced to ${head}` });
}

function github(body: string, secret = SECRET, event = 'push') {
  return {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  };
}

async function scripts(q = ''): Promise<ScriptView[]> {
  return ((await (await stack.api(`/api/v1/scripts${q}`)).json()) as { scripts: ScriptView[] }).scripts;
}

let first: string;

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
  dir = await mkdtemp(join(tmpdir(), 'drydock-git-'));
  bare = join(dir, 'scripts.git');
  work = join(dir, 'work');
  await run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  await run('git', ['clone', '-q', bare, work]);
  await git('checkout', '-q', '-b', 'main');
  first = await put(
    {
      'manifests/hello.yaml': manifest('hello', 'parameters:\n  - name: who\n    type: string\n    default: world\n'),
      'scripts/hello.sh': '#!/bin/sh\necho "hello $DRYDOCK_PARAM_WHO from v1"\n',
      'manifests/keep.yaml': manifest('keep'),
      'scripts/keep.sh': '#!/bin/sh\necho keep v1\n',
    },
    'Add hello and keep',
  );
  const res = await stack.api('/api/v1/repositories', {
    method: 'POST',
    json: { id: 'team-scripts', name: 'Team scripts', url: `file://${bare}`, branch: 'main', provider: 'github', webhookSecret: SECRET, syncIntervalSeconds: 3600 },
  });
  expect(res.status).toBe(201);
  await syncedTo('team-scripts', first);
});

afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a git repository as the catalog', () => {
  test('lists what the repository holds, each script at the commit that last changed it', async () => {
    const hello = (await scripts()).find((s) => s.id === 'hello');
    expect(hello).toMatchObject({ kind: 'script', version: first, repository: { id: 'team-scripts', name: 'Team scripts' }, file: 'manifests/hello.yaml', runnable: true });
    const versions = (await (await stack.api('/api/v1/scripts/hello/versions')).json()) as { versions: { version: string; author: string; message: string; changes: string[] }[] };
    expect(versions.versions).toEqual([expect.objectContaining({ version: first, author: 'Ada Ops <ada@example.com>', message: 'Add hello and keep', changes: ['first version'] })]);
  });

  test('a signed push webhook resyncs; the new version says what changed, and the old one still runs', async () => {
    const second = await put(
      {
        'manifests/hello.yaml': manifest('hello', 'parameters:\n  - name: who\n    type: string\n    default: drydock\n').replace('timeout: 30', 'timeout: 45'),
        'scripts/hello.sh': '#!/bin/sh\necho "hello $DRYDOCK_PARAM_WHO from v2"\n',
      },
      'Greet drydock by default',
    );
    const body = JSON.stringify({ ref: 'refs/heads/main', after: second });
    const res = await stack.api('/api/v1/webhooks/team-scripts', { method: 'POST', body, headers: github(body) });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ sync: 'requested' });
    await syncedTo('team-scripts', second);

    const { versions } = (await (await stack.api('/api/v1/scripts/hello/versions')).json()) as { versions: { version: string; changes: string[]; current: boolean }[] };
    expect(versions.map((v) => v.version)).toEqual([second, first]);
    expect(versions[0]!.current).toBe(true);
    expect(versions[0]!.changes).toEqual(['timeout: 30 → 45', 'parameter who: default "world" → "drydock"', 'script changed']);
    expect((await scripts()).find((s) => s.id === 'keep')?.version).toBe(first);

    const now = await stack.startRun('hello');
    expect(now.scriptVersion).toBe(second);
    const old = await (await stack.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'hello', hostId: 'local', version: first.slice(0, 10), params: {} } })).json() as RunView;
    expect(old.scriptVersion).toBe(first);
    await stack.waitForRun(now.id);
    expect((await stack.waitForRun(old.id)).status).toBe('succeeded');
    expect((await stack.lines(now.id)).map((l) => l.line)).toContain('hello drydock from v2');
    expect((await stack.lines(old.id)).map((l) => l.line)).toContain('hello world from v1');
  });

  test('a bad signature gets 401 and changes nothing; other branches and pings are ignored', async () => {
    const syncsBefore = (await repository('team-scripts')).syncs.length;
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    expect((await stack.api('/api/v1/webhooks/team-scripts', { method: 'POST', body, headers: github(body, 'wrong-secret') })).status).toBe(401);
    expect((await stack.api('/api/v1/webhooks/team-scripts', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'push' } })).status).toBe(401);
    expect((await stack.api('/api/v1/webhooks/no-such-repo', { method: 'POST', body, headers: github(body) })).status).toBe(401);
    const other = JSON.stringify({ ref: 'refs/heads/feature' });
    expect(await (await stack.api('/api/v1/webhooks/team-scripts', { method: 'POST', body: other, headers: github(other) })).json()).toMatchObject({ sync: 'ignored' });
    const ping = JSON.stringify({ zen: 'hi' });
    expect(await (await stack.api('/api/v1/webhooks/team-scripts', { method: 'POST', body: ping, headers: github(ping, SECRET, 'ping') })).json()).toMatchObject({ sync: 'ignored' });
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await repository('team-scripts')).syncs.length).toBe(syncsBefore);
  });

  test('a burst of pushes gives one sync', async () => {
    const syncsBefore = (await repository('team-scripts')).syncs.length;
    const head = await put({ 'scripts/keep.sh': '#!/bin/sh\necho keep v2\n' }, 'Keep v2');
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const answers = await Promise.all(Array.from({ length: 5 }, () => stack.api('/api/v1/webhooks/team-scripts', { method: 'POST', body, headers: github(body) })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    const repo = await syncedTo('team-scripts', head);
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await repository('team-scripts')).syncs.length).toBe(syncsBefore + 1);
    expect(repo.syncs[0]!.reason).toBe('github push to main');
  });

  test('GitLab and Bitbucket pushes verify with their own schemes', async () => {
    await stack.api('/api/v1/repositories/team-scripts', { method: 'PATCH', json: { provider: 'generic' } });
    const gitlabBody = JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main' });
    const gitlab = await stack.api('/api/v1/webhooks/team-scripts', {
      method: 'POST',
      body: gitlabBody,
      headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET },
    });
    expect(await gitlab.json()).toMatchObject({ sync: 'requested' });
    const wrongToken = await stack.api('/api/v1/webhooks/team-scripts', {
      method: 'POST',
      body: gitlabBody,
      headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' },
    });
    expect(wrongToken.status).toBe(401);
    const bitbucketBody = JSON.stringify({ push: { changes: [{ new: { type: 'branch', name: 'main' } }] } });
    const bitbucket = await stack.api('/api/v1/webhooks/team-scripts', {
      method: 'POST',
      body: bitbucketBody,
      headers: {
        'content-type': 'application/json',
        'x-event-key': 'repo:push',
        'x-hub-signature': `sha256=${createHmac('sha256', SECRET).update(bitbucketBody).digest('hex')}`,
      },
    });
    expect(await bitbucket.json()).toMatchObject({ sync: 'requested' });
  });

  test('bad manifests are reported with file and line, never hide the good ones, and a broken script keeps its last good version', async () => {
    const head = await put(
      {
        'manifests/broken-yaml.yaml': 'id: broken\nname: [unclosed\n',
        'manifests/unknown-field.yaml': manifest('unknown-field', 'colour: blue\n'),
        'manifests/missing-script.yaml': manifest('missing-script'),
        'manifests/zz-dup.yaml': manifest('keep'),
        'manifests/bad-pattern.yaml': manifest('bad-pattern', "parameters:\n  - name: x\n    type: string\n    pattern: '([a-z'\n"),
        'manifests/traversal.yaml': manifest('traversal', '', '../../etc/passwd'),
        'manifests/hello.yaml': 'id: hello\nname: hello script\nscript: scripts/hello.sh\n',
        'manifests/fresh.yaml': manifest('fresh'),
        'scripts/fresh.sh': '#!/bin/sh\necho fresh\n',
      },
      'A mixed bag',
    );
    const repo = await syncedTo('team-scripts', head);
    const byFile = (f: string) => repo.problems.filter((p) => p.file === f).map((p) => `${p.line ?? '-'} ${p.message}`);
    expect(byFile('manifests/broken-yaml.yaml')[0]).toMatch(/^[23] invalid YAML/);
    expect(byFile('manifests/unknown-field.yaml')).toEqual([expect.stringMatching(/^8 .*Unrecognized key: "colour"/)]);
    expect(byFile('manifests/missing-script.yaml')).toEqual(['- script: file scripts/missing-script.sh not found in the repository']);
    expect(byFile('manifests/zz-dup.yaml')).toEqual(['- duplicate id "keep" (first defined in manifests/keep.yaml); rename one of them']);
    expect(byFile('manifests/bad-pattern.yaml')).toEqual(['11 parameters.0.pattern: pattern is not a regular expression Drydock can check: missing closing ]: `[a-z`']);
    expect(byFile('manifests/traversal.yaml')).toEqual([expect.stringContaining('script: script must be a path inside the repository')]);
    expect(byFile('manifests/hello.yaml')).toEqual([expect.stringContaining('interpreter is required with script')]);

    const listed = await scripts();
    expect(listed.map((s) => s.id)).toEqual(expect.arrayContaining(['hello', 'keep', 'fresh']));
    const hello = listed.find((s) => s.id === 'hello')!;
    expect(hello.version).not.toBe(head);
    const runOfBroken = await stack.startRun('hello');
    expect((await stack.waitForRun(runOfBroken.id)).status).toBe('succeeded');

    const listing = (await (await stack.api('/api/v1/scripts')).json()) as { problems: { repository: { id: string } }[] };
    expect(listing.problems.filter((p) => p.repository.id === 'team-scripts')).toHaveLength(repo.problems.length);
  });

  test('an unreachable repository fails the sync with the reason and keeps the catalog', async () => {
    const before = (await scripts()).map((s) => `${s.id}@${s.version}`).sort();
    await stack.api('/api/v1/repositories/team-scripts', { method: 'PATCH', json: { url: `file://${dir}/does-not-exist.git` } });
    const failed = await eventually(() => repository('team-scripts'), (repo) => repo.status === 'failed', { interval: 100 });
    expect(failed.lastSyncError).toMatch(/does-not-exist\.git/);
    expect((await repository('team-scripts')).status).toBe('failed');
    expect((await scripts()).map((s) => `${s.id}@${s.version}`).sort()).toEqual(before);
    await stack.api('/api/v1/repositories/team-scripts', { method: 'PATCH', json: { url: `file://${bare}` } });

    // A wrong sub-directory is a misconfiguration, not an empty catalog.
    await stack.api('/api/v1/repositories/team-scripts', { method: 'PATCH', json: { path: 'not-here' } });
    await expect.poll(async () => (await repository('team-scripts')).lastSyncError, { timeout: 30_000, interval: 100 }).toContain('not-here');
    expect((await repository('team-scripts')).lastSyncError).toMatch(/^no manifests in not-here\/manifests\/ at commit [0-9a-f]{12}; check the repository's path and branch$/);
    expect((await scripts()).map((s) => `${s.id}@${s.version}`).sort()).toEqual(before);
    const restored = await stack.api('/api/v1/repositories/team-scripts', { method: 'PATCH', json: { path: '' } });
    expect(await restored.json()).toMatchObject({ path: '', branch: 'main', provider: 'generic', syncIntervalSeconds: 3600 });
  });

  test('a repository served by git daemon syncs over git:// like any remote', async () => {
    const port = await freePort();
    const daemon = spawn('git', ['daemon', '--reuseaddr', `--base-path=${dir}`, '--export-all', `--port=${port}`, '--listen=127.0.0.1', dir], { stdio: 'ignore' });
    try {
      const accepts = () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.end();
            resolve(true);
          }).on('error', () => resolve(false));
        });
      await expect.poll(accepts, { timeout: 10_000, interval: 100, message: 'git daemon listens' }).toBe(true);
      const res = await stack.api('/api/v1/repositories', {
        method: 'POST',
        json: { id: 'daemon-scripts', name: 'Over git daemon', url: `git://127.0.0.1:${port}/scripts.git`, branch: 'main', syncIntervalSeconds: 3600 },
      });
      expect(res.status).toBe(201);
      const head = await git('rev-parse', 'HEAD');
      const repo = await syncedTo('daemon-scripts', head);
      // Every id it holds already belongs to team-scripts: reported, not taken over.
      expect(repo.problems).toContainEqual({ file: 'manifests/fresh.yaml', message: 'id "fresh" is already defined in repository Team scripts; rename one of them' });
      expect((await scripts()).find((s) => s.id === 'fresh')?.repository?.id).toBe('team-scripts');
      expect((await stack.api('/api/v1/repositories/daemon-scripts', { method: 'DELETE' })).status).toBe(204);
    } finally {
      daemon.kill('SIGTERM');
    }
  });

  test('bad repository input is refused field by field', async () => {
    const res = await stack.api('/api/v1/repositories', { method: 'POST', json: { id: 'Bad Id', name: '', url: 'not a url', syncIntervalSeconds: 5 } });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { fields: Record<string, string[]> } };
    expect(Object.keys(error.fields).sort()).toEqual(['id', 'name', 'syncIntervalSeconds', 'url']);
    const dup = await stack.api('/api/v1/repositories', { method: 'POST', json: { id: 'team-scripts', name: 'x', url: `file://${bare}` } });
    expect(dup.status).toBe(409);
  });

  test('credentials are stored sealed and never come back out', async () => {
    const token = `ghp_${randomBytes(12).toString('hex')}`;
    const res = await stack.api('/api/v1/credentials', { method: 'POST', json: { name: 'github-bot', kind: 'https_token', username: 'bot', secret: token } });
    expect(res.status).toBe(201);
    const listed = await (await stack.api('/api/v1/credentials')).text();
    expect(listed).toContain('github-bot');
    expect(listed).not.toContain(token);
    const [row] = await sql`select secret_enc from credentials where name = 'github-bot'`;
    expect(row!.secret_enc).toMatch(/^v1:m1:/);
    expect(row!.secret_enc).not.toContain(token);
    const audit = await sql`select coalesce(detail::text, '') as d from audit_log where action = 'credential.create'`;
    expect(audit.map((a) => a.d).join()).not.toContain(token);
  });
});

describe('action templates', () => {
  const action = {
    id: 'list-dir',
    name: 'List a directory',
    description: 'ls of one path',
    category: 'diagnostics',
    tags: ['linux'],
    command_template: 'ls -1 {{path}}',
    timeout: 20,
    success_criteria: { output_not_contains: ['No such file'] },
    parameters: [{ name: 'path', type: 'string', required: true, pattern: '^/' }],
  };

  test('are created, validated, listed in the catalog and run as argv without a shell', async () => {
    const created = await stack.api('/api/v1/actions', { method: 'POST', json: action });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ kind: 'action', id: 'list-dir', revision: 1, commandTemplate: 'ls -1 {{path}}', runnable: true });
    expect(await (await stack.api('/api/v1/actions/list-dir/validate')).json()).toEqual({ valid: true, problems: [] });
    expect((await scripts('?q=list')).map((s) => `${s.kind}:${s.id}`)).toEqual(['action:list-dir']);

    const dir = await mkdtemp(join(tmpdir(), 'drydock-action-'));
    await writeFile(join(dir, 'a file; with $(odd) name'), '');
    const res = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'list-dir', hostId: 'local', params: { path: dir } } });
    expect(res.status).toBe(201);
    const started = (await res.json()) as RunView;
    expect(started.source).toBe('action');
    expect((await stack.waitForRun(started.id)).status).toBe('succeeded');
    expect((await stack.lines(started.id)).map((l) => l.line)).toContain('a file; with $(odd) name');

    // ls exits 0, but its output holds what the success criteria forbid.
    await writeFile(join(dir, 'No such file, really'), '');
    const judged = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'list-dir', hostId: 'local', params: { path: dir } } });
    const failed = await stack.waitForRun(((await judged.json()) as RunView).id);
    expect(failed).toMatchObject({ status: 'failed', exitCode: 0 });
    expect(failed.error).toBe('exited with code 0, but the success criteria were not met: output contained "No such file"');
    await rm(dir, { recursive: true, force: true });

    const usage = (await scripts('?q=list'))[0]!.usageCount;
    expect(usage).toBe(2);
  });

  test('an invalid template is refused with what to fix, and updates bump the revision', async () => {
    const bad = await stack.api('/api/v1/actions', {
      method: 'POST',
      json: { ...action, id: 'bad-one', command_template: '{{path}} --now', parameters: [{ name: 'path', type: 'secret' }, { name: 'Bad', type: 'string' }] },
    });
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as { error: { fields: Record<string, string[]> } };
    expect(error.fields['parameters.1.name']).toEqual(['parameter names are lower_snake_case, starting with a letter']);
    const put = await stack.api('/api/v1/actions/list-dir', { method: 'PUT', json: { ...action, timeout: 25 } });
    expect(await put.json()).toMatchObject({ revision: 2, timeout: 25 });
    expect((await stack.api('/api/v1/actions/list-dir', { method: 'DELETE' })).status).toBe(204);
    expect((await stack.api('/api/v1/actions/list-dir')).status).toBe(404);
  });

  test('host tags choose hosts: the host list filters by them, and a run on a host without them is refused', async () => {
    const reg = await stack.api('/api/v1/agents/register', { method: 'POST', json: { registrationSecret: REGISTRATION_SECRET, hostName: 'db-1', tags: ['linux', 'db'] } });
    expect(reg.status).toBe(201);
    const tagged = (await (await stack.api('/api/v1/hosts?tags=db')).json()) as { hosts: { id: string; tags: string[] }[] };
    expect(tagged.hosts).toEqual([expect.objectContaining({ id: 'db-1', tags: ['linux', 'db'] })]);
    await stack.api('/api/v1/actions', { method: 'POST', json: { ...action, id: 'db-only', host_tags: ['db'], parameters: [{ name: 'peer', type: 'host' }], command_template: 'echo {{peer}}' } });
    const refused = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'db-only', hostId: 'local', params: { peer: 'local' } } });
    expect(refused.status).toBe(400);
    const { error } = (await refused.json()) as { error: { fields: Record<string, string[]> } };
    expect(error.fields.hostId).toEqual(['host local lacks the tags this action needs: db']);
    const badPeer = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId: 'db-only', hostId: 'db-1', params: { peer: 'nowhere' } } });
    expect(((await badPeer.json()) as { error: { fields: Record<string, string[]> } }).error.fields.peer).toEqual(['peer: nowhere is not a registered host']);
  });

  test('the manifest format is published as JSON Schema', async () => {
    const schema = (await (await stack.api('/api/v1/schemas/manifest.json')).json()) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['id', 'script', 'command_template', 'parameters', 'success_criteria', 'runner', 'host_tags']));
  });
});
