import { Gitlab } from '@gitbeaker/rest';
import { parseAllDocuments } from 'yaml';
import { callsThrough, CicdError, providerSaid, rateLimitFailure, unreachable } from '../cicd-error.ts';
import { checkParameters, TRIGGER_ID_PARAMETER } from '../parameters.ts';
import type { CicdBuildHandle, CicdBuildState, CicdBuildStatus, CicdConnectionReport, CicdHeaders, CicdJobDescription, CicdJobRef, CicdLogChunk, CicdParameterDefinition, CicdParams, CicdProvider, CicdStage, CicdTriggerOptions, CicdWebhookVerdict, GitlabJobRef } from '../provider.ts';
import { connectionReport } from '../connection-report.ts';
import { headerValue, jsonObject, sameSecret } from '../webhook-signature.ts';
import { GitlabHttpError, gitlabRequester, GitlabUnreachableError } from './gitlab-requester.ts';

export interface GitlabConnection {
  /** A personal, project or group access token with the `api` scope. */
  token: string;
  /** A self-managed instance: `https://gitlab.example.com`. Default gitlab.com. */
  url?: string;
}

export interface GitlabProviderOptions {
  fetch?: typeof fetch;
  requestTimeoutMs?: number;
  now?: () => number;
}

interface Pipeline {
  id: number;
  iid?: number;
  project_id: number;
  status: string;
  ref: string;
  web_url: string;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
}

interface Job {
  id: number;
  name: string;
  stage: string;
  status: string;
  web_url: string;
  started_at?: string | null;
  finished_at?: string | null;
  duration?: number | null;
  artifacts_file?: { filename: string; size: number } | null;
}

/** Developer: the least role that may run a pipeline. */
const DEVELOPER = 30;
const ROLES: Record<number, string> = { 10: 'Guest', 15: 'Planner', 20: 'Reporter', 30: 'Developer', 40: 'Maintainer', 50: 'Owner' };
const CLOCK_SKEW_MS = 60_000;

const PIPELINE_STATES: Record<string, CicdBuildState> = {
  created: 'queued',
  waiting_for_resource: 'queued',
  preparing: 'queued',
  pending: 'queued',
  scheduled: 'queued',
  manual: 'queued',
  waiting_for_callback: 'running',
  running: 'running',
  canceling: 'running',
  success: 'succeeded',
  failed: 'failed',
  canceled: 'cancelled',
  skipped: 'cancelled',
};

function pipelineState(status: string): CicdBuildState {
  return PIPELINE_STATES[status] ?? 'running';
}

function jobState(status: string): CicdStage['state'] {
  if (status === 'skipped') return 'skipped';
  return pipelineState(status);
}

const FINISHED = new Set(['success', 'failed', 'canceled', 'skipped']);

function gitlabRef(job: CicdJobRef): GitlabJobRef {
  if (job.provider !== 'gitlab') throw new CicdError('gitlab', 'rejected', `a ${job.provider} job cannot be run by the GitLab provider`);
  return job;
}

/**
 * The pipeline's prefilled variables: top-level `variables` with a `description`, which GitLab offers in its Run
 * pipeline form (https://docs.gitlab.com/ci/pipelines/#prefill-variables-in-manual-pipelines). `include`d files are
 * not followed.
 */
export function prefilledVariables(source: string): CicdParameterDefinition[] {
  const docs = parseAllDocuments(source);
  const config = docs
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`.gitlab-ci.yml is not valid YAML: ${d.errors[0]!.message.split('\n')[0]}`);
      return d.toJS() as Record<string, unknown> | null;
    })
    .filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object' && !(Object.keys(d).length === 1 && 'spec' in d))
    .at(-1);
  const variables = (config?.['variables'] ?? {}) as Record<string, unknown>;
  const out: CicdParameterDefinition[] = [];
  for (const [name, raw] of Object.entries(variables)) {
    if (!raw || typeof raw !== 'object' || typeof (raw as { description?: unknown }).description !== 'string') continue;
    const spec = raw as { value?: unknown; options?: unknown; description: string };
    const def: CicdParameterDefinition = { name, type: Array.isArray(spec.options) ? 'choice' : 'string', description: spec.description };
    if (spec.value !== undefined && spec.value !== null) def.default = String(spec.value);
    if (Array.isArray(spec.options)) def.choices = spec.options.map(String);
    out.push(def);
  }
  return out;
}

