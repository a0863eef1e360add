import { parse } from 'yaml';
import { CicdError } from '../cicd-error.ts';
import { cicdHttp, jsonBody, type CicdHttpRequest } from '../cicd-http.ts';
import { checkParameters } from '../parameters.ts';
import type { CicdBuildHandle, CicdBuildState, CicdBuildStatus, CicdConnectionReport, CicdHeaders, CicdJobDescription, CicdJobRef, CicdLogChunk, CicdParameterDefinition, CicdParams, CicdProvider, CicdStage, CicdTriggerOptions, CicdWebhookVerdict, CircleciJobRef } from '../provider.ts';
import { connectionReport } from '../connection-report.ts';
import { headerValue, hmacSha256Hex, jsonObject, sameSecret } from '../webhook-signature.ts';

export interface CircleciConnection {
  /** A personal API token, or a project API token (scope read-only or admin). */
  token: string;
  /** CircleCI server: `https://circleci.example.com`. Default circleci.com. */
  url?: string;
}

export interface CircleciProviderOptions {
  fetch?: typeof fetch;
  requestTimeoutMs?: number;
  now?: () => number;
}

/** The pipeline parameter that carries Drydock's trigger id; see activities/README.md for the config it needs. */
export const TRIGGER_ID_PIPELINE_PARAMETER = 'drydock_trigger_id';

interface Pipeline {
  id: string;
  number: number;
  state: string;
  created_at: string;
  errors: { type: string; message: string }[];
  trigger?: { type?: string; actor?: { login?: string } };
}

interface Workflow {
  id: string;
  name: string;
  status: string;
  created_at: string;
  stopped_at?: string | null;
}

interface Job {
  id: string;
  job_number?: number;
  name: string;
  status: string;
  started_at?: string | null;
  stopped_at?: string | null;
}

interface V1Build {
  steps?: { name: string; actions: { index: number; step: number; status: string; output_url?: string }[] }[];
}

const CLOCK_SKEW_MS = 60_000;
const FINISHED_JOB = new Set(['success', 'failed', 'canceled', 'not_run', 'infrastructure_fail', 'timedout', 'terminated-unknown', 'unauthorized']);

const JOB_STATES: Record<string, CicdStage['state']> = {
  success: 'succeeded',
  running: 'running',
  queued: 'queued',
  not_running: 'queued',
  blocked: 'queued',
  on_hold: 'queued',
  failed: 'failed',
  infrastructure_fail: 'failed',
  timedout: 'failed',
  'terminated-unknown': 'failed',
  unauthorized: 'failed',
  canceled: 'cancelled',
  not_run: 'skipped',
};

function circleRef(job: CicdJobRef): CircleciJobRef {
  if (job.provider !== 'circleci') throw new CicdError('circleci', 'rejected', `a ${job.provider} job cannot be run by the CircleCI provider`);
  return job;
}

/** `gh/org/repo` in API v1.1's words: `github/org/repo`. */
function v1Slug(slug: string): string {
  const [vcs, ...rest] = slug.split('/');
  return [{ gh: 'github', bb: 'bitbucket' }[vcs as 'gh'] ?? vcs, ...rest].join('/');
}

function workflowsState(pipeline: Pipeline, workflows: Workflow[]): CicdBuildState {
  if (pipeline.state === 'errored') return 'failed';
  if (workflows.length === 0) return 'queued';
  const statuses = workflows.map((w) => w.status);
  if (statuses.some((s) => s === 'running' || s === 'failing' || s === 'on_hold')) return 'running';
  if (statuses.some((s) => s === 'failed' || s === 'error' || s === 'unauthorized')) return 'failed';
  if (statuses.some((s) => s === 'canceled')) return 'cancelled';
  return 'succeeded';
}

/** The config's pipeline parameters (https://circleci.com/docs/pipeline-variables/#pipeline-parameters-in-configuration). */
export function pipelineParameters(source: string): { parameters: CicdParameterDefinition[]; usesTriggerId: boolean } {
  const doc = (parse(source) ?? {}) as { parameters?: Record<string, { type?: string; default?: unknown; description?: string; enum?: unknown[] }> };
  const parameters = Object.entries(doc.parameters ?? {}).map(([name, spec]) => {
    const type = spec?.type === 'boolean' ? 'boolean' : spec?.type === 'integer' ? 'number' : spec?.type === 'enum' ? 'choice' : 'string';
    const def: CicdParameterDefinition = { name, type };
    if (spec?.description) def.description = spec.description;
    if (typeof spec?.default === 'string' || typeof spec?.default === 'number' || typeof spec?.default === 'boolean') def.default = spec.default;
    else def.required = true;
    if (Array.isArray(spec?.enum)) def.choices = spec.enum.map(String);
    return def;
  });
  const usesTriggerId = parameters.some((p) => p.name === TRIGGER_ID_PIPELINE_PARAMETER) && new RegExp(`<<\\s*pipeline\\.parameters\\.${TRIGGER_ID_PIPELINE_PARAMETER}\\s*>>`).test(source);
  return { parameters, usesTriggerId };
}

