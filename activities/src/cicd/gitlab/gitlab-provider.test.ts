import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCESS, startGitlabDouble, type GitlabDouble } from '../../../../tests/support/cicd-doubles/gitlab-double.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../tests/support/cicd-doubles/webhook-receiver.ts';
import { cicdFailure, expectEachLineOnce, expectOutageSurvived } from '../../../../tests/support/cicd-doubles/adapter-scenarios.ts';
import { CicdRateLimitedError } from '../cicd-error.ts';
import type { CicdProvider, GitlabJobRef } from '../provider.ts';
import { createGitlabProvider, prefilledVariables } from './gitlab-provider.ts';

const CI = `spec:
  inputs:
    unused: { default: x }
---
variables:
  DEPLOY_ENV:
    value: staging
    options: [staging, production]
    description: Where to deploy
  VERSION:
    value: ""
    description: The version to deploy
  GLOBAL_FLAG: "1"
stages: [build, test, deploy]
build: { stage: build, script: [make] }
`;
const JOBS = [
  { name: 'compile', lines: ['$ make', 'compiled 42 files'] },
  { name: 'unit', lines: ['$ make test', '120 tests passed'] },
  { name: 'release', lines: ['$ ./deploy.sh', 'deployed'] },
];
const JOB: GitlabJobRef = { provider: 'gitlab', project: 'platform/api', ref: 'main' };

let gl: GitlabDouble;
let hooks: WebhookReceiver;
let token: string;
let provider: CicdProvider;

const connect = (t: string, url = gl.url) => createGitlabProvider({ token: t, url });

beforeAll(async () => {
  gl = await startGitlabDouble();
  hooks = await startWebhookReceiver();
  token = gl.addToken('deployer', ['api']);
  gl.addProject('platform/api', { ciYaml: CI, members: { deployer: ACCESS.developer, watcher: ACCESS.reporter, reader: ACCESS.developer }, script: JOBS });
  provider = connect(token);
});
afterAll(async () => {
  await gl?.close();
  await hooks?.close();
});
beforeEach(() => {
  gl.setScript('platform/api', JOBS);
  gl.refuseVariables('platform/api', false);
});

describe('test connection', () => {
  it('reports what works with a good token', async () => {
    const report = await provider.testConnection(JOB);
    expect(report).toMatchObject({ ok: true, missing: [] });
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['token', true],
      ['token scopes', true],
      ['project platform/api', true],
      ['.gitlab-ci.yml at main', true],
    ]);
    expect(report.checks[2]!.detail).toBe('platform/api: Developer');
  });

  it('says the token is bad', async () => {
    const report = await connect('glpat-wrong').testConnection(JOB);
    expect(report.ok).toBe(false);
    expect(report.checks[0]!.detail).toMatch(/GitLab refused the token \(HTTP 401: 401 Unauthorized\)/);
    expect(JSON.stringify(report)).not.toContain('glpat-wrong');
  });

  it('names the scope and the role a token lacks', async () => {
    const readApi = gl.addToken('reader', ['read_api']);
    const report = await connect(readApi).testConnection(JOB);
    expect(report.missing).toEqual(['api']);
    const refused = await cicdFailure(connect(readApi).trigger(JOB, {}, 'trg-read-api'));
    expect(refused).toMatchObject({ reason: 'permission_denied', missing: ['api'] });
    expect(refused.message).toContain('the token lacks the api scope');

    const reporter = gl.addToken('watcher', ['api']);
    expect((await connect(reporter).testConnection(JOB)).missing).toEqual(['Developer role']);
  });

  it('tells a wrong URL from an unreachable one', async () => {
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>portal</html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    expect((await connect(token, url).testConnection()).checks[0]!.detail).toMatch(/did not answer as GitLab's API/);
    await new Promise((resolve) => other.close(resolve));
    expect(await cicdFailure(connect(token, url).describeJob(JOB))).toMatchObject({ reason: 'unreachable', retryable: true });
  });
});

