import { readFileSync } from 'node:fs';
import { Octokit } from '@octokit/rest';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGithubDouble, type GithubDouble } from '../../../../tests/support/cicd-doubles/github-double.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../tests/support/cicd-doubles/webhook-receiver.ts';

// The GitHub double is only worth what its answers are: each one the adapter relies on is checked against GitHub's
// own OpenAPI description of api.github.com (the part of it in testdata/, cut from @octokit/openapi), as Octokit
// sees it on the wire.

const spec = JSON.parse(readFileSync(new URL('testdata/github-openapi-subset.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>>;
  components: { responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
};

/** OpenAPI 3.0 leaves `nullable` with `enum` ambiguous; GitHub answers null for such fields (a running job's conclusion). */
function nullableEnums(node: unknown): void {
  if (Array.isArray(node)) node.forEach(nullableEnums);
  else if (node && typeof node === 'object') {
    const schema = node as { nullable?: boolean; enum?: unknown[] };
    if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum.push(null);
    Object.values(node).forEach(nullableEnums);
  }
}
nullableEnums(spec);

const ajv = new Ajv({ strict: false, allErrors: true, discriminator: false });
addFormats.default(ajv);
ajv.addSchema(spec as object, 'github');

const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

interface Seen {
  route: string;
  method: string;
  status: number;
  data: unknown;
}

/** The JSON schema GitHub documents for this answer, or undefined when the answer has no body. */
function schemaFor(seen: Seen): ValidateFunction | undefined {
  const responses = spec.paths[seen.route]?.[seen.method.toLowerCase()]?.responses;
  if (!responses) throw new Error(`${seen.method} ${seen.route} is not in GitHub's OpenAPI description`);
  const response = responses[String(seen.status)];
  if (!response) throw new Error(`GitHub documents no ${seen.status} for ${seen.method} ${seen.route} (it documents ${Object.keys(responses).join(', ')})`);
  const target = response.$ref ? spec.components.responses[response.$ref.split('/').at(-1)!]! : response;
  if (!target.content?.['application/json']) return undefined;
  const ref = response.$ref
    ? `github#/${pointer('components', 'responses', response.$ref.split('/').at(-1)!, 'content', 'application/json', 'schema')}`
    : `github#/${pointer('paths', seen.route, seen.method.toLowerCase(), 'responses', String(seen.status), 'content', 'application/json', 'schema')}`;
  return ajv.compile({ $ref: ref });
}

let gh: GithubDouble;
let hooks: WebhookReceiver;
const seen: Seen[] = [];

beforeAll(async () => {
  gh = await startGithubDouble();
  hooks = await startWebhookReceiver();
  gh.addRepo('acme', 'api', { pushers: ['deployer'] });
  gh.addWorkflow(
    'acme',
    'api',
    'deploy.yml',
    'name: Deploy\nrun-name: Deploy ${{ inputs.version }}\non:\n  workflow_dispatch:\n    inputs:\n      version: { type: string, required: true }\njobs: {}\n',
    [
      { name: 'build', lines: ['make'] },
      { name: 'deploy', lines: ['ship it'], result: 'failure' },
    ],
  );
  gh.hookTo(hooks.url, 'secret');
  const token = gh.addToken({ login: 'deployer', kind: 'fine-grained', permissions: { actions: 'write', contents: 'read', metadata: 'read' } });
  const readOnly = gh.addToken({ login: 'deployer', kind: 'fine-grained', permissions: { actions: 'read', contents: 'read', metadata: 'read' } });

  const record = (octokit: Octokit) => {
    octokit.hook.after('request', (response, options) => {
      seen.push({ route: options.url, method: options.method, status: response.status, data: response.data });
    });
    octokit.hook.error('request', (error, options) => {
      const e = error as { status?: number; response?: { data: unknown } };
      seen.push({ route: options.url, method: options.method, status: e.status ?? 0, data: e.response?.data });
      throw error;
    });
    return octokit;
  };
  const octokit = record(new Octokit({ auth: token, baseUrl: gh.url }));
  const limited = record(new Octokit({ auth: readOnly, baseUrl: gh.url }));
  const repo = { owner: 'acme', repo: 'api' };
  const quietly = (p: Promise<unknown>) => p.catch(() => undefined);

  await octokit.rest.users.getAuthenticated();
  await octokit.rest.repos.get(repo);
  await octokit.rest.actions.getWorkflow({ ...repo, workflow_id: 'deploy.yml' });
  await octokit.rest.repos.getContent({ ...repo, path: '.github/workflows/deploy.yml', ref: 'main' });
  const dispatched = await octokit.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: 'deploy.yml', ref: 'main', inputs: { version: '1.0' }, return_run_details: true });
  const runId = (dispatched.data as unknown as { workflow_run_id: number }).workflow_run_id;
  await octokit.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: 'deploy.yml', ref: 'main', inputs: { version: '1.1' } });
  await quietly(octokit.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: 'deploy.yml', ref: 'main', inputs: { region: 'eu' } }));
  await octokit.rest.actions.listWorkflowRuns({ ...repo, workflow_id: 'deploy.yml', event: 'workflow_dispatch', branch: 'main', per_page: 100 });
  await octokit.rest.actions.getWorkflowRun({ ...repo, run_id: runId });
  await octokit.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: runId });
  gh.run(runId).advanceUntil((r) => r.stages[0]!.state === 'success');
  await octokit.rest.actions.getWorkflowRun({ ...repo, run_id: runId });
  await octokit.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: runId, filter: 'latest', per_page: 100 });
  await quietly(limited.rest.actions.cancelWorkflowRun({ ...repo, run_id: runId }));
  gh.run(runId).finish();
  await octokit.rest.actions.getWorkflowRun({ ...repo, run_id: runId });
  await octokit.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: runId });
  await octokit.rest.actions.listWorkflowRunArtifacts({ ...repo, run_id: runId });
  await quietly(octokit.rest.actions.cancelWorkflowRun({ ...repo, run_id: runId }));
  await quietly(octokit.rest.actions.getWorkflow({ ...repo, workflow_id: 'missing.yml' }));
  const second = (await octokit.rest.actions.listWorkflowRuns({ ...repo, workflow_id: 'deploy.yml' })).data.workflow_runs.find((r) => r.id !== runId)!;
  await octokit.rest.actions.cancelWorkflowRun({ ...repo, run_id: second.id });
  await quietly(new Octokit({ auth: 'ghp_wrong', baseUrl: gh.url }).rest.users.getAuthenticated().catch((e: { status: number; response: { data: unknown } }) => {
    seen.push({ route: '/user', method: 'GET', status: e.status, data: e.response.data });
  }));
  await hooks.waitFor(6);
}, 60_000);
afterAll(async () => {
  await gh?.close();
  await hooks?.close();
});

