import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCircleciDouble, type CircleciDouble } from '../../../../tests/support/cicd-doubles/circleci-double.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../tests/support/cicd-doubles/webhook-receiver.ts';
import { cicdFailure, expectEachLineOnce, expectOutageSurvived, readLogsToEnd } from '../../../../tests/support/cicd-doubles/adapter-scenarios.ts';
import { CicdRateLimitedError } from '../cicd-error.ts';
import type { CicdProvider, CircleciJobRef } from '../provider.ts';
import { createCircleciProvider } from './circleci-provider.ts';

const CONFIG = `version: 2.1
parameters:
  version:
    type: string
    default: latest
    description: Version to deploy
  dry_run:
    type: boolean
    default: false
  replicas:
    type: integer
    default: 2
  target:
    type: enum
    enum: [staging, production]
    default: staging
  drydock_trigger_id:
    type: string
    default: ""
jobs:
  deploy:
    docker: [{ image: cimg/base:current }]
    environment:
      DRYDOCK_TRIGGER_ID: << pipeline.parameters.drydock_trigger_id >>
    steps: [checkout, { run: ./deploy.sh << pipeline.parameters.version >> }]
workflows:
  deploy: { jobs: [deploy] }
`;
const LEGACY = `version: 2.1
parameters:
  version: { type: string, default: latest }
jobs:
  build: { docker: [{ image: cimg/base:current }], steps: [checkout] }
workflows:
  main: { jobs: [build] }
`;
const JOBS = [
  { name: 'build', lines: ['npm ci', 'npm run build'] },
  { name: 'test', lines: ['npm test', '42 passing'] },
  { name: 'deploy', lines: ['deploying', 'done'] },
];
const JOB: CircleciJobRef = { provider: 'circleci', projectSlug: 'gh/acme/api', branch: 'main' };
const LEGACY_JOB: CircleciJobRef = { provider: 'circleci', projectSlug: 'gh/acme/legacy', branch: 'main' };

let cci: CircleciDouble;
let hooks: WebhookReceiver;
let token: string;
let provider: CicdProvider;

const connect = (t: string, url = cci.url) => createCircleciProvider({ token: t, url });

beforeAll(async () => {
  cci = await startCircleciDouble();
  hooks = await startWebhookReceiver();
  cci.addProject('gh/acme/api', CONFIG, JOBS);
  cci.addProject('gh/acme/legacy', LEGACY, JOBS);
  token = cci.addToken({ kind: 'personal', login: 'deployer', access: { 'gh/acme/api': 'write', 'gh/acme/legacy': 'write' } });
  provider = connect(token);
  // CircleCI reads a config only from a pipeline that ran it: each branch has run once, as a real one would have.
  for (const slug of ['gh/acme/api', 'gh/acme/legacy']) {
    const res = await fetch(`${cci.url}/api/v2/project/${slug}/pipeline`, { method: 'POST', headers: { 'circle-token': token, 'content-type': 'application/json' }, body: JSON.stringify({ branch: 'main' }) });
    const { id } = (await res.json()) as { id: string };
    cci.pipeline(id).finish();
  }
});
afterAll(async () => {
  await cci?.close();
  await hooks?.close();
});
beforeEach(() => cci.setScript('gh/acme/api', JOBS));

describe('test connection', () => {
  it('reports what works with a good personal token', async () => {
    const report = await provider.testConnection(JOB);
    expect(report).toMatchObject({ ok: true, missing: [] });
    expect(report.checks.map((c) => c.name)).toEqual(['token', 'project gh/acme/api', 'config on main']);
    expect(report.checks[0]!.detail).toBe('personal token of deployer');
    expect(report.checks[2]!.detail).toBe('5 pipeline parameter(s)');
  });

  it('says the token is bad', async () => {
    const report = await connect('CCIPAT_wrong').testConnection(JOB);
    expect(report.ok).toBe(false);
    expect(report.checks.at(-1)!.detail).toMatch(/refused the token for \/me and for the project/);
    expect(JSON.stringify(report)).not.toContain('CCIPAT_wrong');
    expect((await connect('CCIPAT_wrong').testConnection()).checks[0]!.detail).toMatch(/refused the credentials \(HTTP 401: You must log in first\.\)/);
  });

  it('names what a project token lacks', async () => {
    const status = cci.addToken({ kind: 'project', project: 'gh/acme/api', scope: 'status' });
    const report = await connect(status).testConnection(JOB);
    expect(report.ok).toBe(false);
    expect(report.missing).toEqual(['a project token scope of read-only or admin']);
    const readOnly = cci.addToken({ kind: 'project', project: 'gh/acme/api', scope: 'read-only' });
    expect((await connect(readOnly).testConnection(JOB)).ok).toBe(true);
    const refused = await cicdFailure(connect(readOnly).trigger(JOB, {}, 'trg-read-only'));
    expect(refused).toMatchObject({ reason: 'permission_denied' });
    expect(refused.message).toContain('Permission denied');
  });

  it('tells a wrong URL from an unreachable one', async () => {
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>intranet</html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    expect((await cicdFailure(connect(token, url).describeJob(JOB))).reason).toBe('wrong_url');
    await new Promise((resolve) => other.close(resolve));
    expect(await cicdFailure(connect(token, url).describeJob(JOB))).toMatchObject({ reason: 'unreachable', retryable: true });
  });
});

