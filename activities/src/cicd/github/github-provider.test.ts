import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGithubDouble, type GithubDouble } from '../../../../tests/support/cicd-doubles/github-double.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../tests/support/cicd-doubles/webhook-receiver.ts';
import { cicdFailure, expectEachLineOnce, expectOutageSurvived, readLogsToEnd } from '../../../../tests/support/cicd-doubles/adapter-scenarios.ts';
import { CicdRateLimitedError } from '../cicd-error.ts';
import type { CicdProvider, GithubJobRef } from '../provider.ts';
import { createGithubProvider } from './github-provider.ts';

const DEPLOY = `name: Deploy
run-name: Deploy \${{ inputs.version }} to \${{ inputs.environment }} [\${{ inputs.drydock_trigger_id }}]
on:
  workflow_dispatch:
    inputs:
      version:
        description: Version to deploy
        required: true
        type: string
      environment:
        type: choice
        options: [staging, production]
        default: staging
      dry_run:
        type: boolean
        default: false
      drydock_trigger_id:
        description: Set by Drydock
        type: string
        default: ''
jobs:
  build: { runs-on: ubuntu-latest, steps: [{ run: make }] }
`;
const LEGACY = `name: Legacy deploy
on:
  workflow_dispatch:
    inputs:
      version: { type: string }
jobs:
  build: { runs-on: ubuntu-latest, steps: [{ run: make }] }
`;
const PUSH_ONLY = `name: CI
on: [push]
jobs:
  test: { runs-on: ubuntu-latest, steps: [{ run: make test }] }
`;
const JOBS = [
  { name: 'build', lines: ['npm ci', 'npm run build'] },
  { name: 'test', lines: ['npm test', '42 passing'] },
  { name: 'deploy', lines: ['deploying 1.4.2 to staging', 'done'] },
];
const JOB: GithubJobRef = { provider: 'github', owner: 'acme', repo: 'api', workflow: 'deploy.yml', ref: 'main' };
const LEGACY_JOB: GithubJobRef = { ...JOB, workflow: 'legacy.yml' };

let gh: GithubDouble;
let hooks: WebhookReceiver;
let token: string;
let provider: CicdProvider;

function connect(t: string, apiUrl = gh.url) {
  return createGithubProvider({ token: t, apiUrl }, { findRunIntervalMs: 25, findRunTimeoutMs: 3_000 });
}

beforeAll(async () => {
  gh = await startGithubDouble();
  hooks = await startWebhookReceiver();
  gh.addRepo('acme', 'api', { private: true, branches: { main: 'c0ffee'.padEnd(40, '0') }, pushers: ['deployer'] });
  gh.addWorkflow('acme', 'api', 'deploy.yml', DEPLOY, JOBS);
  gh.addWorkflow('acme', 'api', 'legacy.yml', LEGACY, JOBS);
  gh.addWorkflow('acme', 'api', 'ci.yml', PUSH_ONLY, JOBS);
  token = gh.addToken({ login: 'deployer', kind: 'fine-grained', permissions: { actions: 'write', contents: 'read', metadata: 'read' } });
  provider = connect(token);
});
afterAll(async () => {
  await gh?.close();
  await hooks?.close();
});
beforeEach(() => {
  gh.flavour = 'dotcom';
  gh.dispatchLagMs = 0;
  gh.setScript('acme', 'api', 'deploy.yml', JOBS);
});

