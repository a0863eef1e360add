import { randomBytes, randomUUID } from 'node:crypto';
import { deliverWebhook, startDoubleServer, type DoubleReply, type DoubleRequest, type DoubleServer } from './double-server.ts';
import { ScriptedRun, type StageScript } from './scripted-run.ts';

// No GitLab can run here. This double speaks the part of GitLab's REST API v4 (https://docs.gitlab.com/api/rest/)
// that the CI/CD adapter uses through @gitbeaker/rest: the token's user, `personal_access_tokens/self` with its
// scopes, projects by id or URL-encoded path with the caller's access level, raw repository files, pipeline
// create (variables, 400 for an unknown ref or refused variables), list (ref, source, username, updated_after,
// order, offset pagination with Link and X-* headers), show, variables and cancel, a pipeline's jobs, and job
// traces (the whole trace on each read, as GitLab serves it). Tokens go in PRIVATE-TOKEN or Authorization: Bearer;
// a token without the `api` scope is refused writes with 403 insufficient_scope. Webhooks are `Pipeline Hook`
// and `Job Hook` with the secret in X-Gitlab-Token.

export const ACCESS = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;

interface Project {
  id: number;
  path: string;
  branches: Record<string, string>;
  files: Record<string, string>;
  members: Record<string, number>;
  /** `no_one_allowed`: pipeline variables are refused, as GitLab 17.7+ may be set to. */
  variablesAllowed: boolean;
  script: StageScript[];
}

interface Pipeline {
  id: number;
  iid: number;
  project: Project;
  ref: string;
  sha: string;
  user: string;
  variables: { key: string; value: string; variable_type: string }[];
  createdAt: number;
  updatedAt: number;
  run: ScriptedRun;
  jobIds: number[];
}

