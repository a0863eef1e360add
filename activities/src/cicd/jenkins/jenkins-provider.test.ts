import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ManifestSchema } from '@drydock/core/manifest';
import { startJenkinsDouble, pipelineConfigXml, type JenkinsDouble } from '../../../../tests/support/cicd-doubles/jenkins-double.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../tests/support/cicd-doubles/webhook-receiver.ts';
import { cicdFailure, expectEachLineOnce, expectOutageSurvived, readLogsToEnd } from '../../../../tests/support/cicd-doubles/adapter-scenarios.ts';
import { CicdRateLimitedError } from '../cicd-error.ts';
import type { JenkinsJobRef } from '../provider.ts';
import { createJenkinsProvider, type JenkinsProvider } from './jenkins-provider.ts';
import { renderJobConfig } from './job-config.ts';
import { pipelineFromScript } from './script-pipeline.ts';

const JOB: JenkinsJobRef = { provider: 'jenkins', path: 'team/deploy-api' };
const STAGES = [
  { name: 'Checkout', lines: ['Cloning the repository', 'HEAD is now at 4f2c1e0'] },
  { name: 'Build', lines: ['npm ci', 'added 120 packages', 'npm run build'] },
  { name: 'Deploy', lines: ['deploying api 1.4.2 to staging', 'rollout complete'] },
];

let jenkins: JenkinsDouble;
let hooks: WebhookReceiver;
let token: string;
let provider: JenkinsProvider;

beforeAll(async () => {
  jenkins = await startJenkinsDouble();
  hooks = await startWebhookReceiver();
  token = jenkins.addUser('drydock');
  jenkins.addFolder('team');
  jenkins.addJob(
    JOB.path,
    pipelineConfigXml({
      parameters: [
        { kind: 'String', name: 'VERSION', default: 'latest' },
        { kind: 'Choice', name: 'TARGET', choices: ['staging', 'production'] },
        { kind: 'Boolean', name: 'DRY_RUN', default: 'false' },
        { kind: 'String', name: 'DRYDOCK_TRIGGER_ID', default: '' },
      ],
    }),
    STAGES,
  );
  jenkins.addJob('team/legacy', pipelineConfigXml({ parameters: [{ kind: 'String', name: 'VERSION', default: '' }] }), STAGES);
  jenkins.addJob('team/retired', pipelineConfigXml({ disabled: true }), STAGES);
  provider = createJenkinsProvider({ url: jenkins.url, user: 'drydock', apiToken: token });
});
afterAll(async () => {
  await jenkins?.close();
  await hooks?.close();
});
beforeEach(() => {
  jenkins.setScript(JOB.path, STAGES);
});