describe('projects', () => {
  it("describes a project's pipeline parameters from the branch's config", async () => {
    const job = await provider.describeJob(JOB);
    expect(job).toMatchObject({ name: 'gh/acme/api @ main', buildable: true, idempotent: true });
    expect(job.parameters).toEqual([
      { name: 'version', type: 'string', description: 'Version to deploy', default: 'latest' },
      { name: 'dry_run', type: 'boolean', default: false },
      { name: 'replicas', type: 'number', default: 2 },
      { name: 'target', type: 'choice', default: 'staging', choices: ['staging', 'production'] },
      { name: 'drydock_trigger_id', type: 'string', default: '' },
    ]);
    expect((await provider.describeJob(LEGACY_JOB)).idempotent).toBe(false);
    expect(await cicdFailure(provider.describeJob({ ...JOB, projectSlug: 'gh/acme/nope' }))).toMatchObject({ reason: 'not_found' });
  });

  it('refuses a parameter the config does not define before any request', async () => {
    const definition = await provider.describeJob(JOB);
    const before = cci.server.requests.length;
    const err = await cicdFailure(provider.trigger(JOB, { version: '1.0', region: 'eu' }, 'trg-undefined', { definition }));
    expect(err).toMatchObject({ reason: 'undefined_parameter', parameters: ['region'] });
    expect(cci.server.requests.length).toBe(before);
    expect(await cicdFailure(provider.trigger(JOB, { replicas: 'many' }, 'trg-nan'))).toMatchObject({ reason: 'invalid_parameter' });
    expect(cci.server.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
  });

  it("says which parameter CircleCI refused when the definition was stale, and that nothing ran", async () => {
    const stale = await provider.describeJob(LEGACY_JOB);
    stale.parameters.push({ name: 'region', type: 'string' });
    const err = await cicdFailure(provider.trigger(LEGACY_JOB, { region: 'eu' }, 'trg-stale', { definition: stale }));
    expect(err).toMatchObject({ reason: 'undefined_parameter', parameters: ['region'] });
    expect(err.message).toContain('errored and ran nothing');
  });
});

describe('a pipeline', () => {
  it('goes queued → running → success, jobs as they progress, artifacts at the end', async () => {
    const handle = await provider.trigger(JOB, { version: '1.4.2', dry_run: true, replicas: 3 }, 'trg-success');
    expect(cci.pipelines('gh/acme/api').find((p) => p.id === handle.pipelineId)!.parameters).toEqual({ version: '1.4.2', dry_run: true, replicas: 3, drydock_trigger_id: 'trg-success' });
    const run = cci.pipeline(handle.pipelineId!);
    expect((await provider.status(handle)).state).toBe('running');
    run.advanceUntil((r) => r.stages[1]!.state === 'running');
    const midway = await provider.status(handle);
    expect(midway.state).toBe('running');
    expect(midway.stages.map((s) => [s.name, s.state])).toEqual([
      ['deploy/build', 'succeeded'],
      ['deploy/test', 'running'],
      ['deploy/deploy', 'queued'],
    ]);
    run.finish();
    const done = await provider.status(handle);
    expect(done.state).toBe('succeeded');
    expect(done.artifacts.map((a) => a.name)).toEqual(['reports/build.xml', 'reports/test.xml', 'reports/deploy.xml']);
  });

  it('goes running → failure, the failed job named and the rest not run', async () => {
    cci.setScript('gh/acme/api', [JOBS[0]!, { name: 'test', lines: ['1 failing'], result: 'failure' }, JOBS[2]!]);
    const handle = await provider.trigger(JOB, { version: '1.4.3' }, 'trg-failure');
    cci.pipeline(handle.pipelineId!).finish();
    const done = await provider.status(handle);
    expect(done.state).toBe('failed');
    expect(done.stages.map((s) => s.state)).toEqual(['succeeded', 'failed', 'skipped']);
  });

  it('streams step output with a cursor: every line once, none lost', async () => {
    const handle = await provider.trigger(JOB, { version: '1.5.0' }, 'trg-logs');
    const run = cci.pipeline(handle.pipelineId!);
    const { text, cursor } = await readLogsToEnd(provider, handle, () => run.advance(2));
    expectEachLineOnce(text, JOBS.flatMap((j) => j.lines));
    expect(text.split('\n').filter((l) => l.startsWith('##[drydock] ') && !l.includes('Spin up'))).toEqual(['##[drydock] deploy/build › build', '##[drydock] deploy/test › test', '##[drydock] deploy/deploy › deploy']);
    expect(await provider.logs(handle, cursor)).toEqual({ text: '', cursor, complete: true });
  });

  it('cancels a pipeline and CircleCI sees it', async () => {
    const handle = await provider.trigger(JOB, { version: '2.0.0' }, 'trg-cancel');
    cci.pipeline(handle.pipelineId!).advance(3);
    await provider.cancel(handle);
    expect(cci.cancels).toHaveLength(1);
    expect((await provider.status(handle)).state).toBe('cancelled');
  });
});

describe('idempotency', () => {
  it('finds the pipeline a crashed trigger created instead of creating another', async () => {
    const first = await provider.trigger(JOB, { version: '3.0.0' }, 'trg-crash');
    const again = await provider.trigger(JOB, { version: '3.0.0' }, 'trg-crash', { requestedAt: new Date(first.requestedAt) });
    expect(again.pipelineId).toBe(first.pipelineId);
    expect(cci.pipelines('gh/acme/api').filter((p) => p.parameters['drydock_trigger_id'] === 'trg-crash')).toHaveLength(1);
    const bare = { provider: first.provider, job: first.job, triggerId: first.triggerId, requestedAt: first.requestedAt };
    expect((await provider.status(bare)).handle.pipelineId).toBe(first.pipelineId);
  });
});

describe('failures the workflow waits out', () => {
  it('surfaces a rate limit as RateLimited with the wait', async () => {
    cci.server.rateLimit({ status: 429, headers: { 'content-type': 'application/json', 'retry-after': '9' }, body: { message: 'Rate limit exceeded' } });
    const err = await cicdFailure(provider.describeJob(JOB));
    expect(err).toBeInstanceOf(CicdRateLimitedError);
    expect((err as CicdRateLimitedError).retryAfterMs).toBe(9_000);
  });

  it('keeps its place when CircleCI goes down mid-pipeline and comes back', async () => {
    const handle = await provider.trigger(JOB, { version: '6.0.0' }, 'trg-down');
    await expectOutageSurvived({ provider, handle, server: cci.server, run: cci.pipeline(handle.pipelineId!), lines: JOBS.flatMap((j) => j.lines) });
  });
});

describe('webhooks', () => {
  it('accepts deliveries signed v1 with the secret and refuses forged or unsigned ones', async () => {
    cci.hookTo(hooks.url, 'cci-hook-secret');
    const start = hooks.deliveries.length;
    const handle = await provider.trigger(JOB, { version: '7.0.0' }, 'trg-hook');
    cci.pipeline(handle.pipelineId!).finish();
    await hooks.waitFor(start + JOBS.length + 1);
    const mine = hooks.deliveries.slice(start);
    const events = mine.map((d) => provider.verifyWebhook(d.headers, d.body, 'cci-hook-secret')).flatMap((v) => (v.ok ? [v.event] : []));
    expect(events).toHaveLength(mine.length);
    expect(events.map((e) => [e.kind, e.stage ?? '', e.state])).toEqual([
      ['stage', 'deploy/build', 'succeeded'],
      ['stage', 'deploy/test', 'succeeded'],
      ['stage', 'deploy/deploy', 'succeeded'],
      ['build', '', 'succeeded'],
    ]);
    expect(events.every((e) => e.buildId === handle.buildId)).toBe(true);

    const good = mine.at(-1)!;
    const rotated = { ...good.headers, 'circleci-signature': `v1=${'0'.repeat(64)},${String(good.headers['circleci-signature'])}` };
    expect(provider.verifyWebhook(rotated, good.body, 'cci-hook-secret').ok).toBe(true);
    expect(provider.verifyWebhook(good.headers, Buffer.from(good.body.toString().replace('success', 'failed')), 'cci-hook-secret')).toMatchObject({ ok: false, reason: 'forged' });
    const unsigned = Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== 'circleci-signature'));
    expect(provider.verifyWebhook(unsigned, good.body, 'cci-hook-secret')).toMatchObject({ ok: false, reason: 'unsigned' });
  });
});
