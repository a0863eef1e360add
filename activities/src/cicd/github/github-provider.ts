import { Octokit } from '@octokit/rest';
import { callsThrough, CicdError, lacking, providerSaid, rateLimitFailure, unreachable } from '../cicd-error.ts';
import { checkParameters } from '../parameters.ts';
import type { CicdBuildHandle, CicdBuildState, CicdBuildStatus, CicdConnectionReport, CicdHeaders, CicdJobDescription, CicdJobRef, CicdLogChunk, CicdParams, CicdProvider, CicdStage, CicdTriggerOptions, CicdWebhookVerdict, GithubJobRef } from '../provider.ts';
import { connectionReport } from '../connection-report.ts';
import { headerValue, hmacSha256Hex, jsonObject, sameSecret } from '../webhook-signature.ts';
import { readWorkflowFile, TRIGGER_ID_INPUT } from './workflow-file.ts';

export interface GithubConnection {
  /** A personal access token (classic or fine-grained) or an installation token. */
  token: string;
  /** GitHub Enterprise Server: `https://ghe.example.com/api/v3`. Default api.github.com. */
  apiUrl?: string;
}

export interface GithubProviderOptions {
  fetch?: typeof fetch;
  requestTimeoutMs?: number;
  now?: () => number;
  /** How long `trigger` looks for the run a dispatch created before it returns a handle without one. Default 10 s. */
  findRunTimeoutMs?: number;
  /** Pause between looks. Default 1 s. */
  findRunIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

interface HttpErrorLike {
  name: string;
  status: number;
  message: string;
  response?: { headers: Record<string, string | undefined>; data: unknown };
  cause?: unknown;
}

function isHttpError(err: unknown): err is HttpErrorLike {
  return err instanceof Error && err.name === 'HttpError' && typeof (err as { status?: unknown }).status === 'number';
}

function githubRef(job: CicdJobRef): GithubJobRef {
  if (job.provider !== 'github') throw new CicdError('github', 'rejected', `a ${job.provider} job cannot be run by the GitHub provider`);
  return job;
}

/** `actions=write; contents=read` → `actions:write`, `contents:read`. */
function acceptedPermissions(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/[;,]/)
    .map((p) => p.trim().replace('=', ':'))
    .filter(Boolean);
}

function runState(status: string | null | undefined, conclusion: string | null | undefined): CicdBuildState {
  if (status !== 'completed') return status === 'in_progress' ? 'running' : 'queued';
  if (conclusion === 'success' || conclusion === 'neutral') return 'succeeded';
  if (conclusion === 'cancelled' || conclusion === 'skipped') return 'cancelled';
  return 'failed';
}

function stageState(status: string | null | undefined, conclusion: string | null | undefined): CicdStage['state'] {
  if (status === 'completed' && conclusion === 'skipped') return 'skipped';
  return runState(status, conclusion);
}

/** Look-back for runs a dispatch created: GitHub's clock and ours may differ by some seconds. */
const CLOCK_SKEW_MS = 60_000;