/** GitLab CI/CD through @gitbeaker/rest: https://docs.gitlab.com/api/pipelines/. */
export function createGitlabProvider(connection: GitlabConnection, options: GitlabProviderOptions = {}): CicdProvider {
  const host = (connection.url ?? 'https://gitlab.com').replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const api = new Gitlab({
    host,
    token: connection.token,
    queryTimeout: options.requestTimeoutMs ?? 30_000,
    requesterFn: gitlabRequester(options.fetch),
  });

  const failure = (err: unknown, what: string): CicdError => {
    if (err instanceof CicdError) return err;
    if (err instanceof GitlabUnreachableError) return unreachable('gitlab', host, err.cause);
    if (!(err instanceof GitlabHttpError)) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError' || err.name === 'GitbeakerTimeoutError')) return unreachable('gitlab', host, err);
      throw err;
    }
    const header = (name: string) => err.headers[name];
    const limited = rateLimitFailure('gitlab', host, err.status, header, now());
    if (limited) return limited;
    const body = err.body as { message?: unknown; error?: string; error_description?: string; scope?: string } | string | undefined;
    let said = '';
    if (typeof body === 'string') said = providerSaid(body);
    else if (body?.error_description) said = body.error_description;
    else if (typeof body?.message === 'string') said = body.message;
    else if (body?.message && typeof body.message === 'object') said = Object.values(body.message as Record<string, unknown>).flat().join('; ');
    const detail = said ? `: ${said}` : '';
    if (typeof body === 'string' && err.status !== 502 && err.status < 500) {
      return new CicdError('gitlab', 'wrong_url', `${host} answered HTTP ${err.status} with a page, not GitLab's JSON API: is it the address of GitLab?`);
    }
    if (err.status === 401) return new CicdError('gitlab', 'bad_credentials', `GitLab refused the token (HTTP 401${detail}); it may be wrong, expired or revoked`);
    if (err.status === 403) {
      // A token without the scope is refused with insufficient_scope, naming the scope it needs.
      const scope = typeof body === 'object' && body?.error === 'insufficient_scope' ? (body.scope ?? /scope="([^"]+)"/.exec(header('www-authenticate') ?? '')?.[1]) : undefined;
      const missing = scope ? [scope] : [];
      return new CicdError('gitlab', 'permission_denied', `GitLab does not allow this for ${what} (HTTP 403${detail})${scope ? `; the token lacks the ${scope} scope` : ''}`, { missing });
    }
    if (err.status === 404) return new CicdError('gitlab', 'not_found', `${what} was not found on GitLab (HTTP 404${detail}): check the name, and that the token may see it`);
    if (err.status >= 500) return new CicdError('gitlab', 'unavailable', `${host} could not answer (HTTP ${err.status}${detail}); try again later`);
    return new CicdError('gitlab', 'rejected', `GitLab refused the request for ${what} (HTTP ${err.status}${detail})`);
  };

  const call = callsThrough(failure);

  let username: Promise<string> | undefined;
  const me = (): Promise<string> => {
    username ??= call('the token’s user', () => api.Users.showCurrentUser() as Promise<{ username?: string }>).then(
      (u) => {
        if (typeof u?.username !== 'string') throw new CicdError('gitlab', 'wrong_url', `${host} did not answer as GitLab's API: is it the address of GitLab?`);
        return u.username;
      },
      (err: unknown) => {
        username = undefined;
        throw err;
      },
    );
    return username;
  };

  const project = (ref: GitlabJobRef) => `project ${ref.project}`;
  const buildId = (projectId: number, pipelineId: number) => `gitlab:project/${projectId}/pipelines/${pipelineId}`;
  const withPipeline = (handle: CicdBuildHandle, p: Pipeline): CicdBuildHandle => ({ ...handle, runId: p.id, buildId: buildId(p.project_id, p.id), url: p.web_url, ...(p.iid !== undefined ? { number: p.iid } : {}) });

  const describeJob = async (job: CicdJobRef): Promise<CicdJobDescription> => {
    const ref = gitlabRef(job);
    const info = (await call(project(ref), () => api.Projects.show(ref.project))) as { name_with_namespace?: string; path_with_namespace?: string; web_url?: string; jobs_enabled?: boolean; archived?: boolean };
    if (typeof info?.path_with_namespace !== 'string') throw new CicdError('gitlab', 'wrong_url', `${host} did not answer as GitLab's API: is it the address of GitLab?`);
    const source = (await call(`.gitlab-ci.yml at ${ref.ref} in ${project(ref)}`, () => api.RepositoryFiles.showRaw(ref.project, '.gitlab-ci.yml', ref.ref))) as unknown;
    let parameters: CicdParameterDefinition[];
    try {
      parameters = prefilledVariables(typeof source === 'string' ? source : String(source));
    } catch (err) {
      throw new CicdError('gitlab', 'rejected', `${project(ref)} at ${ref.ref}: ${(err as Error).message}`);
    }
    const last = (await call(project(ref), () => api.Pipelines.all(ref.project, { ref: ref.ref, perPage: 1, maxPages: 1 }))) as Pipeline[];
    const description: CicdJobDescription = {
      ref,
      name: `${info.path_with_namespace} @ ${ref.ref}`,
      buildable: info.jobs_enabled !== false && info.archived !== true,
      parameters,
      idempotent: true,
    };
    if (info.web_url) description.url = `${info.web_url}/-/pipelines`;
    if (last[0]) description.lastBuild = { buildId: buildId(last[0].project_id, last[0].id), number: last[0].iid ?? last[0].id, state: pipelineState(last[0].status), url: last[0].web_url };
    return description;
  };

  /** The pipeline this trigger id started: the token user's API pipelines on the ref since `requestedAt`, by their variables. */
  const find = async (ref: GitlabJobRef, triggerId: string, requestedAt: string): Promise<Pipeline | undefined> => {
    const user = await me();
    const since = new Date(Date.parse(requestedAt) - CLOCK_SKEW_MS).toISOString();
    const candidates = (await call(project(ref), () => api.Pipelines.all(ref.project, { ref: ref.ref, source: 'api', username: user, updatedAfter: since, orderBy: 'id', sort: 'desc', perPage: 50, maxPages: 1 }))) as Pipeline[];
    for (const p of candidates) {
      const variables = (await call(`the variables of pipeline ${p.id}`, () => api.Pipelines.allVariables(ref.project, p.id))) as { key: string; value: string }[];
      if (variables.some((v) => v.key === TRIGGER_ID_PARAMETER && v.value === triggerId)) return p;
    }
    return undefined;
  };

  const trigger = async (job: CicdJobRef, params: CicdParams, idempotencyKey: string, options: CicdTriggerOptions = {}): Promise<CicdBuildHandle> => {
    const ref = gitlabRef(job);
    const definition = options.definition ?? (await describeJob(ref));
    const values = checkParameters('gitlab', definition, params);
    if (!definition.buildable) throw new CicdError('gitlab', 'not_buildable', `${definition.name} cannot run pipelines (CI/CD is off or the project is archived)`);
    const requestedAt = (options.requestedAt ?? new Date(now())).toISOString();
    const handle: CicdBuildHandle = { provider: 'gitlab', job: ref, triggerId: idempotencyKey, requestedAt, correlation: 'trigger-id' };
    const existing = await find(ref, idempotencyKey, requestedAt);
    if (existing) return withPipeline(handle, existing);
    const variables = [...Object.entries(values).map(([key, value]) => ({ key, value: String(value), variable_type: 'env_var' })), { key: TRIGGER_ID_PARAMETER, value: idempotencyKey, variable_type: 'env_var' }];
    try {
      const created = (await api.Pipelines.create(ref.project, ref.ref, { variables: variables as never })) as unknown as Pipeline;
      return withPipeline(handle, created);
    } catch (err) {
      const mapped = failure(err, `${project(ref)} at ${ref.ref}`);
      if (mapped.reason === 'rejected' && /pipeline variables/i.test(mapped.message)) {
        throw new CicdError('gitlab', 'permission_denied', `${project(ref)} does not let this token's user set pipeline variables, which Drydock needs for parameters and to find its pipeline again: allow pipeline variables for the user's role (Settings → CI/CD → Variables)`, { missing: ['pipeline variables'] });
      }
      if (mapped.reason === 'rejected' && /Reference not found/i.test(mapped.message)) throw new CicdError('gitlab', 'not_found', `${project(ref)} has no branch or tag ${ref.ref}`);
      throw mapped;
    }
  };

  const locate = async (handle: CicdBuildHandle): Promise<CicdBuildHandle> => {
    if (handle.runId !== undefined) return handle;
    const ref = gitlabRef(handle.job);
    const found = await find(ref, handle.triggerId, handle.requestedAt);
    if (!found) throw new CicdError('gitlab', 'not_found', `no pipeline of trigger ${handle.triggerId} in ${project(ref)} since ${handle.requestedAt}`);
    return withPipeline(handle, found);
  };

  const jobsOf = async (ref: GitlabJobRef, pipelineId: number) =>
    ((await call(`the jobs of pipeline ${pipelineId}`, () => api.Jobs.all(ref.project, { pipelineId, perPage: 100, maxPages: 5 }))) as unknown as Job[]).sort((a, b) => a.id - b.id);

  const status = async (h: CicdBuildHandle): Promise<CicdBuildStatus> => {
    const handle = await locate(h);
    const ref = gitlabRef(handle.job);
    const pipeline = (await call(`pipeline ${handle.runId}`, () => api.Pipelines.show(ref.project, handle.runId!))) as unknown as Pipeline;
    const jobs = await jobsOf(ref, pipeline.id);
    const out: CicdBuildStatus = {
      handle: withPipeline(handle, pipeline),
      state: pipelineState(pipeline.status),
      providerState: pipeline.status,
      url: pipeline.web_url,
      stages: jobs.map((j) => {
        const stage: CicdStage = { name: `${j.stage}/${j.name}`, state: jobState(j.status), url: j.web_url };
        if (j.started_at) stage.startedAt = j.started_at;
        if (typeof j.duration === 'number') stage.durationMs = Math.round(j.duration * 1000);
        return stage;
      }),
      artifacts: jobs.filter((j) => j.artifacts_file).map((j) => ({ name: `${j.name}: ${j.artifacts_file!.filename}`, url: `${host}/api/v4/projects/${encodeURIComponent(ref.project)}/jobs/${j.id}/artifacts`, sizeBytes: j.artifacts_file!.size })),
    };
    if (pipeline.started_at) out.startedAt = pipeline.started_at;
    if (pipeline.finished_at) out.finishedAt = pipeline.finished_at;
    return out;
  };

  /** Cursor: `job:offset` per job, `!` once a finished job's trace was delivered whole. */
  const logs = async (h: CicdBuildHandle, cursor?: string): Promise<CicdLogChunk> => {
    const handle = await locate(h);
    const ref = gitlabRef(handle.job);
    const offsets = new Map<number, { offset: number; done: boolean }>();
    for (const part of (cursor ?? '').split(',').filter(Boolean)) {
      const m = /^(\d+):(\d+)(!?)$/.exec(part);
      if (!m) throw new CicdError('gitlab', 'rejected', `"${cursor}" is not a GitLab log cursor`);
      offsets.set(Number(m[1]), { offset: Number(m[2]), done: m[3] === '!' });
    }
    const pipeline = (await call(`pipeline ${handle.runId}`, () => api.Pipelines.show(ref.project, handle.runId!))) as unknown as Pipeline;
    const jobs = await jobsOf(ref, pipeline.id);
    let text = '';
    for (const job of jobs) {
      const at = offsets.get(job.id) ?? { offset: 0, done: false };
      if (at.done || job.status === 'created' || job.status === 'pending' || job.status === 'manual' || job.status === 'scheduled' || job.status === 'skipped') continue;
      const finished = FINISHED.has(job.status);
      // GitLab serves the whole trace each time; the offset is in bytes of it.
      const trace = Buffer.from(String((await call(`the trace of job ${job.name}`, () => api.Jobs.showLog(ref.project, job.id))) ?? ''), 'utf8');
      const end = finished ? trace.length : trace.lastIndexOf(0x0a) + 1;
      if (end > at.offset) {
        const chunk = trace.subarray(at.offset, end).toString('utf8');
        text += `${at.offset === 0 ? `##[drydock] job ${job.stage}/${job.name}\n` : ''}${chunk}${finished && !chunk.endsWith('\n') ? '\n' : ''}`;
      }
      offsets.set(job.id, { offset: Math.max(end, at.offset), done: finished });
    }
    const complete = FINISHED.has(pipeline.status) && jobs.every((j) => j.status === 'skipped' || j.status === 'created' || offsets.get(j.id)?.done);
    const next = [...offsets.entries()].sort(([a], [b]) => a - b).map(([id, o]) => `${id}:${o.offset}${o.done ? '!' : ''}`);
    return { text, cursor: next.join(','), complete };
  };

  const cancel = async (h: CicdBuildHandle): Promise<void> => {
    const handle = await locate(h);
    const ref = gitlabRef(handle.job);
    await call(`pipeline ${handle.runId}`, () => api.Pipelines.cancel(ref.project, handle.runId!));
  };

  const testConnection = async (job?: CicdJobRef): Promise<CicdConnectionReport> => {
    const checks = connectionReport();
    const signedIn = await checks.check('token', async () => `signed in as ${await me()}`);
    if (!signedIn) return checks.report();
    await checks.check('token scopes', async () => {
      const self = (await call('the token', () => api.PersonalAccessTokens.show())) as { scopes?: string[]; expires_at?: string | null };
      const scopes = self.scopes ?? [];
      if (!scopes.includes('api')) {
        throw new CicdError('gitlab', 'permission_denied', `the token has ${scopes.join(', ') || 'no'} scope(s): running and cancelling pipelines needs the api scope`, { missing: ['api'] });
      }
      return `scopes ${scopes.join(', ')}${self.expires_at ? `; expires ${self.expires_at}` : ''}`;
    });
    if (!job) return checks.report();
    const ref = gitlabRef(job);
    await checks.check(project(ref), async () => {
      const info = (await call(project(ref), () => api.Projects.show(ref.project))) as { path_with_namespace: string; permissions?: { project_access?: { access_level: number } | null; group_access?: { access_level: number } | null } };
      const level = Math.max(info.permissions?.project_access?.access_level ?? 0, info.permissions?.group_access?.access_level ?? 0);
      if (level < DEVELOPER) {
        throw new CicdError('gitlab', 'permission_denied', `the token's user is ${ROLES[level] ?? 'not a member'} of ${info.path_with_namespace}; running pipelines needs Developer or more`, { missing: ['Developer role'] });
      }
      return `${info.path_with_namespace}: ${ROLES[level] ?? level}`;
    });
    await checks.check(`.gitlab-ci.yml at ${ref.ref}`, async () => {
      const d = await describeJob(ref);
      return `${d.parameters.length} prefilled variable(s)`;
    });
    return checks.report();
  };

  const verifyWebhook = (headers: CicdHeaders, body: string | Uint8Array, secret: string): CicdWebhookVerdict => {
    const token = headerValue(headers, 'x-gitlab-token');
    if (token === undefined) return { ok: false, reason: 'unsigned', message: 'the GitLab delivery carries no X-Gitlab-Token: set a secret token on the webhook' };
    if (!sameSecret(token, secret)) return { ok: false, reason: 'forged', message: 'the GitLab delivery’s X-Gitlab-Token is not this connection’s webhook secret' };
    const json = jsonObject(body);
    if (!json) return { ok: false, reason: 'malformed', message: 'the GitLab delivery is not a JSON object' };
    const type = headerValue(headers, 'x-gitlab-event') ?? String(json['object_kind'] ?? '');
    const deliveryId = headerValue(headers, 'x-gitlab-event-uuid');
    const common = { provider: 'gitlab' as const, type, ...(deliveryId ? { deliveryId } : {}) };
    if (json['object_kind'] === 'pipeline') {
      const attrs = json['object_attributes'] as { id?: number; status?: string; variables?: { key: string; value: string }[] } | undefined;
      const projectId = (json['project'] as { id?: number } | undefined)?.id;
      if (!attrs?.id || !projectId) return { ok: false, reason: 'malformed', message: 'the Pipeline Hook has no object_attributes.id or project.id' };
      const triggerId = attrs.variables?.find((v) => v.key === TRIGGER_ID_PARAMETER)?.value;
      return { ok: true, event: { ...common, kind: 'build', buildId: buildId(projectId, attrs.id), state: pipelineState(attrs.status ?? 'running'), ...(triggerId ? { triggerId } : {}) } };
    }
    if (json['object_kind'] === 'build') {
      const pipelineId = json['pipeline_id'];
      const projectId = json['project_id'];
      if (typeof pipelineId !== 'number' || typeof projectId !== 'number') return { ok: false, reason: 'malformed', message: 'the Job Hook has no pipeline_id or project_id' };
      return { ok: true, event: { ...common, kind: 'stage', buildId: buildId(projectId, pipelineId), state: pipelineState(String(json['build_status'] ?? 'running')), stage: `${String(json['build_stage'])}/${String(json['build_name'])}` } };
    }
    return { ok: true, event: { ...common, kind: 'other' } };
  };

  return { kind: 'gitlab', testConnection, describeJob, trigger, status, logs, cancel, verifyWebhook };
}
