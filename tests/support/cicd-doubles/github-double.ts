import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { parse } from 'yaml';
import { deliverWebhook, startDoubleServer, type DoubleReply, type DoubleRequest, type DoubleServer } from './double-server.ts';
import { ScriptedRun, type StageScript } from './scripted-run.ts';

// No GitHub can run here. This double speaks the part of GitHub's REST API (https://docs.github.com/rest) that the
// Actions adapter uses through @octokit/rest, in the shapes of GitHub's OpenAPI description (a test checks them
// against @octokit/openapi): the authenticated user, a repository with the caller's permissions, workflows by id or
// file name, file contents (base64), workflow_dispatch (204, or 200 with the run's id when `return_run_details` is
// asked and the double plays api.github.com rather than GitHub Enterprise Server), runs listed with the event,
// branch, actor and created filters, a run's jobs and steps, job logs as a 302 to a signed URL (served once the job
// has finished), artifacts, and cancel (202; 409 once completed). Tokens are classic (scopes, X-OAuth-Scopes) or
// fine-grained (permissions; a 403 names the one missing in X-Accepted-GitHub-Permissions). Every answer carries
// the x-ratelimit-* headers. Webhooks (`workflow_run`, `workflow_job`) are signed with X-Hub-Signature-256.

export type FineGrainedPermissions = Partial<Record<'actions' | 'contents' | 'metadata', 'read' | 'write'>>;
export type GithubTokenSpec = { login: string; kind: 'classic'; scopes: string[] } | { login: string; kind: 'fine-grained'; permissions: FineGrainedPermissions };

interface Workflow {
  id: number;
  name: string;
  path: string;
  source: string;
  state: 'active' | 'disabled_manually';
  script: StageScript[];
}

interface Run {
  id: number;
  number: number;
  owner: string;
  repo: string;
  workflow: Workflow;
  branch: string;
  sha: string;
  displayTitle: string;
  inputs: Record<string, string>;
  actor: string;
  createdAt: number;
  visibleAt: number;
  run: ScriptedRun;
  jobIds: number[];
}