describe('test connection', () => {
  it('reports what works with a good token', async () => {
    const report = await provider.testConnection(JOB);
    expect(report).toMatchObject({ ok: true, missing: [] });
    expect(report.checks.map((c) => c.name)).toEqual(['token', 'repository acme/api', 'workflow deploy.yml of acme/api', 'dispatch and cancel runs (actions:write)']);
    expect(report.checks[0]!.detail).toBe('signed in as deployer');
  });

  it('says the token is bad', async () => {
    const report = await connect('ghp_wrong').testConnection(JOB);
    expect(report.ok).toBe(false);
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]!.detail).toMatch(/GitHub refused the token \(HTTP 401: Bad credentials\)/);
    expect(JSON.stringify(report)).not.toContain('ghp_wrong');
  });

  it('names the permission a token lacks: actions:write', async () => {
    const reader = gh.addToken({ login: 'deployer', kind: 'fine-grained', permissions: { actions: 'read', contents: 'read', metadata: 'read' } });
    const report = await connect(reader).testConnection(JOB);
    expect(report.ok).toBe(false);
    expect(report.missing).toEqual(['actions:write']);
    expect(report.checks.at(-1)!.detail).toContain('the token lacks actions:write');
    const refused = await cicdFailure(connect(reader).trigger(JOB, { version: '1.0' }, 'trg-reader'));
    expect(refused).toMatchObject({ reason: 'permission_denied', missing: ['actions:write'] });
  });

  it('names the classic scope a token lacks to see a private repository', async () => {
    const classic = gh.addToken({ login: 'deployer', kind: 'classic', scopes: ['read:user'] });
    const report = await connect(classic).testConnection(JOB);
    expect(report.checks[0]!.detail).toContain('classic token; scopes: read:user');
    expect(report.missing).toContain('repo');
    const full = gh.addToken({ login: 'deployer', kind: 'classic', scopes: ['repo', 'workflow'] });
    expect((await connect(full).testConnection(JOB)).ok).toBe(true);
  });

  it('says when the user may read but not write the repository', async () => {
    const outsider = gh.addToken({ login: 'visitor', kind: 'fine-grained', permissions: { actions: 'write', contents: 'read', metadata: 'read' } });
    const report = await connect(outsider).testConnection(JOB);
    expect(report.missing).toContain('write access to acme/api');
  });

  it('tells a wrong URL from an unreachable one', async () => {
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>wiki</html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const wrong = await connect(token, url).testConnection();
    expect(wrong.checks[0]!.detail).toMatch(/did not answer as GitHub's API: is it the API URL/);
    await new Promise((resolve) => other.close(resolve));
    const gone = await cicdFailure(connect(token, url).describeJob(JOB));
    expect(gone).toMatchObject({ reason: 'unreachable', retryable: true });
  });
});