describe("the GitHub double's answers against GitHub's OpenAPI description", () => {
  it('covers the answers the adapter relies on, successes and refusals', () => {
    const answered = new Set(seen.map((s) => `${s.method} ${s.route} ${s.status}`));
    for (const expected of [
      'GET /user 200',
      'GET /user 401',
      'GET /repos/{owner}/{repo} 200',
      'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id} 200',
      'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id} 404',
      'GET /repos/{owner}/{repo}/contents/{path} 200',
      'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches 200',
      'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches 204',
      'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches 422',
      'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs 200',
      'GET /repos/{owner}/{repo}/actions/runs/{run_id} 200',
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs 200',
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts 200',
      'POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel 202',
      'POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel 409',
      'POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel 403',
    ]) {
      expect(answered, expected).toContain(expected);
    }
  });

  it('answers in the documented shapes', () => {
    const problems: string[] = [];
    for (const s of seen) {
      // GitHub documents no body for some refusals (the 422 of a dispatch, a 401); their JSON is still basic-error.
      const validate = s.status >= 400 && !spec.paths[s.route]?.[s.method.toLowerCase()]?.responses[String(s.status)] ? ajv.compile({ $ref: 'github#/components/schemas/basic-error' }) : schemaFor(s);
      if (validate && !validate(s.data)) problems.push(`${s.method} ${s.route} ${s.status}: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
    }
    expect(problems).toEqual([]);
  });

  it('sends webhook payloads whose run and job are in the documented shapes', () => {
    const run = ajv.compile({ $ref: 'github#/components/schemas/workflow-run' });
    const job = ajv.compile({ $ref: 'github#/components/schemas/job' });
    const problems: string[] = [];
    for (const d of hooks.deliveries) {
      const payload = JSON.parse(d.body.toString('utf8')) as { workflow_run?: unknown; workflow_job?: unknown };
      if (payload.workflow_run && !run(payload.workflow_run)) problems.push(`workflow_run: ${ajv.errorsText(run.errors)}`);
      if (payload.workflow_job && !job(payload.workflow_job)) problems.push(`workflow_job: ${ajv.errorsText(job.errors)}`);
    }
    expect(hooks.deliveries.some((d) => d.headers['x-github-event'] === 'workflow_job')).toBe(true);
    expect(problems).toEqual([]);
  });
});