/** CircleCI through API v2 (and v1.1 for step output): https://circleci.com/docs/api/v2/. */
export function createCircleciProvider(connection: CircleciConnection, options: CircleciProviderOptions = {}): CicdProvider {
  const host = (connection.url ?? 'https://circleci.com').replace(/\/+$/, '');
  const http = cicdHttp({ provider: 'circleci', baseUrl: host, ...options });
  const now = options.now ?? Date.now;
  const auth = { 'circle-token': connection.token, accept: 'application/json' };

  const request = async <T>(method: 'GET' | 'POST', path: string, what: string, extra: CicdHttpRequest = {}): Promise<T> => {
    const res = await http.request(method, path, { ...extra, headers: { ...auth, ...extra.headers } });
    if (res.status < 200 || res.status >= 300) {
      throw http.failure(res, what, { badCredentials: 'check the token: a personal API token (User Settings → Personal API Tokens) or a project API token' });
    }
    return jsonBody<T>('circleci', host, res);
  };
  const v2 = <T>(path: string, what: string, extra?: CicdHttpRequest) => request<T>('GET', `/api/v2${path}`, what, extra);
  const slugPath = (slug: string) => slug.split('/').map(encodeURIComponent).join('/');

  const latestConfig = async (ref: CircleciJobRef): Promise<{ source?: string; lastPipeline?: Pipeline }> => {
    const { items } = await v2<{ items: Pipeline[] }>(`/project/${slugPath(ref.projectSlug)}/pipeline`, `the pipelines of ${ref.projectSlug}`, { query: { branch: ref.branch } });
    const lastPipeline = items[0];
    if (!lastPipeline) return {};
    const config = await v2<{ source: string }>(`/pipeline/${lastPipeline.id}/config`, `the config of pipeline ${lastPipeline.number}`);
    return { source: config.source, lastPipeline };
  };

  const describeJob = async (job: CicdJobRef): Promise<CicdJobDescription> => {
    const ref = circleRef(job);
    const project = await v2<{ slug?: string; name?: string }>(`/project/${slugPath(ref.projectSlug)}`, `project ${ref.projectSlug}`);
    if (typeof project.slug !== 'string') throw new CicdError('circleci', 'wrong_url', `${host} did not answer as CircleCI's API: is it the address of CircleCI?`);
    // API v2 reads a config only from a pipeline that ran it: the branch's latest pipeline tells what it declares.
    const { source, lastPipeline } = await latestConfig(ref);
    let declared = { parameters: [] as CicdParameterDefinition[], usesTriggerId: false };
    if (source !== undefined) {
      try {
        declared = pipelineParameters(source);
      } catch (err) {
        throw new CicdError('circleci', 'rejected', `the config of ${ref.projectSlug} at ${ref.branch} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const description: CicdJobDescription = { ref, name: `${project.slug} @ ${ref.branch}`, url: `${host.replace('://circleci.com', '://app.circleci.com')}/pipelines/${project.slug}?branch=${encodeURIComponent(ref.branch)}`, buildable: true, parameters: declared.parameters, idempotent: declared.usesTriggerId };
    if (lastPipeline) description.lastBuild = { buildId: `circleci:pipeline/${lastPipeline.id}`, number: lastPipeline.number, state: lastPipeline.state === 'errored' ? 'failed' : 'queued' };
    return description;
  };

  /**
   * The pipeline this trigger id started: API pipelines on the branch since `requestedAt` whose compiled config
   * carries the id (the config passes `<< pipeline.parameters.drydock_trigger_id >>` to a job).
   */
  const find = async (ref: CircleciJobRef, triggerId: string, requestedAt: string): Promise<Pipeline | undefined> => {
    const since = Date.parse(requestedAt) - CLOCK_SKEW_MS;
    let pageToken: string | undefined;
    for (let page = 0; page < 5; page++) {
      const list = await v2<{ items: Pipeline[]; next_page_token?: string | null }>(`/project/${slugPath(ref.projectSlug)}/pipeline`, `the pipelines of ${ref.projectSlug}`, { query: { branch: ref.branch, 'page-token': pageToken } });
      for (const p of list.items) {
        if (Date.parse(p.created_at) < since) return undefined;
        if (p.trigger?.type && p.trigger.type !== 'api') continue;
        const config = await v2<{ compiled?: string }>(`/pipeline/${p.id}/config`, `the config of pipeline ${p.number}`);
        if ((config.compiled ?? '').includes(triggerId)) return p;
      }
      if (!list.next_page_token) return undefined;
      pageToken = list.next_page_token;
    }
    return undefined;
  };

  const withPipeline = (handle: CicdBuildHandle, p: { id: string; number: number }): CicdBuildHandle => ({ ...handle, pipelineId: p.id, number: p.number, buildId: `circleci:pipeline/${p.id}` });

  const trigger = async (job: CicdJobRef, params: CicdParams, idempotencyKey: string, options: CicdTriggerOptions = {}): Promise<CicdBuildHandle> => {
    const ref = circleRef(job);
    const definition = options.definition ?? (await describeJob(ref));
    const values = checkParameters('circleci', definition, params);
    const requestedAt = (options.requestedAt ?? new Date(now())).toISOString();
    const handle: CicdBuildHandle = { provider: 'circleci', job: ref, triggerId: idempotencyKey, requestedAt, correlation: 'trigger-id' };
    if (definition.idempotent) {
      const existing = await find(ref, idempotencyKey, requestedAt);
      if (existing) return withPipeline(handle, existing);
    }
    const parameters: Record<string, unknown> = { ...values };
    if (definition.idempotent) parameters[TRIGGER_ID_PIPELINE_PARAMETER] = idempotencyKey;
    const created = await request<{ id: string; number: number }>('POST', `/api/v2/project/${slugPath(ref.projectSlug)}/pipeline`, `project ${ref.projectSlug}`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ branch: ref.branch, parameters }),
    });
    // CircleCI checks the parameters against the config after accepting the pipeline: an errored one runs nothing.
    const pipeline = await v2<Pipeline>(`/pipeline/${created.id}`, `pipeline ${created.number}`);
    if (pipeline.state === 'errored') {
      const said = pipeline.errors.map((e) => e.message).join('; ');
      const unexpected = /Unexpected argument\(s\): (.+)/.exec(said)?.[1]?.split(/,\s*/);
      if (unexpected) throw new CicdError('circleci', 'undefined_parameter', `the config of ${ref.projectSlug} at ${ref.branch} does not define ${unexpected.map((n) => `"${n}"`).join(', ')}: pipeline ${pipeline.number} errored and ran nothing`, { parameters: unexpected });
      throw new CicdError('circleci', 'rejected', `CircleCI refused pipeline ${pipeline.number} of ${ref.projectSlug}: ${said}`);
    }
    return withPipeline(handle, created);
  };

  const locate = async (handle: CicdBuildHandle): Promise<CicdBuildHandle> => {
    if (handle.pipelineId !== undefined) return handle;
    const ref = circleRef(handle.job);
    const found = await find(ref, handle.triggerId, handle.requestedAt);
    if (!found) throw new CicdError('circleci', 'not_found', `no pipeline of trigger ${handle.triggerId} on ${ref.projectSlug} ${ref.branch} since ${handle.requestedAt}`);
    return withPipeline(handle, found);
  };

  const pipelineWithJobs = async (handle: CicdBuildHandle) => {
    const pipeline = await v2<Pipeline>(`/pipeline/${handle.pipelineId}`, `pipeline ${handle.number ?? handle.pipelineId}`);
    const { items: workflows } = await v2<{ items: Workflow[] }>(`/pipeline/${handle.pipelineId}/workflow`, `the workflows of pipeline ${pipeline.number}`);
    const jobs: { workflow: Workflow; job: Job }[] = [];
    for (const workflow of workflows) {
      const { items } = await v2<{ items: Job[] }>(`/workflow/${workflow.id}/job`, `the jobs of workflow ${workflow.name}`);
      for (const job of items) jobs.push({ workflow, job });
    }
    return { pipeline, workflows, jobs };
  };

  const status = async (h: CicdBuildHandle): Promise<CicdBuildStatus> => {
    const handle = await locate(h);
    const ref = circleRef(handle.job);
    const { pipeline, workflows, jobs } = await pipelineWithJobs(handle);
    const state = workflowsState(pipeline, workflows);
    const url = `${host.replace('://circleci.com', '://app.circleci.com')}/pipelines/${ref.projectSlug}/${pipeline.number}`;
    const out: CicdBuildStatus = {
      handle: { ...withPipeline(handle, pipeline), url },
      state,
      providerState: pipeline.state === 'errored' ? `errored: ${pipeline.errors.map((e) => e.message).join('; ')}` : workflows.map((w) => `${w.name}: ${w.status}`).join(', ') || pipeline.state,
      url,
      stages: jobs.map(({ workflow, job }) => {
        const stage: CicdStage = { name: `${workflow.name}/${job.name}`, state: JOB_STATES[job.status] ?? 'running' };
        if (job.started_at) stage.startedAt = job.started_at;
        if (job.started_at && job.stopped_at) stage.durationMs = Date.parse(job.stopped_at) - Date.parse(job.started_at);
        return stage;
      }),
      artifacts: [],
    };
    const started = workflows.map((w) => w.created_at).sort()[0];
    if (started) out.startedAt = started;
    if (state !== 'queued' && state !== 'running') {
      const stopped = workflows.map((w) => w.stopped_at).filter((s): s is string => Boolean(s)).sort().at(-1);
      if (stopped) out.finishedAt = stopped;
      for (const { job } of jobs) {
        if (job.job_number === undefined || job.status !== 'success') continue;
        const { items } = await v2<{ items: { path: string; url: string }[] }>(`/project/${slugPath(ref.projectSlug)}/${job.job_number}/artifacts`, `the artifacts of job ${job.name}`);
        out.artifacts.push(...items.map((a) => ({ name: a.path, url: a.url })));
      }
    }
    return out;
  };

  /** Cursor: `job.step.action` of every step whose output was delivered; CircleCI links a step's output once it ends. */
  const logs = async (h: CicdBuildHandle, cursor?: string): Promise<CicdLogChunk> => {
    const handle = await locate(h);
    const ref = circleRef(handle.job);
    const delivered = new Set((cursor ?? '').split(',').filter(Boolean));
    if ([...delivered].some((k) => !/^\d+\.\d+\.\d+$/.test(k))) throw new CicdError('circleci', 'rejected', `"${cursor}" is not a CircleCI log cursor`);
    const { pipeline, workflows, jobs } = await pipelineWithJobs(handle);
    let text = '';
    let pending = false;
    for (const { workflow, job } of jobs.sort((a, b) => (a.job.job_number ?? Infinity) - (b.job.job_number ?? Infinity))) {
      if (job.job_number === undefined) {
        if (!FINISHED_JOB.has(job.status)) pending = true;
        continue;
      }
      const build = await request<V1Build>('GET', `/api/v1.1/project/${v1Slug(ref.projectSlug)}/${job.job_number}`, `job ${job.name}`);
      for (const step of build.steps ?? []) {
        for (const action of step.actions) {
          const key = `${job.job_number}.${action.step}.${action.index}`;
          if (delivered.has(key)) continue;
          if (!action.output_url) {
            pending = true;
            continue;
          }
          // The output lives behind a signed URL of its own: no token goes there.
          const res = await http.request('GET', action.output_url, { followRedirects: true });
          if (res.status !== 200) throw http.failure(res, `the output of ${job.name} › ${step.name}`);
          const messages = jsonBody<{ message: string }[]>('circleci', host, res);
          const body = messages.map((m) => m.message).join('').replace(/\r\n/g, '\n');
          text += `##[drydock] ${workflow.name}/${job.name} › ${step.name}\n${body}${body === '' || body.endsWith('\n') ? '' : '\n'}`;
          delivered.add(key);
        }
      }
      if (!FINISHED_JOB.has(job.status)) pending = true;
    }
    const state = workflowsState(pipeline, workflows);
    const complete = state !== 'queued' && state !== 'running' && !pending;
    return { text, cursor: [...delivered].join(','), complete };
  };

  const cancel = async (h: CicdBuildHandle): Promise<void> => {
    const handle = await locate(h);
    const { items: workflows } = await v2<{ items: Workflow[] }>(`/pipeline/${handle.pipelineId}/workflow`, `the workflows of pipeline ${handle.number}`);
    for (const w of workflows) {
      if (['success', 'failed', 'error', 'canceled', 'unauthorized', 'not_run'].includes(w.status)) continue;
      await request('POST', `/api/v2/workflow/${w.id}/cancel`, `workflow ${w.name}`);
    }
  };

  const testConnection = async (job?: CicdJobRef): Promise<CicdConnectionReport> => {
    const checks = connectionReport();
    let personal = true;
    const signedIn = await checks.check('token', async () => {
      try {
        const me = await v2<{ login?: string }>('/me', 'the token’s user');
        if (typeof me.login !== 'string') throw new CicdError('circleci', 'wrong_url', `${host} did not answer as CircleCI's API: is it the address of CircleCI?`);
        return `personal token of ${me.login}`;
      } catch (err) {
        // A project token cannot read /me: it is judged by the project it belongs to.
        if (err instanceof CicdError && err.reason === 'bad_credentials' && job) {
          personal = false;
          return 'not a personal token: checked against the project below';
        }
        throw err;
      }
    });
    if (!signedIn || !job) return checks.report();
    const ref = circleRef(job);
    const readable = await checks.check(`project ${ref.projectSlug}`, async () => {
      try {
        const project = await v2<{ slug?: string; name?: string }>(`/project/${slugPath(ref.projectSlug)}`, `project ${ref.projectSlug}`);
        return `${project.slug}${personal ? '' : ' (project token)'}`;
      } catch (err) {
        if (err instanceof CicdError && err.reason === 'permission_denied') err.missing.push(personal ? `read access to ${ref.projectSlug}` : 'a project token scope of read-only or admin');
        if (err instanceof CicdError && err.reason === 'bad_credentials' && !personal) throw new CicdError('circleci', 'bad_credentials', 'CircleCI refused the token for /me and for the project: it is wrong, expired or revoked');
        throw err;
      }
    });
    if (readable) await checks.check(`config on ${ref.branch}`, async () => {
      const d = await describeJob(ref);
      if (!d.lastBuild) return `no pipeline has run on ${ref.branch} yet, so its parameters are unknown until one has`;
      return `${d.parameters.length} pipeline parameter(s)${d.idempotent ? '' : `; the config does not pass << pipeline.parameters.${TRIGGER_ID_PIPELINE_PARAMETER} >> to a job, so a trigger retried after a crash could start a second pipeline`}`;
    });
    return checks.report();
  };

  const verifyWebhook = (headers: CicdHeaders, body: string | Uint8Array, secret: string): CicdWebhookVerdict => {
    const header = headerValue(headers, 'circleci-signature');
    if (!header) return { ok: false, reason: 'unsigned', message: 'the CircleCI delivery carries no circleci-signature header: set a signing secret on the webhook' };
    const expected = hmacSha256Hex(secret, body);
    // The header may list several signatures (`v1=…,v1=…`) while a secret is rotated: any v1 that matches will do.
    const matches = header.split(',').some((part) => {
      const [version, value] = part.trim().split('=');
      return version === 'v1' && value !== undefined && sameSecret(value, expected);
    });
    if (!matches) return { ok: false, reason: 'forged', message: 'the CircleCI delivery’s circleci-signature does not match its body and this connection’s signing secret' };
    const json = jsonObject(body);
    if (!json) return { ok: false, reason: 'malformed', message: 'the CircleCI delivery is not a JSON object' };
    const type = String(json['type'] ?? headerValue(headers, 'circleci-event-type') ?? '');
    const pipelineId = (json['pipeline'] as { id?: string } | undefined)?.id;
    const deliveryId = typeof json['id'] === 'string' ? json['id'] : undefined;
    const common = { provider: 'circleci' as const, type, ...(deliveryId ? { deliveryId } : {}), ...(pipelineId ? { buildId: `circleci:pipeline/${pipelineId}` } : {}) };
    if (type === 'workflow-completed') {
      const status = (json['workflow'] as { status?: string } | undefined)?.status ?? '';
      const state: CicdBuildState = status === 'success' ? 'succeeded' : status === 'canceled' ? 'cancelled' : 'failed';
      return { ok: true, event: { ...common, kind: 'build', state } };
    }
    if (type === 'job-completed') {
      const j = json['job'] as { name?: string; status?: string } | undefined;
      const w = json['workflow'] as { name?: string } | undefined;
      const state = JOB_STATES[j?.status ?? ''];
      return { ok: true, event: { ...common, kind: 'stage', stage: `${w?.name}/${j?.name}`, ...(state && state !== 'skipped' ? { state } : {}) } };
    }
    return { ok: true, event: { ...common, kind: 'other' } };
  };

  return { kind: 'circleci', testConnection, describeJob, trigger, status, logs, cancel, verifyWebhook };
}