export interface GitlabDouble {
  readonly url: string;
  readonly server: DoubleServer;
  addToken(username: string, scopes?: string[]): string;
  addProject(path: string, options: { ciYaml: string; members: Record<string, number>; branches?: Record<string, string>; script?: StageScript[] }): number;
  setScript(path: string, script: StageScript[]): void;
  refuseVariables(path: string, refuse: boolean): void;
  pipeline(id: number): ScriptedRun;
  pipelines(path: string): { id: number; variables: Record<string, string>; status: string }[];
  readonly cancels: number[];
  hookTo(url: string, secret: string): void;
  close(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const STATUS = { queued: 'pending', running: 'running', success: 'success', failure: 'failed', cancelled: 'canceled' } as const;
const JOB_STATUS = { pending: 'created', running: 'running', success: 'success', failure: 'failed', skipped: 'skipped', cancelled: 'canceled' } as const;

export async function startGitlabDouble(options: { now?: () => number } = {}): Promise<GitlabDouble> {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, { username: string; scopes: string[]; id: number }>();
  const users = new Map<string, number>();
  const projects = new Map<number, Project>();
  const pipelines = new Map<number, Pipeline>();
  const jobs = new Map<number, { pipeline: Pipeline; stage: number }>();
  const cancels: number[] = [];
  let hook: { url: string; secret: string } | undefined;
  let nextId = 500;
  let base = '';

  const userJson = (username: string) => ({ id: users.get(username) ?? 1, username, name: username, state: 'active', locked: false, avatar_url: null, web_url: `${base}/${username}` });
  const projectOf = (idOrPath: string) => {
    const decoded = decodeURIComponent(idOrPath);
    return /^\d+$/.test(decoded) ? projects.get(Number(decoded)) : [...projects.values()].find((p) => p.path === decoded);
  };
  const pipelineStatus = (p: Pipeline) => (p.run.state === 'queued' ? 'pending' : STATUS[p.run.state]);
  const pipelineJson = (p: Pipeline) => ({
    id: p.id,
    iid: p.iid,
    project_id: p.project.id,
    sha: p.sha,
    ref: p.ref,
    status: pipelineStatus(p),
    source: 'api',
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
    web_url: `${base}/${p.project.path}/-/pipelines/${p.id}`,
    before_sha: '0'.repeat(40),
    tag: false,
    yaml_errors: null,
    user: userJson(p.user),
    started_at: p.run.startedAt ? iso(p.run.startedAt) : null,
    finished_at: p.run.finishedAt ? iso(p.run.finishedAt) : null,
    committed_at: null,
    duration: p.run.finishedAt && p.run.startedAt ? Math.round((p.run.finishedAt - p.run.startedAt) / 1000) : null,
    queued_duration: 0,
    coverage: null,
    detailed_status: { icon: `status_${pipelineStatus(p)}`, text: pipelineStatus(p), label: pipelineStatus(p), group: pipelineStatus(p) },
  });
  const jobJson = (jobId: number) => {
    const { pipeline: p, stage } = jobs.get(jobId)!;
    const s = p.run.stages[stage]!;
    const status = p.run.state === 'queued' ? 'created' : s.state === 'pending' ? 'pending' : JOB_STATUS[s.state];
    return {
      id: jobId,
      name: s.name,
      // The n-th job of a script runs in the n-th of GitLab's default stages.
      stage: ['build', 'test', 'deploy'][Math.min(stage, 2)],
      status,
      ref: p.ref,
      tag: false,
      coverage: null,
      allow_failure: false,
      created_at: iso(p.createdAt),
      started_at: s.startedAt ? iso(s.startedAt) : null,
      finished_at: s.finishedAt ? iso(s.finishedAt) : null,
      duration: s.startedAt ? ((s.finishedAt ?? now()) - s.startedAt) / 1000 : null,
      queued_duration: 0.5,
      user: userJson(p.user),
      commit: { id: p.sha, short_id: p.sha.slice(0, 8), title: 'Deploy' },
      pipeline: { id: p.id, project_id: p.project.id, ref: p.ref, sha: p.sha, status: pipelineStatus(p) },
      web_url: `${base}/${p.project.path}/-/jobs/${jobId}`,
      artifacts_file: s.state === 'success' && stage === 0 ? { filename: 'artifacts.zip', size: 2048 } : null,
      artifacts: [],
      runner: null,
      artifacts_expire_at: null,
    };
  };
  const trace = (jobId: number) => {
    const { pipeline: p, stage } = jobs.get(jobId)!;
    const s = p.run.stages[stage]!;
    if (s.state === 'pending' || p.run.state === 'queued') return '';
    const lines = ['Running with gitlab-runner 17.0.0 (double)', ...s.lines];
    if (s.state !== 'running') lines.push(s.state === 'success' ? 'Job succeeded' : s.state === 'cancelled' ? 'ERROR: Job was canceled' : s.state === 'skipped' ? '' : 'ERROR: Job failed: exit code 1');
    return `${lines.join('\n')}\n`;
  };

  const send = (event: string, payload: object) => {
    if (!hook) return;
    void deliverWebhook(hook.url, { 'x-gitlab-event': event, 'x-gitlab-token': hook.secret, 'x-gitlab-event-uuid': randomUUID(), 'x-gitlab-instance': base, 'user-agent': 'GitLab/17.0.0' }, JSON.stringify(payload)).catch(() => undefined);
  };
  const projectHook = (p: Project) => ({ id: p.id, name: p.path.split('/').at(-1), path_with_namespace: p.path, web_url: `${base}/${p.path}`, default_branch: 'main' });

  const json = (status: number, body: unknown, headers: Record<string, string> = {}): DoubleReply => ({ status, headers, body: body as object });
  const list = (req: DoubleRequest, items: unknown[]): DoubleReply => {
    const perPage = Math.min(Number(req.query.get('per_page') ?? 20), 100);
    const page = Number(req.query.get('page') ?? 1);
    const pages = Math.max(1, Math.ceil(items.length / perPage));
    const headers: Record<string, string> = { 'x-total': String(items.length), 'x-total-pages': String(pages), 'x-per-page': String(perPage), 'x-page': String(page), 'x-next-page': page < pages ? String(page + 1) : '', 'x-prev-page': page > 1 ? String(page - 1) : '' };
    if (page < pages) {
      const next = new URL(`${base}${req.path}`);
      req.query.forEach((v, k) => next.searchParams.set(k, v));
      next.searchParams.set('page', String(page + 1));
      headers['link'] = `<${next}>; rel="next"`;
    }
    return json(200, items.slice((page - 1) * perPage, page * perPage), headers);
  };

  const handler = (req: DoubleRequest): DoubleReply => {
    if (!req.path.startsWith('/api/v4/')) return { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>The page could not be found</body></html>' };
    const presented = (req.headers['private-token'] as string | undefined) ?? /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = presented ? tokens.get(presented) : undefined;
    if (!token) return json(401, { message: '401 Unauthorized' });
    const path = req.path.slice('/api/v4'.length);
    const writes = req.method !== 'GET';
    if (writes && !token.scopes.includes('api')) {
      return json(403, { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api' }, { 'www-authenticate': 'Bearer realm="", error="insufficient_scope", error_description="The request requires higher privileges than provided by the access token.", scope="api"' });
    }
    if (path === '/user') return json(200, { ...userJson(token.username), email: `${token.username}@example.com`, created_at: '2024-01-01T00:00:00.000Z', is_admin: false });
    if (path === '/personal_access_tokens/self') return json(200, { id: token.id, name: 'drydock', revoked: false, created_at: '2024-01-01T00:00:00.000Z', scopes: token.scopes, user_id: users.get(token.username), last_used_at: iso(now()), active: true, expires_at: '2030-01-01' });

    const m = /^\/projects\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) return json(404, { error: '404 Not Found' });
    const project = projectOf(m[1]!);
    const level = project?.members[token.username] ?? 0;
    if (!project || level === 0) return json(404, { message: '404 Project Not Found' });
    const rest = m[2] ?? '';
    if (rest === '') {
      return json(200, {
        id: project.id,
        name: project.path.split('/').at(-1),
        name_with_namespace: project.path.split('/').join(' / '),
        path: project.path.split('/').at(-1),
        path_with_namespace: project.path,
        default_branch: 'main',
        web_url: `${base}/${project.path}`,
        jobs_enabled: true,
        archived: false,
        permissions: { project_access: { access_level: level, notification_level: 3 }, group_access: null },
      });
    }
    let match = /^\/repository\/files\/([^/]+)\/raw$/.exec(rest);
    if (match) {
      const file = project.files[decodeURIComponent(match[1]!)];
      const ref = req.query.get('ref') ?? 'main';
      if (file === undefined || !(ref in project.branches)) return json(404, { message: '404 File Not Found' });
      return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: file };
    }
    if (rest === '/pipeline' && req.method === 'POST') {
      if (level < ACCESS.developer) return json(403, { message: '403 Forbidden' });
      const body = (req.json() ?? {}) as { ref?: string; variables?: { key: string; value: string; variable_type?: string }[] };
      const sha = body.ref ? project.branches[body.ref] : undefined;
      if (!body.ref || !sha) return json(400, { message: { base: ['Reference not found'] } });
      if ((body.variables ?? []).length > 0 && !project.variablesAllowed) return json(400, { message: { base: ['Insufficient permissions to set pipeline variables'] } });
      const id = nextId++;
      const p: Pipeline = { id, iid: [...pipelines.values()].filter((x) => x.project === project).length + 1, project, ref: body.ref, sha, user: token.username, variables: (body.variables ?? []).map((v) => ({ key: v.key, value: String(v.value), variable_type: v.variable_type ?? 'env_var' })), createdAt: now(), updatedAt: now(), run: new ScriptedRun(project.script, now), jobIds: [] };
      p.jobIds = project.script.map((_s, stage) => {
        const jobId = nextId++;
        jobs.set(jobId, { pipeline: p, stage });
        return jobId;
      });
      pipelines.set(id, p);
      const pipelineHook = () => ({ object_kind: 'pipeline', object_attributes: { ...pipelineJson(p), variables: p.variables.map(({ key, value }) => ({ key, value })) }, user: userJson(p.user), project: projectHook(project), builds: p.jobIds.map(jobJson) });
      p.run.onEvent((event) => {
        p.updatedAt = now();
        if (event.type === 'started' || event.type === 'finished' || event.type === 'cancelled') send('Pipeline Hook', pipelineHook());
        if (event.type === 'stage-started' || event.type === 'stage-finished') {
          const j = jobJson(p.jobIds[event.stage]!);
          send('Job Hook', { object_kind: 'build', ref: p.ref, build_id: j.id, build_name: j.name, build_stage: j.stage, build_status: j.status, pipeline_id: p.id, project_id: project.id, project_name: project.path, user: userJson(p.user), repository: { name: project.path, homepage: `${base}/${project.path}` } });
        }
      });
      send('Pipeline Hook', pipelineHook());
      return json(201, pipelineJson(p));
    }
    if (rest === '/pipelines' && req.method === 'GET') {
      const q = req.query;
      const after = q.get('updated_after') ? Date.parse(q.get('updated_after')!) : undefined;
      const items = [...pipelines.values()]
        .filter((p) => p.project === project)
        .filter((p) => !q.get('ref') || p.ref === q.get('ref'))
        .filter(() => !q.get('source') || q.get('source') === 'api')
        .filter((p) => !q.get('username') || p.user === q.get('username'))
        .filter((p) => after === undefined || p.updatedAt >= after)
        .sort((a, b) => (q.get('sort') === 'asc' ? a.id - b.id : b.id - a.id))
        .map((p) => {
          const full = pipelineJson(p);
          return { id: full.id, iid: full.iid, project_id: full.project_id, sha: full.sha, ref: full.ref, status: full.status, source: full.source, created_at: full.created_at, updated_at: full.updated_at, web_url: full.web_url };
        });
      return list(req, items);
    }
    match = /^\/pipelines\/(\d+)(\/variables|\/jobs|\/cancel)?$/.exec(rest);
    if (match) {
      const p = pipelines.get(Number(match[1]));
      if (!p || p.project !== project) return json(404, { message: '404 Not found' });
      if (match[2] === '/cancel' && req.method === 'POST') {
        if (level < ACCESS.developer) return json(403, { message: '403 Forbidden' });
        if (!p.run.done) {
          cancels.push(p.id);
          p.run.cancel();
        }
        return json(200, pipelineJson(p));
      }
      if (match[2] === '/variables') return json(200, p.variables);
      if (match[2] === '/jobs') return list(req, [...p.jobIds].reverse().map(jobJson));
      return json(200, pipelineJson(p));
    }
    match = /^\/jobs\/(\d+)\/trace$/.exec(rest);
    if (match) {
      const job = jobs.get(Number(match[1]));
      if (!job || job.pipeline.project !== project) return json(404, { message: '404 Not found' });
      return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: trace(Number(match[1])) };
    }
    return json(404, { error: '404 Not Found' });
  };

  const server = await startDoubleServer(handler);
  base = server.url;
  const byPath = (path: string) => {
    const p = [...projects.values()].find((x) => x.path === path);
    if (!p) throw new Error(`no project ${path} in the GitLab double`);
    return p;
  };

  return {
    url: server.url,
    server,
    cancels,
    addToken: (username, scopes = ['api']) => {
      const token = `glpat-${randomBytes(10).toString('hex')}`;
      if (!users.has(username)) users.set(username, nextId++);
      tokens.set(token, { username, scopes, id: nextId++ });
      return token;
    },
    addProject: (path, o) => {
      const id = nextId++;
      projects.set(id, { id, path, branches: o.branches ?? { main: 'd'.repeat(40) }, files: { '.gitlab-ci.yml': o.ciYaml }, members: o.members, variablesAllowed: true, script: o.script ?? [{ name: 'build', lines: ['building'] }] });
      return id;
    },
    setScript: (path, script) => {
      byPath(path).script = script;
    },
    refuseVariables: (path, refuse) => {
      byPath(path).variablesAllowed = !refuse;
    },
    pipeline: (id) => {
      const p = pipelines.get(id);
      if (!p) throw new Error(`no pipeline ${id}`);
      return p.run;
    },
    pipelines: (path) => [...pipelines.values()].filter((p) => p.project.path === path).map((p) => ({ id: p.id, variables: Object.fromEntries(p.variables.map((v) => [v.key, v.value])), status: pipelineStatus(p) })),
    hookTo: (url, secret) => {
      hook = { url, secret };
    },
    close: () => server.close(),
  };
}