/** GitHub Actions through @octokit/rest: https://docs.github.com/rest/actions. */
export function createGithubProvider(connection: GithubConnection, options: GithubProviderOptions = {}): CicdProvider {
  const base = (connection.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const timeout = options.requestTimeoutMs ?? 30_000;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const findRunTimeoutMs = options.findRunTimeoutMs ?? 10_000;
  const findRunIntervalMs = options.findRunIntervalMs ?? 1_000;
  const octokit = new Octokit({
    auth: connection.token,
    baseUrl: base,
    userAgent: 'drydock',
    // The client logs nothing: failures come back as CicdErrors.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    request: { fetch: (url: string, init: RequestInit) => doFetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(timeout) }) },
  });
  let login: Promise<string> | undefined;
  /** GitHub Enterprise Server refuses `return_run_details` (api.github.com only); learned once per provider. */
  let runDetails = true;

  const failure = (err: unknown, what: string): CicdError => {
    if (err instanceof CicdError) return err;
    if (!isHttpError(err) || !err.response) return unreachable('github', base, isHttpError(err) ? (err.cause ?? err) : err);
    const headers = err.response.headers;
    const header = (name: string) => headers[name];
    const limited = rateLimitFailure('github', base, err.status, header, now());
    if (limited) return limited;
    const data = err.response.data;
    const said = typeof data === 'string' ? providerSaid(data) : typeof (data as { message?: unknown })?.message === 'string' ? (data as { message: string }).message : '';
    if (typeof data === 'string' && err.status < 400) return new CicdError('github', 'wrong_url', `${base} did not answer as GitHub's API: is it the API URL (https://ghe.example.com/api/v3 for GitHub Enterprise)?`);
    const detail = said ? `: ${said}` : '';
    if (err.status === 401) return new CicdError('github', 'bad_credentials', `GitHub refused the token (HTTP 401${detail}); it may be wrong, expired or revoked`);
    if (err.status === 403) {
      const fine = acceptedPermissions(header('x-accepted-github-permissions'));
      const granted = (header('x-oauth-scopes') ?? '').split(',').map((s) => s.trim());
      const scopes = (header('x-accepted-oauth-scopes') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && !granted.includes(s));
      const missing = [...fine, ...scopes];
      return new CicdError('github', 'permission_denied', `GitHub does not allow this for ${what} (HTTP 403${detail})${missing.length > 0 ? `; the token lacks ${missing.join(', ')}` : ''}`, { missing });
    }
    if (err.status === 404) {
      const scope = header('x-accepted-oauth-scopes');
      const hint = scope && !(header('x-oauth-scopes') ?? '').includes(scope.split(',')[0]!.trim()) ? ` (a classic token needs the ${scope} scope to see a private repository)` : '';
      return new CicdError('github', 'not_found', `${what} was not found on GitHub (HTTP 404)${hint}: check the name, and that the token may see it`, scope && hint ? { missing: [scope] } : {});
    }
    if (err.status >= 500) return new CicdError('github', 'unavailable', `${base} could not answer (HTTP ${err.status}${detail}); try again later`);
    return new CicdError('github', 'rejected', `GitHub refused the request for ${what} (HTTP ${err.status}${detail})`);
  };

  const call = callsThrough(failure);

  const me = (): Promise<string> => {
    login ??= call('the authenticated user', () => octokit.rest.users.getAuthenticated()).then(
      (res) => {
        if (typeof res.data?.login !== 'string') throw new CicdError('github', 'wrong_url', `${base} did not answer as GitHub's API: is it the API URL (https://ghe.example.com/api/v3 for GitHub Enterprise)?`);
        return res.data.login;
      },
      (err: unknown) => {
        login = undefined;
        throw err;
      },
    );
    return login;
  };

  const where = (ref: GithubJobRef) => `${ref.owner}/${ref.repo}`;
  const workflowName = (ref: GithubJobRef) => `workflow ${ref.workflow} of ${where(ref)}`;
  const buildId = (ref: GithubJobRef, runId: number) => `github:${where(ref)}/runs/${runId}`;

  const describeJob = async (job: CicdJobRef): Promise<CicdJobDescription> => {
    const ref = githubRef(job);
    const { data: workflow } = await call(workflowName(ref), () => octokit.rest.actions.getWorkflow({ owner: ref.owner, repo: ref.repo, workflow_id: ref.workflow }));
    const { data: content } = await call(`${workflow.path} at ${ref.ref} in ${where(ref)}`, () => octokit.rest.repos.getContent({ owner: ref.owner, repo: ref.repo, path: workflow.path, ref: ref.ref }));
    if (Array.isArray(content) || content.type !== 'file' || !('content' in content)) throw new CicdError('github', 'rejected', `${workflow.path} in ${where(ref)} is not a file`);
    let file;
    try {
      file = readWorkflowFile(Buffer.from(content.content, 'base64').toString('utf8'));
    } catch (err) {
      throw new CicdError('github', 'rejected', `${workflow.path} at ${ref.ref}: ${(err as Error).message}`);
    }
    const { data: runs } = await call(workflowName(ref), () => octokit.rest.actions.listWorkflowRuns({ owner: ref.owner, repo: ref.repo, workflow_id: ref.workflow, per_page: 1 }));
    const description: CicdJobDescription = {
      ref,
      name: workflow.name,
      url: workflow.html_url,
      buildable: workflow.state === 'active' && file.dispatchable,
      parameters: file.inputs,
      idempotent: file.echoesTriggerId,
    };
    const last = runs.workflow_runs[0];
    if (last) description.lastBuild = { buildId: buildId(ref, last.id), number: last.run_number, state: runState(last.status, last.conclusion), url: last.html_url };
    return description;
  };

  /** The run whose name carries this trigger id, among the workflow's dispatched runs since `requestedAt`. */
  const findByTriggerId = async (ref: GithubJobRef, triggerId: string, requestedAt: string) => {
    const created = `>=${new Date(Date.parse(requestedAt) - CLOCK_SKEW_MS).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
    for (let page = 1; page <= 5; page++) {
      const { data } = await call(workflowName(ref), () => octokit.rest.actions.listWorkflowRuns({ owner: ref.owner, repo: ref.repo, workflow_id: ref.workflow, event: 'workflow_dispatch', branch: ref.ref, created, per_page: 100, page }));
      const found = data.workflow_runs.find((r) => (r.display_title ?? '').includes(triggerId));
      if (found) return found;
      if (data.workflow_runs.length < 100) return undefined;
    }
    return undefined;
  };

  /**
   * Without the trigger id in the run name: the oldest run of this workflow dispatched by this token's user on this
   * ref since the dispatch began. Right as long as Drydock is the only one dispatching it with these credentials.
   */
  const findByActor = async (ref: GithubJobRef, requestedAt: string) => {
    const actor = await me();
    const since = Date.parse(requestedAt) - 2_000;
    const { data } = await call(workflowName(ref), () =>
      octokit.rest.actions.listWorkflowRuns({ owner: ref.owner, repo: ref.repo, workflow_id: ref.workflow, event: 'workflow_dispatch', branch: ref.ref, actor, created: `>=${new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z')}`, per_page: 100 }),
    );
    return data.workflow_runs.filter((r) => Date.parse(r.created_at) >= since).sort((a, b) => a.id - b.id)[0];
  };

  const withRun = (handle: CicdBuildHandle, ref: GithubJobRef, run: { id: number; run_number: number; html_url: string }): CicdBuildHandle => ({ ...handle, runId: run.id, number: run.run_number, url: run.html_url, buildId: buildId(ref, run.id) });

  const locate = async (handle: CicdBuildHandle, ref: GithubJobRef) => {
    if (handle.runId !== undefined) return handle;
    const run = handle.correlation === 'actor' ? await findByActor(ref, handle.requestedAt) : await findByTriggerId(ref, handle.triggerId, handle.requestedAt);
    return run ? withRun(handle, ref, run) : handle;
  };

  const trigger = async (job: CicdJobRef, params: CicdParams, idempotencyKey: string, options: CicdTriggerOptions = {}): Promise<CicdBuildHandle> => {
    const ref = githubRef(job);
    const definition = options.definition ?? (await describeJob(ref));
    const values = checkParameters('github', definition, params);
    if (!definition.buildable) throw new CicdError('github', 'not_buildable', `${definition.name} cannot be run through the API: it needs an \`on: workflow_dispatch\` trigger and must be enabled`);
    const requestedAt = (options.requestedAt ?? new Date(now())).toISOString();
    const handle: CicdBuildHandle = { provider: 'github', job: ref, triggerId: idempotencyKey, requestedAt, correlation: definition.idempotent ? 'trigger-id' : 'actor' };
    if (definition.idempotent) {
      const existing = await findByTriggerId(ref, idempotencyKey, requestedAt);
      if (existing) return withRun(handle, ref, existing);
    }
    // Inputs travel as strings, as the Actions UI sends them; GitHub converts booleans and numbers by the input's type.
    const inputs: Record<string, string> = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
    if (definition.idempotent) inputs[TRIGGER_ID_INPUT] = idempotencyKey;
    const dispatchedAt = new Date(now()).toISOString();
    const dispatch = (details: boolean) =>
      octokit.rest.actions.createWorkflowDispatch({ owner: ref.owner, repo: ref.repo, workflow_id: ref.workflow, ref: ref.ref, inputs, ...(details ? { return_run_details: true } : {}) });
    let res;
    try {
      res = await dispatch(runDetails);
    } catch (err) {
      // A 422 means nothing was dispatched, so asking again without the api.github.com-only field is safe.
      if (runDetails && isHttpError(err) && err.status === 422 && /return_run_details/.test(err.message)) {
        runDetails = false;
        res = await call(workflowName(ref), () => dispatch(false));
      } else {
        throw dispatchFailure(err, ref);
      }
    }
    const answer = res as { status: number; data: unknown };
    const details = answer.status === 200 ? (answer.data as { workflow_run_id?: number; html_url?: string } | undefined) : undefined;
    if (details?.workflow_run_id) {
      return { ...handle, runId: details.workflow_run_id, buildId: buildId(ref, details.workflow_run_id), ...(details.html_url ? { url: details.html_url } : {}) };
    }
    // GitHub Enterprise Server answers 204 with no id: the run is found by its name, or by who dispatched it when.
    const pending: CicdBuildHandle = definition.idempotent ? handle : { ...handle, requestedAt: dispatchedAt };
    const deadline = now() + findRunTimeoutMs;
    for (;;) {
      const found = await locate(pending, ref);
      if (found.runId !== undefined || now() >= deadline) return found;
      await sleep(findRunIntervalMs);
    }
  };

  const dispatchFailure = (err: unknown, ref: GithubJobRef): CicdError => {
    if (isHttpError(err) && err.status === 422) {
      const message = String((err.response?.data as { message?: unknown } | undefined)?.message ?? err.message);
      const unexpected = /Unexpected inputs provided: (\[.*\])/.exec(message);
      if (unexpected) {
        const names = (JSON.parse(unexpected[1]!) as string[]).map(String);
        return new CicdError('github', 'undefined_parameter', `${workflowName(ref)} at ${ref.ref} does not define ${names.map((n) => `"${n}"`).join(', ')}: nothing was triggered`, { parameters: names });
      }
      if (/Required input/.test(message) || /not in the list of allowed values/.test(message)) return new CicdError('github', 'invalid_parameter', `${workflowName(ref)}: ${message}; nothing was triggered`);
      if (/workflow_dispatch/.test(message)) return new CicdError('github', 'not_buildable', `${workflowName(ref)} at ${ref.ref} has no workflow_dispatch trigger`);
      if (/No ref found/.test(message)) return new CicdError('github', 'not_found', `${where(ref)} has no ref ${ref.ref}`);
    }
    return failure(err, workflowName(ref));
  };

  const status = async (handle: CicdBuildHandle): Promise<CicdBuildStatus> => {
    const ref = githubRef(handle.job);
    const located = await locate(handle, ref);
    if (located.runId === undefined) return { handle, state: 'queued', providerState: 'dispatched', stages: [], artifacts: [] };
    const runId = located.runId;
    const { data: run } = await call(`run ${runId} of ${where(ref)}`, () => octokit.rest.actions.getWorkflowRun({ owner: ref.owner, repo: ref.repo, run_id: runId }));
    const { data: jobs } = await call(`the jobs of run ${runId}`, () => octokit.rest.actions.listJobsForWorkflowRun({ owner: ref.owner, repo: ref.repo, run_id: runId, filter: 'latest', per_page: 100 }));
    const state = runState(run.status, run.conclusion);
    const out: CicdBuildStatus = {
      handle: withRun(located, ref, run),
      state,
      providerState: run.status === 'completed' ? (run.conclusion ?? 'completed') : (run.status ?? 'queued'),
      url: run.html_url,
      stages: jobs.jobs.map((j) => {
        const stage: CicdStage = { name: j.name, state: stageState(j.status, j.conclusion) };
        if (j.started_at && j.status !== 'queued') stage.startedAt = j.started_at;
        if (j.started_at && j.completed_at) stage.durationMs = Date.parse(j.completed_at) - Date.parse(j.started_at);
        if (j.html_url) stage.url = j.html_url;
        return stage;
      }),
      artifacts: [],
    };
    if (run.run_started_at && state !== 'queued') out.startedAt = run.run_started_at;
    if (run.status === 'completed') {
      out.finishedAt = run.updated_at;
      const { data: artifacts } = await call(`the artifacts of run ${runId}`, () => octokit.rest.actions.listWorkflowRunArtifacts({ owner: ref.owner, repo: ref.repo, run_id: runId, per_page: 100 }));
      out.artifacts = artifacts.artifacts.filter((a) => !a.expired).map((a) => ({ name: a.name, url: a.archive_download_url, sizeBytes: a.size_in_bytes }));
    }
    return out;
  };

  /** The cursor lists the jobs whose logs were delivered: GitHub serves a job's log once the job has finished. */
  const logs = async (handle: CicdBuildHandle, cursor?: string): Promise<CicdLogChunk> => {
    const ref = githubRef(handle.job);
    const delivered = new Set(cursor ? cursor.split(',').filter(Boolean).map(Number) : []);
    if (cursor !== undefined && [...delivered].some((n) => !Number.isSafeInteger(n))) throw new CicdError('github', 'rejected', `"${cursor}" is not a GitHub log cursor`);
    const located = await locate(handle, ref);
    if (located.runId === undefined) return { text: '', cursor: cursor ?? '', complete: false };
    const runId = located.runId;
    const { data: run } = await call(`run ${runId} of ${where(ref)}`, () => octokit.rest.actions.getWorkflowRun({ owner: ref.owner, repo: ref.repo, run_id: runId }));
    const { data: jobs } = await call(`the jobs of run ${runId}`, () => octokit.rest.actions.listJobsForWorkflowRun({ owner: ref.owner, repo: ref.repo, run_id: runId, filter: 'latest', per_page: 100 }));
    let text = '';
    for (const job of [...jobs.jobs].sort((a, b) => a.id - b.id)) {
      if (job.status !== 'completed' || delivered.has(job.id)) continue;
      const res = await call(`the log of job ${job.name}`, () => octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner: ref.owner, repo: ref.repo, job_id: job.id }));
      const body = typeof res.data === 'string' ? res.data : Buffer.from(res.data as ArrayBuffer).toString('utf8');
      text += `##[drydock] job ${job.name}: ${job.conclusion ?? 'completed'}\n${body}${body.endsWith('\n') || body === '' ? '' : '\n'}`;
      delivered.add(job.id);
    }
    const complete = run.status === 'completed' && jobs.jobs.every((j) => j.status === 'completed' && delivered.has(j.id));
    return { text, cursor: [...delivered].sort((a, b) => a - b).join(','), complete };
  };

  const cancel = async (handle: CicdBuildHandle): Promise<void> => {
    const ref = githubRef(handle.job);
    const located = await locate(handle, ref);
    if (located.runId === undefined) throw new CicdError('github', 'unavailable', `the run of trigger ${handle.triggerId} is not visible on GitHub yet; cancel again in a moment`);
    const runId = located.runId;
    try {
      await octokit.rest.actions.cancelWorkflowRun({ owner: ref.owner, repo: ref.repo, run_id: runId });
    } catch (err) {
      // 409: the run already completed; nothing is left to cancel.
      if (isHttpError(err) && err.status === 409) return;
      throw failure(err, `run ${runId} of ${where(ref)}`);
    }
  };

  const testConnection = async (job?: CicdJobRef): Promise<CicdConnectionReport> => {
    const checks = connectionReport();
    const signedIn = await checks.check('token', async () => {
      const res = await call('the authenticated user', () => octokit.rest.users.getAuthenticated());
      if (typeof res.data?.login !== 'string') throw new CicdError('github', 'wrong_url', `${base} did not answer as GitHub's API: is it the API URL (https://ghe.example.com/api/v3 for GitHub Enterprise)?`);
      const scopes = res.headers['x-oauth-scopes'];
      return `signed in as ${res.data.login}${scopes !== undefined ? ` (classic token; scopes: ${scopes || 'none'})` : ''}`;
    });
    if (!signedIn || !job) return checks.report();
    const ref = githubRef(job);
    await checks.check(`repository ${where(ref)}`, async () => {
      const { data } = await call(`repository ${where(ref)}`, () => octokit.rest.repos.get({ owner: ref.owner, repo: ref.repo }));
      if (data.permissions && !data.permissions.push) {
        throw new CicdError('github', 'permission_denied', `the token's user has read access only to ${where(ref)}; dispatching a workflow needs write access`, { missing: [`write access to ${where(ref)}`] });
      }
      return `${data.private ? 'private' : 'public'} repository, default branch ${data.default_branch}`;
    });
    await checks.check(workflowName(ref), async () => {
      const d = await describeJob(ref);
      if (!d.buildable) throw new CicdError('github', 'not_buildable', `${d.name} cannot be dispatched: it needs \`on: workflow_dispatch\` and must be enabled`);
      return `${d.name}: ${d.parameters.length} input(s)${d.idempotent ? '' : `; its run-name does not carry the ${TRIGGER_ID_INPUT} input, so a trigger retried after a crash could start a second run`}`;
    });
    // No read-only question tells whether a token may write to Actions: cancelling run 0, which never exists,
    // is refused with 403 (naming actions:write) without the permission and answers 404 with it.
    await checks.check('dispatch and cancel runs (actions:write)', async () => {
      try {
        await octokit.rest.actions.cancelWorkflowRun({ owner: ref.owner, repo: ref.repo, run_id: 0 });
      } catch (err) {
        if (isHttpError(err) && (err.status === 404 || err.status === 409 || err.status === 422)) return 'allowed';
        throw lacking(failure(err, `the Actions runs of ${where(ref)}`), 'actions:write');
      }
      return 'allowed';
    });
    return checks.report();
  };

  const verifyWebhook = (headers: CicdHeaders, body: string | Uint8Array, secret: string): CicdWebhookVerdict => {
    const signature = headerValue(headers, 'x-hub-signature-256');
    if (!signature) return { ok: false, reason: 'unsigned', message: 'the GitHub delivery carries no X-Hub-Signature-256 header: set a secret on the webhook' };
    if (!signature.startsWith('sha256=') || !sameSecret(signature.slice(7), hmacSha256Hex(secret, body))) {
      return { ok: false, reason: 'forged', message: 'the GitHub delivery’s X-Hub-Signature-256 does not match its body and this connection’s webhook secret' };
    }
    const event = headerValue(headers, 'x-github-event') ?? '';
    const json = jsonObject(body);
    if (!json) return { ok: false, reason: 'malformed', message: 'the GitHub delivery is not a JSON object' };
    const deliveryId = headerValue(headers, 'x-github-delivery');
    const common = { provider: 'github' as const, type: event, ...(deliveryId ? { deliveryId } : {}) };
    const repository = (json['repository'] as { full_name?: string } | undefined)?.full_name;
    if (event === 'ping') return { ok: true, event: { ...common, kind: 'ping' } };
    if (event === 'workflow_run') {
      const run = json['workflow_run'] as { id?: number; status?: string; conclusion?: string | null } | undefined;
      if (!run?.id || !repository) return { ok: false, reason: 'malformed', message: 'the workflow_run delivery has no workflow_run.id or repository' };
      return { ok: true, event: { ...common, kind: 'build', buildId: `github:${repository}/runs/${run.id}`, state: runState(run.status, run.conclusion) } };
    }
    if (event === 'workflow_job') {
      const wj = json['workflow_job'] as { run_id?: number; name?: string; status?: string; conclusion?: string | null } | undefined;
      if (!wj?.run_id || !repository) return { ok: false, reason: 'malformed', message: 'the workflow_job delivery has no workflow_job.run_id or repository' };
      return { ok: true, event: { ...common, kind: 'stage', buildId: `github:${repository}/runs/${wj.run_id}`, state: runState(wj.status, wj.conclusion), ...(wj.name ? { stage: wj.name } : {}) } };
    }
    return { ok: true, event: { ...common, kind: 'other' } };
  };

  return { kind: 'github', testConnection, describeJob, trigger, status, logs, cancel, verifyWebhook };
}