describe('test connection', () => {
  it('reports what works with good credentials', async () => {
    const report = await provider.testConnection(JOB);
    expect(report.ok).toBe(true);
    expect(report.missing).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(['Jenkins answers', 'credentials', 'CSRF crumb', `job ${JOB.path}`, 'read the job configuration']);
    expect(report.checks[1]!.detail).toBe('signed in as drydock');
  });

  it('says the token is wrong', async () => {
    const report = await createJenkinsProvider({ url: jenkins.url, user: 'drydock', apiToken: 'not-the-token' }).testConnection(JOB);
    expect(report.ok).toBe(false);
    expect(report.checks[0]!.ok).toBe(true);
    expect(report.checks[1]).toMatchObject({ name: 'credentials', ok: false });
    expect(report.checks[1]!.detail).toMatch(/refused the credentials \(HTTP 401.*check the user and API token/);
    expect(JSON.stringify(report)).not.toContain('not-the-token');
  });

  it('names the permissions a user lacks', async () => {
    const readerToken = jenkins.addUser('reader', ['Overall/Read', 'Job/Read']);
    const reader = createJenkinsProvider({ url: jenkins.url, user: 'reader', apiToken: readerToken });
    const actionsBefore = jenkins.actions.length;
    const report = await reader.testConnection(JOB);
    expect(report.ok).toBe(false);
    expect(report.missing).toEqual(['Job/ExtendedRead']);
    // Jenkins cannot be asked about Job/Build without building: the refused trigger names it, and nothing runs.
    const refused = await cicdFailure(reader.trigger(JOB, { VERSION: '1.0' }, 'trg-reader'));
    expect(refused.reason).toBe('permission_denied');
    expect(refused.missing).toEqual(['Job/Build']);
    expect(refused.message).toContain('reader is missing the Job/Build permission');
    expect(jenkins.actions.length).toBe(actionsBefore);
  });

  it('tells a wrong URL from an unreachable one', async () => {
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>intranet</html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const wrong = await createJenkinsProvider({ url, user: 'drydock', apiToken: token }).testConnection();
    expect(wrong.checks[0]!.detail).toMatch(/without Jenkins' X-Jenkins header: is it the address of Jenkins\?/);
    const wrongDescribe = await cicdFailure(createJenkinsProvider({ url, user: 'drydock', apiToken: token }).describeJob(JOB));
    expect(wrongDescribe.reason).toBe('wrong_url');
    await new Promise((resolve) => other.close(resolve));
    const gone = await cicdFailure(createJenkinsProvider({ url, user: 'drydock', apiToken: token }).describeJob(JOB));
    expect(gone.reason).toBe('unreachable');
    expect(gone.retryable).toBe(true);
    expect(gone.message).toMatch(/is unreachable: the connection (was closed|refused)/);
  });
});

describe('jobs', () => {
  it('describes a job in a folder with its parameters', async () => {
    const job = await provider.describeJob(JOB);
    expect(job).toMatchObject({ name: 'team/deploy-api', buildable: true, idempotent: true, url: `${jenkins.url}/job/team/job/deploy-api/` });
    expect(job.parameters).toEqual([
      { name: 'VERSION', type: 'string', default: 'latest' },
      { name: 'TARGET', type: 'choice', default: 'staging', choices: ['staging', 'production'] },
      { name: 'DRY_RUN', type: 'boolean', default: false },
      { name: 'DRYDOCK_TRIGGER_ID', type: 'string', default: '' },
    ]);
  });

  it('says a job is not found, and that a folder or a disabled job cannot be built', async () => {
    const missing = await cicdFailure(provider.describeJob({ provider: 'jenkins', path: 'team/nope' }));
    expect(missing.reason).toBe('not_found');
    expect(missing.message).toContain('job team/nope was not found');
    expect((await provider.describeJob({ provider: 'jenkins', path: 'team' })).buildable).toBe(false);
    const disabled = await cicdFailure(provider.trigger({ provider: 'jenkins', path: 'team/retired' }, {}, 'trg-retired'));
    expect(disabled.reason).toBe('not_buildable');
  });

  it('refuses a parameter the job does not define before any request', async () => {
    const definition = await provider.describeJob(JOB);
    const before = jenkins.server.requests.length;
    const err = await cicdFailure(provider.trigger(JOB, { VERSION: '1.0', BRANCH: 'main' }, 'trg-undefined', { definition }));
    expect(err.reason).toBe('undefined_parameter');
    expect(err.parameters).toEqual(['BRANCH']);
    expect(err.message).toContain('does not define "BRANCH" (it defines VERSION, TARGET, DRY_RUN)');
    expect(jenkins.server.requests.length).toBe(before);

    const withoutDefinition = await cicdFailure(provider.trigger(JOB, { TARGET: 'moon' }, 'trg-bad-choice'));
    expect(withoutDefinition.reason).toBe('invalid_parameter');
    expect(withoutDefinition.message).toContain('TARGET must be one of: staging, production');
    expect(jenkins.server.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);
    const spoofed = await cicdFailure(provider.trigger(JOB, { DRYDOCK_TRIGGER_ID: 'someone-else' }, 'trg-spoof', { definition }));
    expect(spoofed.message).toContain('DRYDOCK_TRIGGER_ID is set by Drydock itself');
  });
});

describe('a build', () => {
  it('goes queued → running → success, with stages as they progress and artifacts', async () => {
    const handle = await provider.trigger(JOB, { VERSION: '1.4.2', TARGET: 'staging', DRY_RUN: true }, 'trg-success');
    expect(handle.queueItem).toBeGreaterThan(0);
    expect(handle.number).toBeUndefined();
    expect((await provider.status(handle)).state).toBe('queued');

    const run = jenkins.queued(handle.queueItem!);
    run.advance(1);
    const running = await provider.status(handle);
    expect(running.state).toBe('running');
    expect(running.handle.number).toBe(jenkins.builds(JOB.path).at(-1)!.number);
    expect(running.stages).toEqual([]);
    expect(jenkins.builds(JOB.path).at(-1)!.params).toEqual({ VERSION: '1.4.2', TARGET: 'staging', DRY_RUN: 'true', DRYDOCK_TRIGGER_ID: 'trg-success' });

    run.advanceUntil((r) => r.stages[1]!.state === 'running');
    const midway = await provider.status(running.handle);
    expect(midway.stages.map((s) => [s.name, s.state])).toEqual([
      ['Checkout', 'succeeded'],
      ['Build', 'running'],
    ]);

    run.finish();
    const done = await provider.status(midway.handle);
    expect(done.state).toBe('succeeded');
    expect(done.providerState).toBe('SUCCESS');
    expect(done.stages.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(done.artifacts).toEqual([{ name: 'report.txt', url: `${done.url}artifact/out/report.txt` }]);
    expect(done.finishedAt).toBeDefined();
  });

  it('goes queued → running → failure, the failed stage named', async () => {
    jenkins.setScript(JOB.path, [STAGES[0]!, { name: 'Build', lines: ['npm ci', 'npm ERR! missing script: build'], result: 'failure' }, STAGES[2]!]);
    const handle = await provider.trigger(JOB, { VERSION: '1.4.3' }, 'trg-failure');
    jenkins.queued(handle.queueItem!).finish();
    const done = await provider.status(handle);
    expect(done.state).toBe('failed');
    expect(done.providerState).toBe('FAILURE');
    expect(done.stages.map((s) => [s.name, s.state])).toEqual([
      ['Checkout', 'succeeded'],
      ['Build', 'failed'],
    ]);
  });

  it('streams the log with cursors: every line once, none lost', async () => {
    const handle = await provider.trigger(JOB, { VERSION: '1.5.0' }, 'trg-logs');
    const run = jenkins.queued(handle.queueItem!);
    const { text, cursor, reads } = await readLogsToEnd(provider, handle, () => run.advance(2));
    expect(reads).toBeGreaterThan(5);
    expectEachLineOnce(text, STAGES.flatMap((s) => s.lines));
    expect(text).toMatch(/^Started by user drydock\n/);
    expect(text).toMatch(/Finished: SUCCESS\n$/);
    // Past the end, nothing new and still complete.
    expect(await provider.logs(handle, cursor)).toEqual({ text: '', cursor, complete: true });
  });

  it('follows a build that runs on its own to the end by polling', async () => {
    const handle = await provider.trigger(JOB, { VERSION: '1.6.0' }, 'trg-timed');
    jenkins.queued(handle.queueItem!).play(5);
    let status = await provider.status(handle);
    for (let polls = 0; status.state === 'queued' || status.state === 'running'; polls++) {
      if (polls > 400) throw new Error('the build never finished');
      await new Promise((resolve) => setTimeout(resolve, 10));
      status = await provider.status(status.handle);
    }
    expect(status.state).toBe('succeeded');
    expect(status.stages.map((s) => s.name)).toEqual(['Checkout', 'Build', 'Deploy']);
  });

  it('cancels a queued build and a running one, and Jenkins sees each', async () => {
    const queued = await provider.trigger(JOB, { VERSION: '2.0.0' }, 'trg-cancel-queued');
    await provider.cancel(queued);
    expect(jenkins.actions).toContain(`cancel queue item ${queued.queueItem}`);
    expect((await provider.status(queued)).state).toBe('cancelled');
    expect(await provider.logs(queued)).toMatchObject({ complete: true });

    const running = await provider.trigger(JOB, { VERSION: '2.0.1' }, 'trg-cancel-running');
    jenkins.queued(running.queueItem!).advance(3);
    const number = (await provider.status(running)).handle.number!;
    await provider.cancel(running);
    expect(jenkins.actions).toContain(`stop ${JOB.path} #${number}`);
    const stopped = await provider.status(running);
    expect(stopped.state).toBe('cancelled');
    expect(stopped.providerState).toBe('ABORTED');
  });
});

describe('idempotency', () => {
  it('finds the build a crashed trigger started instead of starting another', async () => {
    const requestsBefore = jenkins.server.requests.length;
    const first = await provider.trigger(JOB, { VERSION: '3.0.0' }, 'trg-crash');
    // The worker crashed before recording `first`: the retried activity triggers again with the same key.
    const again = await provider.trigger(JOB, { VERSION: '3.0.0' }, 'trg-crash');
    expect(again.queueItem).toBe(first.queueItem);
    jenkins.queued(first.queueItem!).advance(1);
    const afterStart = await provider.trigger(JOB, { VERSION: '3.0.0' }, 'trg-crash');
    expect(afterStart.number).toBe((await provider.status(first)).handle.number);
    expect(jenkins.builds(JOB.path).filter((b) => b.params['DRYDOCK_TRIGGER_ID'] === 'trg-crash')).toHaveLength(1);
    expect(jenkins.server.requests.slice(requestsBefore).filter((r) => r.path.endsWith('/buildWithParameters'))).toHaveLength(1);

    const other = await provider.trigger(JOB, { VERSION: '3.0.0' }, 'trg-crash-2');
    expect(other.queueItem).not.toBe(first.queueItem);
  });

  it('says a job without DRYDOCK_TRIGGER_ID cannot promise one build per trigger', async () => {
    const legacy = await provider.describeJob({ provider: 'jenkins', path: 'team/legacy' });
    expect(legacy.idempotent).toBe(false);
    const report = await provider.testConnection({ provider: 'jenkins', path: 'team/legacy' });
    expect(report.checks.find((c) => c.name === 'job team/legacy')!.detail).toContain('does not define DRYDOCK_TRIGGER_ID');
  });
});

describe('CSRF crumb', () => {
  it('sends the crumb with its session cookie, and fetches a new one when Jenkins forgot it', async () => {
    const fresh = createJenkinsProvider({ url: jenkins.url, user: 'drydock', apiToken: token });
    const before = jenkins.server.requests.length;
    const h1 = await fresh.trigger(JOB, {}, 'trg-crumb-1');
    jenkins.expireCrumbs();
    const h2 = await fresh.trigger(JOB, {}, 'trg-crumb-2');
    expect(h2.queueItem).not.toBe(h1.queueItem);
    const requests = jenkins.server.requests.slice(before);
    expect(requests.filter((r) => r.path === '/crumbIssuer/api/json')).toHaveLength(2);
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([201, 403, 201]);
  });
});

describe('failures the workflow waits out', () => {
  it('surfaces a rate limit as RateLimited with the wait', async () => {
    const handle = await provider.trigger(JOB, {}, 'trg-rate');
    jenkins.server.rateLimit({ status: 429, headers: { 'retry-after': '7' }, body: 'Too Many Requests' });
    const err = await cicdFailure(provider.status(handle));
    expect(err).toBeInstanceOf(CicdRateLimitedError);
    expect((err as CicdRateLimitedError).retryAfterMs).toBe(7000);
    expect(err.retryable).toBe(true);
    expect((await provider.status(handle)).state).toBe('queued');
  });

  it('keeps its place when Jenkins goes down mid-build and comes back', async () => {
    const handle = await provider.trigger(JOB, {}, 'trg-down');
    await expectOutageSurvived({ provider, handle, server: jenkins.server, run: jenkins.queued(handle.queueItem!), lines: STAGES.flatMap((s) => s.lines) });
  });
});

describe('webhooks', () => {
  it('accepts notifications with the shared secret and refuses forged or unsigned ones', async () => {
    jenkins.notifyTo(hooks.url, 'hook-secret-1');
    const handle = await provider.trigger(JOB, { VERSION: '4.0.0' }, 'trg-hook');
    jenkins.queued(handle.queueItem!).finish();
    await hooks.waitFor(3);
    const verdicts = hooks.deliveries.map((d) => provider.verifyWebhook(d.headers, d.body, 'hook-secret-1'));
    expect(verdicts.every((v) => v.ok)).toBe(true);
    const events = verdicts.map((v) => (v.ok ? v.event : undefined));
    const number = (await provider.status(handle)).handle.number;
    expect(events.map((e) => [e!.type, e!.state])).toEqual([
      ['QUEUED', 'queued'],
      ['STARTED', 'running'],
      ['COMPLETED', 'succeeded'],
    ]);
    expect(events[2]).toMatchObject({ buildId: `jenkins:${JOB.path}#${number}`, triggerId: 'trg-hook' });

    const good = hooks.deliveries[2]!;
    expect(provider.verifyWebhook({ ...good.headers, 'x-drydock-token': 'guessed' }, good.body, 'hook-secret-1')).toMatchObject({ ok: false, reason: 'forged' });
    const unsigned = Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== 'x-drydock-token'));
    expect(provider.verifyWebhook(unsigned, good.body, 'hook-secret-1')).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(provider.verifyWebhook(good.headers, 'not json', 'hook-secret-1')).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('creating a job from a catalog script', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const examples = join(here, '../../../../examples/scripts-repo');
  const manifest = ManifestSchema.parse(parse(readFileSync(join(examples, 'manifests/every-parameter-type.yaml'), 'utf8')));
  const script = readFileSync(join(examples, 'scripts/echo-all.sh'), 'utf8');

  it('shows the diff, creates the job, then updates it, and the job takes its parameters', async () => {
    const xml = renderJobConfig(pipelineFromScript({ manifest, script }), { description: 'Drydock: Every parameter type' });
    const plan = await provider.planJobConfig('team/echo-all', xml);
    expect(plan).toMatchObject({ exists: false, changed: true });
    expect(plan.diff).toContain('+++ b/team/echo-all/config.xml');
    expect(jenkins.actions).not.toContain('create team/echo-all');
    await provider.applyJobConfig(plan);
    expect(jenkins.actions).toContain('create team/echo-all');
    expect(jenkins.jobConfig('team/echo-all')).toBe(xml);

    const job = await provider.describeJob({ provider: 'jenkins', path: 'team/echo-all' });
    expect(job.idempotent).toBe(true);
    expect(job.parameters.map((p) => p.name)).toEqual(['name', 'notes', 'replicas', 'ratio', 'dry_run', 'tier', 'password', 'target', 'peers', 'window', 'DRYDOCK_TRIGGER_ID']);

    const changed = renderJobConfig(pipelineFromScript({ manifest: { ...manifest, timeout: 90 }, script }), { description: 'Drydock: Every parameter type' });
    const update = await provider.planJobConfig('team/echo-all', changed);
    expect(update.exists).toBe(true);
    expect(update.diff).toContain("-    timeout(time: 30, unit: 'SECONDS')");
    expect(update.diff).toContain("+    timeout(time: 90, unit: 'SECONDS')");
    await provider.applyJobConfig(update);
    expect(jenkins.actions).toContain('update team/echo-all');
    expect(jenkins.jobConfig('team/echo-all')).toBe(changed);

    const stale = await cicdFailure(provider.applyJobConfig(plan));
    expect(stale.message).toContain('was created by someone else since the plan was made');
  });

  it('refuses to plan XML that is not well-formed', async () => {
    const err = await cicdFailure(provider.planJobConfig('team/broken', '<flow-definition>'));
    expect(err.message).toMatch(/not well-formed XML/);
  });
});