describe('workflows', () => {
  it('describes a workflow with the inputs its file declares', async () => {
    const job = await provider.describeJob(JOB);
    expect(job).toMatchObject({ name: 'Deploy', buildable: true, idempotent: true });
    expect(job.parameters).toEqual([
      { name: 'version', type: 'string', description: 'Version to deploy', required: true },
      { name: 'environment', type: 'choice', default: 'staging', choices: ['staging', 'production'] },
      { name: 'dry_run', type: 'boolean', default: false },
      { name: 'drydock_trigger_id', type: 'string', description: 'Set by Drydock', default: '' },
    ]);
    expect((await provider.describeJob(LEGACY_JOB)).idempotent).toBe(false);
  });

  it('says a workflow is not found, and that one without workflow_dispatch cannot be run', async () => {
    expect((await cicdFailure(provider.describeJob({ ...JOB, workflow: 'nope.yml' }))).reason).toBe('not_found');
    expect((await provider.describeJob({ ...JOB, workflow: 'ci.yml' })).buildable).toBe(false);
    expect((await cicdFailure(provider.trigger({ ...JOB, workflow: 'ci.yml' }, {}, 'trg-ci'))).reason).toBe('not_buildable');
  });

  it('refuses an input the workflow does not define before any request', async () => {
    const definition = await provider.describeJob(JOB);
    const before = gh.server.requests.length;
    const err = await cicdFailure(provider.trigger(JOB, { version: '1.0', region: 'eu' }, 'trg-undefined', { definition }));
    expect(err).toMatchObject({ reason: 'undefined_parameter', parameters: ['region'] });
    expect(gh.server.requests.length).toBe(before);
    const missing = await cicdFailure(provider.trigger(JOB, { environment: 'staging' }, 'trg-missing'));
    expect(missing.message).toContain('version is required');
    expect(gh.server.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
  });

  it("maps GitHub's own refusal of an input it does not define, when the definition was stale", async () => {
    const stale = { ...(await provider.describeJob(LEGACY_JOB)) };
    stale.parameters = [...stale.parameters, { name: 'region', type: 'string' as const }];
    const err = await cicdFailure(provider.trigger(LEGACY_JOB, { region: 'eu' }, 'trg-stale', { definition: stale }));
    expect(err).toMatchObject({ reason: 'undefined_parameter', parameters: ['region'] });
    expect(gh.runs('acme', 'api').some((r) => r.inputs['region'] !== undefined)).toBe(false);
  });
});

describe('a run', () => {
  it('goes queued → running → success, jobs as they progress, artifacts at the end', async () => {
    const handle = await provider.trigger(JOB, { version: '1.4.2', dry_run: true }, 'trg-success');
    expect(handle.runId).toBeDefined();
    expect(gh.runs('acme', 'api').find((r) => r.id === handle.runId)!.inputs).toEqual({ version: '1.4.2', environment: 'staging', dry_run: 'true', drydock_trigger_id: 'trg-success' });
    expect((await provider.status(handle)).state).toBe('queued');
    const run = gh.run(handle.runId!);
    run.advanceUntil((r) => r.stages[1]!.state === 'running');
    const midway = await provider.status(handle);
    expect(midway.state).toBe('running');
    expect(midway.stages.map((s) => [s.name, s.state])).toEqual([
      ['build', 'succeeded'],
      ['test', 'running'],
      ['deploy', 'queued'],
    ]);
    run.finish();
    const done = await provider.status(handle);
    expect(done).toMatchObject({ state: 'succeeded', providerState: 'success' });
    expect(done.handle.number).toBeGreaterThan(0);
    expect(done.artifacts).toEqual([{ name: 'report', url: expect.stringMatching(/\/actions\/artifacts\/\d+\/zip$/), sizeBytes: 1024 }]);
  });

  it('goes queued → running → failure, the failed job named and the rest skipped', async () => {
    gh.setScript('acme', 'api', 'deploy.yml', [JOBS[0]!, { name: 'test', lines: ['1 failing'], result: 'failure' }, JOBS[2]!]);
    const handle = await provider.trigger(JOB, { version: '1.4.3' }, 'trg-failure');
    gh.run(handle.runId!).finish();
    const done = await provider.status(handle);
    expect(done).toMatchObject({ state: 'failed', providerState: 'failure' });
    expect(done.stages.map((s) => s.state)).toEqual(['succeeded', 'failed', 'skipped']);
  });

  it('streams job logs with a cursor: each job once, none lost', async () => {
    const handle = await provider.trigger(JOB, { version: '1.5.0' }, 'trg-logs');
    const run = gh.run(handle.runId!);
    const { text, cursor } = await readLogsToEnd(provider, handle, () => run.advance(2));
    expectEachLineOnce(text, JOBS.flatMap((j) => j.lines), (l, line) => l.endsWith(` ${line}`));
    expect(text.split('\n').filter((l) => l.startsWith('##[drydock] job '))).toEqual(['##[drydock] job build: success', '##[drydock] job test: success', '##[drydock] job deploy: success']);
    expect(await provider.logs(handle, cursor)).toEqual({ text: '', cursor, complete: true });
  });

  it('cancels a run and GitHub sees it', async () => {
    const handle = await provider.trigger(JOB, { version: '2.0.0' }, 'trg-cancel');
    gh.run(handle.runId!).advance(3);
    await provider.cancel(handle);
    expect(gh.cancels).toContain(handle.runId);
    expect((await provider.status(handle)).state).toBe('cancelled');
    await provider.cancel(handle);
    expect(gh.cancels.filter((id) => id === handle.runId)).toHaveLength(1);
  });
});

describe('finding the run a dispatch created', () => {
  it('after a crash, finds the run by the trigger id in its name instead of dispatching again', async () => {
    const first = await provider.trigger(JOB, { version: '3.0.0' }, 'trg-crash');
    const again = await provider.trigger(JOB, { version: '3.0.0' }, 'trg-crash', { requestedAt: new Date(first.requestedAt) });
    expect(again.runId).toBe(first.runId);
    expect(gh.runs('acme', 'api').filter((r) => r.inputs['drydock_trigger_id'] === 'trg-crash')).toHaveLength(1);
  });

  it('on GitHub Enterprise Server, where a dispatch returns no id, finds the run once it appears', async () => {
    gh.flavour = 'ghes';
    gh.dispatchLagMs = 300;
    const handle = await provider.trigger(JOB, { version: '3.1.0' }, 'trg-ghes');
    const created = gh.runs('acme', 'api').find((r) => r.inputs['drydock_trigger_id'] === 'trg-ghes')!;
    expect(handle).toMatchObject({ runId: created.id, correlation: 'trigger-id' });
    const retried = await provider.trigger(JOB, { version: '3.1.0' }, 'trg-ghes', { requestedAt: new Date(handle.requestedAt) });
    expect(retried.runId).toBe(created.id);
    expect(gh.runs('acme', 'api').filter((r) => r.inputs['drydock_trigger_id'] === 'trg-ghes')).toHaveLength(1);
  });

  it('finds the run of a workflow without the trigger id by who dispatched it, since when', async () => {
    gh.flavour = 'ghes';
    const before = new Set(gh.runs('acme', 'api').map((r) => r.id));
    const handle = await provider.trigger(LEGACY_JOB, { version: '0.9' }, 'trg-legacy');
    const created = gh.runs('acme', 'api').filter((r) => !before.has(r.id));
    expect(created).toHaveLength(1);
    expect(handle).toMatchObject({ runId: created[0]!.id, correlation: 'actor' });
  });
});

describe('failures the workflow waits out', () => {
  it("surfaces GitHub's primary rate limit as RateLimited until the reset", async () => {
    const handle = await provider.trigger(JOB, { version: '5.0.0' }, 'trg-rate');
    const reset = Math.floor(Date.now() / 1000) + 120;
    gh.server.rateLimit({ status: 403, headers: { 'content-type': 'application/json', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset), 'x-ratelimit-resource': 'core' }, body: { message: 'API rate limit exceeded for user ID 4242.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' } });
    const err = await cicdFailure(provider.status(handle));
    expect(err).toBeInstanceOf(CicdRateLimitedError);
    const limited = err as CicdRateLimitedError;
    expect(limited.resetAt!.getTime()).toBe(reset * 1000);
    expect(limited.retryAfterMs).toBeGreaterThan(100_000);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('surfaces a secondary rate limit with Retry-After', async () => {
    gh.server.rateLimit({ status: 403, headers: { 'content-type': 'application/json', 'retry-after': '30' }, body: { message: 'You have exceeded a secondary rate limit.' } });
    const err = await cicdFailure(provider.describeJob(JOB));
    expect(err).toBeInstanceOf(CicdRateLimitedError);
    expect((err as CicdRateLimitedError).retryAfterMs).toBe(30_000);
  });

  it('keeps its place when GitHub goes down mid-run and comes back', async () => {
    const handle = await provider.trigger(JOB, { version: '6.0.0' }, 'trg-down');
    await expectOutageSurvived({ provider, handle, server: gh.server, run: gh.run(handle.runId!), lines: JOBS.flatMap((j) => j.lines), shown: (l, line) => l.endsWith(` ${line}`) });
  });
});

describe('webhooks', () => {
  it('accepts deliveries signed with the secret and refuses forged or unsigned ones', async () => {
    gh.hookTo(hooks.url, 'gh-hook-secret');
    const start = hooks.deliveries.length;
    const handle = await provider.trigger(JOB, { version: '7.0.0' }, 'trg-hook');
    gh.run(handle.runId!).finish();
    await hooks.waitFor(start + 2 + 2 * JOBS.length + 1);
    const mine = hooks.deliveries.slice(start);
    const verdicts = mine.map((d) => provider.verifyWebhook(d.headers, d.body, 'gh-hook-secret'));
    expect(verdicts.every((v) => v.ok)).toBe(true);
    const events = verdicts.flatMap((v) => (v.ok ? [v.event] : []));
    const buildId = `github:acme/api/runs/${handle.runId}`;
    expect(events.filter((e) => e.kind === 'build').map((e) => [e.type, e.state, e.buildId])).toEqual([
      ['workflow_run', 'queued', buildId],
      ['workflow_run', 'running', buildId],
      ['workflow_run', 'succeeded', buildId],
    ]);
    expect(events.filter((e) => e.kind === 'stage').map((e) => `${e.stage}:${e.state}`)).toEqual(['build:running', 'build:succeeded', 'test:running', 'test:succeeded', 'deploy:running', 'deploy:succeeded']);

    const good = mine.at(-1)!;
    const tampered = Buffer.from(good.body.toString('utf8').replace('"success"', '"failure"'));
    expect(provider.verifyWebhook(good.headers, tampered, 'gh-hook-secret')).toMatchObject({ ok: false, reason: 'forged' });
    expect(provider.verifyWebhook(good.headers, good.body, 'another-secret')).toMatchObject({ ok: false, reason: 'forged' });
    const unsigned = Object.fromEntries(Object.entries(good.headers).filter(([k]) => !k.startsWith('x-hub-signature')));
    expect(provider.verifyWebhook(unsigned, good.body, 'gh-hook-secret')).toMatchObject({ ok: false, reason: 'unsigned' });
  });
});