export interface GithubDouble {
  readonly url: string;
  readonly server: DoubleServer;
  addToken(spec: GithubTokenSpec): string;
  addRepo(owner: string, repo: string, options?: { private?: boolean; branches?: Record<string, string>; pushers?: string[] }): void;
  addWorkflow(owner: string, repo: string, file: string, source: string, script?: StageScript[]): number;
  setScript(owner: string, repo: string, file: string, script: StageScript[]): void;
  /** `dotcom`: dispatch answers 200 with the run id when asked; `ghes`: 204 always, as GitHub Enterprise Server 3.19. */
  flavour: 'dotcom' | 'ghes';
  /** A dispatched run shows in lists this long after the dispatch, as GitHub creates runs asynchronously. */
  dispatchLagMs: number;
  run(runId: number): ScriptedRun;
  runs(owner: string, repo: string): { id: number; inputs: Record<string, string>; displayTitle: string; status: string }[];
  /** Cancels received, by run id. */
  readonly cancels: number[];
  hookTo(url: string, secret: string): void;
  close(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const node = (kind: string, id: number) => Buffer.from(`${kind}${id}`).toString('base64').replace(/=+$/, '');
const notFound = (doc = 'https://docs.github.com/rest'): DoubleReply => ({ status: 404, body: { message: 'Not Found', documentation_url: doc, status: '404' } });

export async function startGithubDouble(options: { now?: () => number } = {}): Promise<GithubDouble> {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, GithubTokenSpec>();
  const repos = new Map<string, { owner: string; repo: string; id: number; private: boolean; branches: Record<string, string>; pushers: string[]; workflows: Workflow[] }>();
  const runs = new Map<number, Run>();
  const jobs = new Map<number, { run: Run; stage: number }>();
  const logTickets = new Map<string, number>();
  const cancels: number[] = [];
  let hook: { url: string; secret: string } | undefined;
  let nextId = 1000;
  let api = '';
  let remaining = 5000;

  const userJson = (login: string) => {
    const u = `${api}/users/${login}`;
    return {
      login,
      id: 4242,
      node_id: node('U_', 4242),
      avatar_url: `https://avatars.example.com/u/4242`,
      gravatar_id: '',
      url: u,
      html_url: `${api}/${login}`,
      followers_url: `${u}/followers`,
      following_url: `${u}/following{/other_user}`,
      gists_url: `${u}/gists{/gist_id}`,
      starred_url: `${u}/starred{/owner}{/repo}`,
      subscriptions_url: `${u}/subscriptions`,
      organizations_url: `${u}/orgs`,
      repos_url: `${u}/repos`,
      events_url: `${u}/events{/privacy}`,
      received_events_url: `${u}/received_events`,
      type: 'User',
      user_view_type: 'public',
      site_admin: false,
    };
  };

  const repoJson = (key: string) => {
    const r = repos.get(key)!;
    const u = `${api}/repos/${key}`;
    return {
      id: r.id,
      node_id: node('R_', r.id),
      name: r.repo,
      full_name: key,
      private: r.private,
      owner: userJson(r.owner),
      html_url: `${api}/${key}`,
      description: null,
      fork: false,
      url: u,
      archive_url: `${u}/{archive_format}{/ref}`,
      assignees_url: `${u}/assignees{/user}`,
      blobs_url: `${u}/git/blobs{/sha}`,
      branches_url: `${u}/branches{/branch}`,
      collaborators_url: `${u}/collaborators{/collaborator}`,
      comments_url: `${u}/comments{/number}`,
      commits_url: `${u}/commits{/sha}`,
      compare_url: `${u}/compare/{base}...{head}`,
      contents_url: `${u}/contents/{+path}`,
      contributors_url: `${u}/contributors`,
      deployments_url: `${u}/deployments`,
      downloads_url: `${u}/downloads`,
      events_url: `${u}/events`,
      forks_url: `${u}/forks`,
      git_commits_url: `${u}/git/commits{/sha}`,
      git_refs_url: `${u}/git/refs{/sha}`,
      git_tags_url: `${u}/git/tags{/sha}`,
      hooks_url: `${u}/hooks`,
      issue_comment_url: `${u}/issues/comments{/number}`,
      issue_events_url: `${u}/issues/events{/number}`,
      issues_url: `${u}/issues{/number}`,
      keys_url: `${u}/keys{/key_id}`,
      labels_url: `${u}/labels{/name}`,
      languages_url: `${u}/languages`,
      merges_url: `${u}/merges`,
      milestones_url: `${u}/milestones{/number}`,
      notifications_url: `${u}/notifications{?since,all,participating}`,
      pulls_url: `${u}/pulls{/number}`,
      releases_url: `${u}/releases{/id}`,
      stargazers_url: `${u}/stargazers`,
      statuses_url: `${u}/statuses/{sha}`,
      subscribers_url: `${u}/subscribers`,
      subscription_url: `${u}/subscription`,
      tags_url: `${u}/tags`,
      teams_url: `${u}/teams`,
      trees_url: `${u}/git/trees{/sha}`,
    };
  };

  const fullRepoJson = (key: string, login: string) => {
    const r = repos.get(key)!;
    const t = iso(Date.parse('2024-01-01T00:00:00Z'));
    const push = r.pushers.includes(login);
    return {
      ...repoJson(key),
      clone_url: `${api}/${key}.git`,
      git_url: `git://example.invalid/${key}.git`,
      ssh_url: `git@example.invalid:${key}.git`,
      svn_url: `${api}/${key}`,
      mirror_url: null,
      homepage: null,
      language: 'TypeScript',
      forks: 0,
      forks_count: 0,
      stargazers_count: 0,
      watchers: 0,
      watchers_count: 0,
      size: 100,
      default_branch: 'main',
      open_issues: 0,
      open_issues_count: 0,
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: r.private ? 'private' : 'public',
      license: null,
      pushed_at: t,
      created_at: t,
      updated_at: t,
      network_count: 0,
      subscribers_count: 1,
      permissions: { admin: false, maintain: false, push, triage: push, pull: true },
    };
  };

  const workflowJson = (key: string, w: Workflow) => ({
    id: w.id,
    node_id: node('W_', w.id),
    name: w.name,
    path: w.path,
    state: w.state,
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z',
    url: `${api}/repos/${key}/actions/workflows/${w.id}`,
    html_url: `${api}/${key}/blob/main/${w.path}`,
    badge_url: `${api}/${key}/workflows/${encodeURIComponent(w.name)}/badge.svg`,
  });

  const runStatus = (r: Run) => (r.run.state === 'queued' ? 'queued' : r.run.done ? 'completed' : 'in_progress');
  const conclusion = (state: string) => (state === 'success' ? 'success' : state === 'failure' ? 'failure' : state === 'cancelled' ? 'cancelled' : state === 'skipped' ? 'skipped' : null);

  const runJson = (r: Run) => {
    const key = `${r.owner}/${r.repo}`;
    const u = `${api}/repos/${key}/actions/runs/${r.id}`;
    return {
      id: r.id,
      name: r.workflow.name,
      node_id: node('WFR_', r.id),
      check_suite_id: r.id + 1,
      check_suite_node_id: node('CS_', r.id + 1),
      head_branch: r.branch,
      head_sha: r.sha,
      path: r.workflow.path,
      display_title: r.displayTitle,
      run_number: r.number,
      event: 'workflow_dispatch',
      status: runStatus(r),
      conclusion: r.run.done ? conclusion(r.run.state) : null,
      workflow_id: r.workflow.id,
      url: u,
      html_url: `${api}/${key}/actions/runs/${r.id}`,
      pull_requests: [],
      created_at: iso(r.createdAt),
      updated_at: iso(r.run.finishedAt ?? r.run.startedAt ?? r.createdAt),
      actor: userJson(r.actor),
      triggering_actor: userJson(r.actor),
      run_attempt: 1,
      referenced_workflows: [],
      run_started_at: iso(r.run.startedAt ?? r.createdAt),
      jobs_url: `${u}/jobs`,
      logs_url: `${u}/logs`,
      check_suite_url: `${api}/repos/${key}/check-suites/${r.id + 1}`,
      artifacts_url: `${u}/artifacts`,
      cancel_url: `${u}/cancel`,
      rerun_url: `${u}/rerun`,
      previous_attempt_url: null,
      workflow_url: `${api}/repos/${key}/actions/workflows/${r.workflow.id}`,
      head_commit: { id: r.sha, tree_id: r.sha.split('').reverse().join(''), message: 'Deploy', timestamp: iso(r.createdAt), author: { name: 'Dev', email: 'dev@example.com' }, committer: { name: 'Dev', email: 'dev@example.com' } },
      repository: repoJson(key),
      head_repository: repoJson(key),
    };
  };

  const jobJson = (jobId: number) => {
    const { run: r, stage } = jobs.get(jobId)!;
    const key = `${r.owner}/${r.repo}`;
    const s = r.run.stages[stage]!;
    const status = s.state === 'pending' ? 'queued' : s.state === 'running' ? 'in_progress' : 'completed';
    const stepState = (i: number) => {
      // Set up job, the job's own step, Complete job: each follows the job.
      if (status === 'queued') return { status: 'queued', conclusion: null };
      if (status === 'completed') return { status: 'completed', conclusion: i === 1 ? conclusion(s.state) : s.state === 'skipped' ? 'skipped' : 'success' };
      return i === 0 ? { status: 'completed', conclusion: 'success' } : i === 1 ? { status: 'in_progress', conclusion: null } : { status: 'queued', conclusion: null };
    };
    return {
      id: jobId,
      run_id: r.id,
      run_url: `${api}/repos/${key}/actions/runs/${r.id}`,
      run_attempt: 1,
      node_id: node('CR_', jobId),
      head_sha: r.sha,
      head_branch: r.branch,
      url: `${api}/repos/${key}/actions/jobs/${jobId}`,
      html_url: `${api}/${key}/actions/runs/${r.id}/job/${jobId}`,
      status,
      conclusion: status === 'completed' ? conclusion(s.state) : null,
      created_at: iso(r.run.startedAt ?? r.createdAt),
      started_at: iso(s.startedAt ?? r.run.startedAt ?? r.createdAt),
      completed_at: s.finishedAt ? iso(s.finishedAt) : null,
      name: s.name,
      steps: ['Set up job', `Run ${s.name}`, 'Complete job'].map((name, i) => ({ name, number: i + 1, ...stepState(i), started_at: s.startedAt ? iso(s.startedAt) : null, completed_at: s.finishedAt ? iso(s.finishedAt) : null })),
      check_run_url: `${api}/repos/${key}/check-runs/${jobId}`,
      labels: ['ubuntu-latest'],
      runner_id: status === 'queued' ? null : 7,
      runner_name: status === 'queued' ? null : 'GitHub Actions 7',
      runner_group_id: status === 'queued' ? null : 2,
      runner_group_name: status === 'queued' ? null : 'GitHub Actions',
      workflow_name: r.workflow.name,
    };
  };

  const jobLog = (jobId: number) => {
    const { run: r, stage } = jobs.get(jobId)!;
    const s = r.run.stages[stage]!;
    const t = iso(s.startedAt ?? r.createdAt).replace('Z', '.0000000Z');
    return [`${t} ##[group]Run ${s.name}`, ...s.lines.map((l) => `${t} ${l}`), `${t} ##[endgroup]`, ''].join('\n');
  };

  const sign = (body: string) => {
    if (!hook) return;
    return {
      'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`,
      'x-hub-signature': `sha1=${createHmac('sha1', hook.secret).update(body).digest('hex')}`,
    };
  };
  const send = (event: string, payload: object) => {
    if (!hook) return;
    const body = JSON.stringify(payload);
    void deliverWebhook(hook.url, { 'x-github-event': event, 'x-github-delivery': randomUUID(), 'user-agent': 'GitHub-Hookshot/double', 'x-github-hook-id': '1', ...sign(body) }, body).catch(() => undefined);
  };

  const allowed = (spec: GithubTokenSpec, need: { permission: keyof FineGrainedPermissions; level: 'read' | 'write' }, repoKey: string): DoubleReply | undefined => {
    if (spec.kind === 'fine-grained') {
      const has = spec.permissions[need.permission];
      if (has === 'write' || (has === 'read' && need.level === 'read')) return undefined;
      return {
        status: 403,
        headers: { 'x-accepted-github-permissions': `${need.permission}=${need.level}` },
        body: { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com/rest', status: '403' },
      };
    }
    const r = repos.get(repoKey)!;
    const scopes = spec.scopes;
    const ok = scopes.includes('repo') || (!r.private && (need.level === 'read' || scopes.includes('public_repo')));
    if (ok) return undefined;
    // A classic token without the scope does not see a private repository at all.
    return { ...notFound(), headers: { 'x-accepted-oauth-scopes': 'repo' } };
  };

  const handler = (req: DoubleRequest): DoubleReply | Promise<DoubleReply> => {
    const logTicket = /^\/_blobs\/logs\/([\w-]+)$/.exec(req.path);
    if (logTicket) {
      const jobId = logTickets.get(logTicket[1]!);
      return jobId === undefined ? { status: 403, body: 'AuthenticationFailed' } : { status: 200, headers: { 'content-type': 'text/plain' }, body: jobLog(jobId) };
    }
    const header = String(req.headers.authorization ?? '');
    const token = /^(token|bearer) (.+)$/i.exec(header)?.[2];
    const spec = token ? tokens.get(token) : undefined;
    if (!spec) return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
    const scopeHeaders: Record<string, string> = spec.kind === 'classic' ? { 'x-oauth-scopes': spec.scopes.join(', ') } : {};

    if (req.method === 'GET' && req.path === '/user') return { status: 200, headers: scopeHeaders, body: { ...userJson(spec.login), name: 'Drydock', company: null, blog: '', location: null, email: null, hireable: null, bio: null, twitter_username: null, public_repos: 0, public_gists: 0, followers: 0, following: 0, created_at: '2020-01-01T00:00:00Z', updated_at: '2020-01-01T00:00:00Z' } };

    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(req.path);
    if (!m) return notFound();
    const key = `${m[1]}/${m[2]}`;
    const repo = repos.get(key);
    if (!repo) return notFound();
    const rest = m[3] ?? '';
    const need = (permission: keyof FineGrainedPermissions, level: 'read' | 'write') => allowed(spec, { permission, level }, key);
    const withScopes = (reply: DoubleReply): DoubleReply => ({ ...reply, headers: { ...scopeHeaders, ...(reply.headers ?? {}) } });

    if (rest === '' && req.method === 'GET') return withScopes(need('metadata', 'read') ?? { status: 200, body: fullRepoJson(key, spec.login) });

    const workflowOf = (idOrFile: string) => repo.workflows.find((w) => String(w.id) === idOrFile || w.path === `.github/workflows/${decodeURIComponent(idOrFile)}`);
    let match = /^\/actions\/workflows\/([^/]+)$/.exec(rest);
    if (match && req.method === 'GET') {
      const denied = need('actions', 'read');
      if (denied) return withScopes(denied);
      const w = workflowOf(match[1]!);
      return withScopes(w ? { status: 200, body: workflowJson(key, w) } : notFound());
    }
    match = /^\/contents\/(.+)$/.exec(rest);
    if (match && req.method === 'GET') {
      const denied = need('contents', 'read');
      if (denied) return withScopes(denied);
      const path = decodeURIComponent(match[1]!);
      const ref = req.query.get('ref') ?? 'main';
      const w = repo.workflows.find((x) => x.path === path);
      if (!w || !(ref in repo.branches)) return withScopes(notFound());
      const content = Buffer.from(w.source).toString('base64').replace(/(.{60})/g, '$1\n');
      const u = `${api}/repos/${key}/contents/${path}`;
      return withScopes({
        status: 200,
        body: { type: 'file', encoding: 'base64', size: w.source.length, name: path.split('/').at(-1), path, content, sha: 'b'.repeat(40), url: `${u}?ref=${ref}`, git_url: `${api}/repos/${key}/git/blobs/${'b'.repeat(40)}`, html_url: `${api}/${key}/blob/${ref}/${path}`, download_url: `${api}/raw/${key}/${ref}/${path}`, _links: { self: `${u}?ref=${ref}`, git: `${api}/repos/${key}/git/blobs/${'b'.repeat(40)}`, html: `${api}/${key}/blob/${ref}/${path}` } },
      });
    }
    match = /^\/actions\/workflows\/([^/]+)\/dispatches$/.exec(rest);
    if (match && req.method === 'POST') {
      const denied = need('actions', 'write');
      if (denied) return withScopes(denied);
      if (!repo.pushers.includes(spec.login)) return withScopes({ status: 403, body: { message: 'Must have admin rights to Repository.', documentation_url: 'https://docs.github.com/rest', status: '403' } });
      const w = workflowOf(match[1]!);
      if (!w) return withScopes(notFound());
      const body = (req.json() ?? {}) as { ref?: string; inputs?: Record<string, unknown>; return_run_details?: boolean };
      const invalid = (message: string): DoubleReply => withScopes({ status: 422, body: { message, documentation_url: 'https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event', status: '422' } });
      if (!body.ref) return invalid('Invalid request.\n\n"ref" wasn\'t supplied.');
      const sha = repo.branches[body.ref];
      if (!sha) return invalid(`No ref found for: ${body.ref}`);
      const on = (parse(w.source) as { on?: unknown })?.on;
      const dispatch = typeof on === 'string' ? (on === 'workflow_dispatch' ? {} : undefined) : Array.isArray(on) ? (on.includes('workflow_dispatch') ? {} : undefined) : (on as Record<string, unknown> | undefined)?.['workflow_dispatch'];
      if (dispatch === undefined) return invalid("Workflow does not have 'workflow_dispatch' trigger");
      const declared = ((dispatch ?? {}) as { inputs?: Record<string, { required?: boolean; default?: unknown; type?: string; options?: string[] }> }).inputs ?? {};
      const inputs = body.inputs ?? {};
      if (Object.keys(inputs).length > 25) return invalid('Invalid request.\n\nFor properties/inputs, maxProperties 25 was exceeded.');
      const unexpected = Object.keys(inputs).filter((k) => !(k in declared));
      if (unexpected.length > 0) return invalid(`Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
      for (const [name, def] of Object.entries(declared)) {
        if (def.required && inputs[name] === undefined && def.default === undefined) return invalid(`Required input '${name}' not provided`);
        if (def.type === 'choice' && inputs[name] !== undefined && !(def.options ?? []).includes(String(inputs[name]))) return invalid(`Provided value '${String(inputs[name])}' for input '${name}' not in the list of allowed values`);
      }
      const values = Object.fromEntries(Object.entries(declared).map(([n, d]) => [n, String(inputs[n] ?? d.default ?? '')]));
      const runName = (parse(w.source) as { 'run-name'?: string })['run-name'];
      const displayTitle = runName ? runName.replace(/\$\{\{\s*(?:github\.event\.)?inputs\.([\w-]+)\s*\}\}/g, (_m, n: string) => values[n] ?? '') : w.name;
      const id = nextId++;
      const run: Run = { id, number: [...runs.values()].filter((r) => r.workflow === w).length + 1, owner: repo.owner, repo: repo.repo, workflow: w, branch: body.ref, sha, displayTitle, inputs: values, actor: spec.login, createdAt: now(), visibleAt: now() + double.dispatchLagMs, run: new ScriptedRun(w.script, now), jobIds: [] };
      run.jobIds = w.script.map((_s, stage) => {
        const jobId = nextId++;
        jobs.set(jobId, { run, stage });
        return jobId;
      });
      runs.set(id, run);
      const workflowPayload = workflowJson(key, w);
      const base = { repository: fullRepoJson(key, spec.login), sender: userJson(spec.login), workflow: workflowPayload };
      run.run.onEvent((event) => {
        if (event.type === 'started') send('workflow_run', { action: 'in_progress', workflow_run: runJson(run), ...base });
        if (event.type === 'stage-started') send('workflow_job', { action: 'in_progress', workflow_job: jobJson(run.jobIds[event.stage]!), repository: base.repository, sender: base.sender });
        if (event.type === 'stage-finished') send('workflow_job', { action: 'completed', workflow_job: jobJson(run.jobIds[event.stage]!), repository: base.repository, sender: base.sender });
        if (event.type === 'finished' || event.type === 'cancelled') send('workflow_run', { action: 'completed', workflow_run: runJson(run), ...base });
      });
      send('workflow_run', { action: 'requested', workflow_run: runJson(run), ...base });
      if (body.return_run_details && double.flavour === 'dotcom') {
        return withScopes({ status: 200, body: { workflow_run_id: id, run_url: `${api}/repos/${key}/actions/runs/${id}`, html_url: `${api}/${key}/actions/runs/${id}` } });
      }
      return withScopes({ status: 204 });
    }
    match = /^\/actions\/workflows\/([^/]+)\/runs$/.exec(rest);
    if (match && req.method === 'GET') {
      const denied = need('actions', 'read');
      if (denied) return withScopes(denied);
      const w = workflowOf(match[1]!);
      if (!w) return withScopes(notFound());
      const q = req.query;
      const created = q.get('created');
      const since = created?.startsWith('>=') ? Date.parse(created.slice(2)) : undefined;
      const list = [...runs.values()]
        .filter((r) => r.workflow === w && r.visibleAt <= now())
        // Every run here was dispatched: any other event filter finds none.
        .filter(() => !q.get('event') || q.get('event') === 'workflow_dispatch')
        .filter((r) => !q.get('branch') || q.get('branch') === r.branch)
        .filter((r) => !q.get('actor') || q.get('actor') === r.actor)
        .filter((r) => since === undefined || Math.floor(r.createdAt / 1000) * 1000 >= since)
        .sort((a, b) => b.id - a.id);
      const perPage = Math.min(Number(q.get('per_page') ?? 30), 100);
      const page = Number(q.get('page') ?? 1);
      return withScopes({ status: 200, body: { total_count: list.length, workflow_runs: list.slice((page - 1) * perPage, page * perPage).map(runJson) } });
    }
    match = /^\/actions\/runs\/(\d+)(\/jobs|\/artifacts|\/cancel)?$/.exec(rest);
    if (match) {
      const isCancel = match[2] === '/cancel';
      const denied = need('actions', isCancel ? 'write' : 'read');
      if (denied) return withScopes(denied);
      const r = runs.get(Number(match[1]));
      if (!r || r.owner !== repo.owner || r.repo !== repo.repo) return withScopes(notFound());
      if (isCancel && req.method === 'POST') {
        if (r.run.done) return withScopes({ status: 409, body: { message: 'Cannot cancel a workflow run that is completed.', documentation_url: 'https://docs.github.com/rest', status: '409' } });
        cancels.push(r.id);
        r.run.cancel();
        return withScopes({ status: 202, body: {} });
      }
      if (req.method !== 'GET') return withScopes(notFound());
      if (match[2] === '/jobs') {
        const list = r.run.state === 'queued' ? [] : r.jobIds.map(jobJson);
        return withScopes({ status: 200, body: { total_count: list.length, jobs: list } });
      }
      if (match[2] === '/artifacts') {
        const list = r.run.done && r.run.state === 'success' ? [{ id: r.id + 7, node_id: node('MDg6QXJ0aWZhY3Q', r.id + 7), name: 'report', size_in_bytes: 1024, url: `${api}/repos/${key}/actions/artifacts/${r.id + 7}`, archive_download_url: `${api}/repos/${key}/actions/artifacts/${r.id + 7}/zip`, expired: false, created_at: iso(r.run.finishedAt!), expires_at: iso(r.run.finishedAt! + 90 * 86_400_000), updated_at: iso(r.run.finishedAt!), digest: null, workflow_run: { id: r.id, repository_id: repo.id, head_repository_id: repo.id, head_branch: r.branch, head_sha: r.sha } }] : [];
        return withScopes({ status: 200, body: { total_count: list.length, artifacts: list } });
      }
      return withScopes({ status: 200, body: runJson(r) });
    }
    match = /^\/actions\/jobs\/(\d+)\/logs$/.exec(rest);
    if (match && req.method === 'GET') {
      const denied = need('actions', 'read');
      if (denied) return withScopes(denied);
      const job = jobs.get(Number(match[1]));
      if (!job || job.run.owner !== repo.owner || job.run.repo !== repo.repo) return withScopes(notFound());
      const state = job.run.run.stages[job.stage]!.state;
      // Only a finished job's log can be downloaded; the live log is not part of the REST API.
      if (state === 'pending' || state === 'running') return withScopes(notFound('https://docs.github.com/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run'));
      const ticket = randomBytes(12).toString('hex');
      logTickets.set(ticket, Number(match[1]));
      return withScopes({ status: 302, headers: { location: `${api}/_blobs/logs/${ticket}` } });
    }
    return withScopes(notFound());
  };

  const server = await startDoubleServer((req) => {
    const reply = handler(req);
    const withLimits = (r: DoubleReply): DoubleReply => {
      remaining = Math.max(0, remaining - 1);
      return { ...r, headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': String(Math.floor(now() / 1000) + 3600), 'x-ratelimit-resource': 'core', 'x-github-api-version-selected': '2022-11-28', 'x-github-request-id': randomBytes(8).toString('hex'), ...(r.headers ?? {}) } };
    };
    return reply instanceof Promise ? reply.then(withLimits) : withLimits(reply);
  });
  api = server.url;

  const repoOf = (owner: string, repo: string) => {
    const r = repos.get(`${owner}/${repo}`);
    if (!r) throw new Error(`no repository ${owner}/${repo} in the GitHub double`);
    return r;
  };

  const double: GithubDouble = {
    url: server.url,
    server,
    cancels,
    flavour: 'dotcom',
    dispatchLagMs: 0,
    addToken: (spec) => {
      const token = spec.kind === 'classic' ? `ghp_${randomBytes(18).toString('hex')}` : `github_pat_${randomBytes(24).toString('hex')}`;
      tokens.set(token, spec);
      return token;
    },
    addRepo: (owner, repo, o = {}) => {
      repos.set(`${owner}/${repo}`, { owner, repo, id: nextId++, private: o.private ?? true, branches: o.branches ?? { main: 'a'.repeat(40) }, pushers: o.pushers ?? [], workflows: [] });
    },
    addWorkflow: (owner, repo, file, source, script) => {
      const r = repoOf(owner, repo);
      const id = nextId++;
      const name = (parse(source) as { name?: string }).name ?? `.github/workflows/${file}`;
      r.workflows.push({ id, name, path: `.github/workflows/${file}`, source, state: 'active', script: script ?? [{ name: 'build', lines: ['building'] }] });
      return id;
    },
    setScript: (owner, repo, file, script) => {
      const w = repoOf(owner, repo).workflows.find((x) => x.path === `.github/workflows/${file}`);
      if (!w) throw new Error(`no workflow ${file}`);
      w.script = script;
    },
    run: (runId) => {
      const r = runs.get(runId);
      if (!r) throw new Error(`no run ${runId}`);
      return r.run;
    },
    runs: (owner, repo) => [...runs.values()].filter((r) => r.owner === owner && r.repo === repo).map((r) => ({ id: r.id, inputs: r.inputs, displayTitle: r.displayTitle, status: runStatus(r) })),
    hookTo: (url, secret) => {
      hook = { url, secret };
    },
    close: () => server.close(),
  };
  return double;
}