describe('projects', () => {
  it("describes a project's pipeline with its prefilled variables", async () => {
    const job = await provider.describeJob(JOB);
    expect(job).toMatchObject({ name: 'platform/api @ main', buildable: true, idempotent: true });
    expect(job.parameters).toEqual([
      { name: 'DEPLOY_ENV', type: 'choice', description: 'Where to deploy', default: 'staging', choices: ['staging', 'production'] },
      { name: 'VERSION', type: 'string', description: 'The version to deploy', default: '' },
    ]);
    expect(() => prefilledVariables('variables: [unclosed')).toThrow(/not valid YAML/);
  });

  it('says a project is not found', async () => {
    expect(await cicdFailure(provider.describeJob({ ...JOB, project: 'platform/nope' }))).toMatchObject({ reason: 'not_found' });
  });

  it('refuses a variable the pipeline does not define before any request', async () => {
    const definition = await provider.describeJob(JOB);
    const before = gl.server.requests.length;
    const err = await cicdFailure(provider.trigger(JOB, { VERSION: '1.0', GLOBAL_FLAG: '0' }, 'trg-undefined', { definition }));
    expect(err).toMatchObject({ reason: 'undefined_parameter', parameters: ['GLOBAL_FLAG'] });
    expect(gl.server.requests.length).toBe(before);
    expect(await cicdFailure(provider.trigger(JOB, { DEPLOY_ENV: 'moon' }, 'trg-choice'))).toMatchObject({ reason: 'invalid_parameter' });
    expect(gl.server.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
  });

  it('says when the project refuses pipeline variables, and that an unknown ref is not found', async () => {
    gl.refuseVariables('platform/api', true);
    const refused = await cicdFailure(provider.trigger(JOB, { VERSION: '1.0' }, 'trg-vars'));
    expect(refused).toMatchObject({ reason: 'permission_denied', missing: ['pipeline variables'] });
    gl.refuseVariables('platform/api', false);
    expect(await cicdFailure(provider.trigger({ ...JOB, ref: 'nope' }, {}, 'trg-ref'))).toMatchObject({ reason: 'not_found' });
  });
});

describe('a pipeline', () => {
  it('goes queued → running → success, jobs as they progress, artifacts linked', async () => {
    const handle = await provider.trigger(JOB, { VERSION: '1.4.2', DEPLOY_ENV: 'production' }, 'trg-success');
    expect(gl.pipelines('platform/api').find((p) => p.id === handle.runId)!.variables).toEqual({ VERSION: '1.4.2', DEPLOY_ENV: 'production', DRYDOCK_TRIGGER_ID: 'trg-success' });
    expect((await provider.status(handle)).state).toBe('queued');
    const run = gl.pipeline(handle.runId!);
    run.advanceUntil((r) => r.stages[1]!.state === 'running');
    const midway = await provider.status(handle);
    expect(midway.state).toBe('running');
    expect(midway.stages.map((s) => [s.name, s.state])).toEqual([
      ['build/compile', 'succeeded'],
      ['test/unit', 'running'],
      ['deploy/release', 'queued'],
    ]);
    run.finish();
    const done = await provider.status(handle);
    expect(done).toMatchObject({ state: 'succeeded', providerState: 'success' });
    expect(done.artifacts).toEqual([{ name: 'compile: artifacts.zip', url: expect.stringMatching(/\/api\/v4\/projects\/platform%2Fapi\/jobs\/\d+\/artifacts$/), sizeBytes: 2048 }]);
  });

  it('goes queued → running → failure, the rest skipped', async () => {
    gl.setScript('platform/api', [JOBS[0]!, { name: 'unit', lines: ['3 tests failed'], result: 'failure' }, JOBS[2]!]);
    const handle = await provider.trigger(JOB, { VERSION: '1.4.3' }, 'trg-failure');
    gl.pipeline(handle.runId!).finish();
    const done = await provider.status(handle);
    expect(done).toMatchObject({ state: 'failed', providerState: 'failed' });
    expect(done.stages.map((s) => s.state)).toEqual(['succeeded', 'failed', 'skipped']);
  });

  it('streams job traces with a cursor: every line once, none lost, while jobs run', async () => {
    const handle = await provider.trigger(JOB, { VERSION: '1.5.0' }, 'trg-logs');
    const run = gl.pipeline(handle.runId!);
    let cursor: string | undefined;
    let text = '';
    let complete = false;
    let partial = false;
    for (let i = 0; !complete; i++) {
      const chunk = await provider.logs(handle, cursor);
      text += chunk.text;
      if (chunk.text !== '' && !chunk.complete && /:\d+(,|$)/.test(chunk.cursor)) partial = true;
      cursor = chunk.cursor;
      complete = chunk.complete;
      run.advance(1);
      if (i > 60) throw new Error('the log never completed');
    }
    expect(partial).toBe(true);
    expectEachLineOnce(text, JOBS.flatMap((j) => j.lines));
    expect(text.split('\n').filter((l) => l.startsWith('##[drydock] job '))).toEqual(['##[drydock] job build/compile', '##[drydock] job test/unit', '##[drydock] job deploy/release']);
    expect(await provider.logs(handle, cursor)).toEqual({ text: '', cursor, complete: true });
  });

  it('cancels a pipeline and GitLab sees it', async () => {
    const handle = await provider.trigger(JOB, { VERSION: '2.0.0' }, 'trg-cancel');
    gl.pipeline(handle.runId!).advance(3);
    await provider.cancel(handle);
    expect(gl.cancels).toContain(handle.runId);
    expect(await provider.status(handle)).toMatchObject({ state: 'cancelled', providerState: 'canceled' });
  });
});

describe('idempotency', () => {
  it('finds the pipeline a crashed trigger created instead of creating another', async () => {
    const first = await provider.trigger(JOB, { VERSION: '3.0.0' }, 'trg-crash');
    const again = await provider.trigger(JOB, { VERSION: '3.0.0' }, 'trg-crash', { requestedAt: new Date(first.requestedAt) });
    expect(again.runId).toBe(first.runId);
    expect(gl.pipelines('platform/api').filter((p) => p.variables['DRYDOCK_TRIGGER_ID'] === 'trg-crash')).toHaveLength(1);
    // A handle that lost its pipeline id is found again by its trigger id.
    const bare = { provider: first.provider, job: first.job, triggerId: first.triggerId, requestedAt: first.requestedAt };
    expect((await provider.status(bare)).handle.runId).toBe(first.runId);
  });
});

describe('failures the workflow waits out', () => {
  it('surfaces a rate limit as RateLimited with the wait', async () => {
    gl.server.rateLimit({ status: 429, headers: { 'content-type': 'text/plain', 'retry-after': '42', 'ratelimit-remaining': '0' }, body: 'Retry later' });
    const err = await cicdFailure(provider.describeJob(JOB));
    expect(err).toBeInstanceOf(CicdRateLimitedError);
    expect((err as CicdRateLimitedError).retryAfterMs).toBe(42_000);
    // One 429, one request: gitbeaker's own retries are not in the way.
    expect(gl.server.requests.filter((r) => r.status === 429)).toHaveLength(1);
  });

  it('keeps its place when GitLab goes down mid-pipeline and comes back', async () => {
    const handle = await provider.trigger(JOB, { VERSION: '6.0.0' }, 'trg-down');
    await expectOutageSurvived({ provider, handle, server: gl.server, run: gl.pipeline(handle.runId!), lines: JOBS.flatMap((j) => j.lines) });
  });
});

describe('webhooks', () => {
  it('accepts deliveries with the secret token and refuses forged or unsigned ones', async () => {
    gl.hookTo(hooks.url, 'gl-hook-secret');
    const start = hooks.deliveries.length;
    const handle = await provider.trigger(JOB, { VERSION: '7.0.0' }, 'trg-hook');
    gl.pipeline(handle.runId!).finish();
    await hooks.waitFor(start + 3 + 2 * JOBS.length);
    const mine = hooks.deliveries.slice(start);
    const events = mine.map((d) => provider.verifyWebhook(d.headers, d.body, 'gl-hook-secret')).flatMap((v) => (v.ok ? [v.event] : []));
    expect(events).toHaveLength(mine.length);
    const builds = events.filter((e) => e.kind === 'build');
    expect(builds.map((e) => e.state)).toEqual(['queued', 'running', 'succeeded']);
    expect(builds.every((e) => e.buildId === handle.buildId && e.triggerId === 'trg-hook')).toBe(true);
    expect(events.filter((e) => e.kind === 'stage').map((e) => `${e.stage}:${e.state}`)).toEqual(['build/compile:running', 'build/compile:succeeded', 'test/unit:running', 'test/unit:succeeded', 'deploy/release:running', 'deploy/release:succeeded']);

    const good = mine[0]!;
    expect(provider.verifyWebhook({ ...good.headers, 'x-gitlab-token': 'guess' }, good.body, 'gl-hook-secret')).toMatchObject({ ok: false, reason: 'forged' });
    const unsigned = Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== 'x-gitlab-token'));
    expect(provider.verifyWebhook(unsigned, good.body, 'gl-hook-secret')).toMatchObject({ ok: false, reason: 'unsigned' });
  });
});
