import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { parse } from 'yaml';
import { deliverWebhook, startDoubleServer, type DoubleReply, type DoubleRequest, type DoubleServer } from './double-server.ts';
import { ScriptedRun, type StageScript } from './scripted-run.ts';

// No CircleCI can run here. This double speaks the part of CircleCI's API v2 (https://circleci.com/docs/api/v2/) and
// of v1.1 (job steps and their output) that the adapter uses: Circle-Token auth for personal tokens (the user's
// access per project) and project tokens (status, read-only or admin scope), /me, a project, pipeline trigger
// (parameters checked against the config's `parameters:`; an unknown one makes an errored pipeline, as CircleCI
// does), pipelines by branch with next_page_token, a pipeline, its config (source and compiled, with
// `<< pipeline.parameters.x >>` filled in), its workflows, a workflow's jobs, workflow cancel, a job's artifacts,
// and v1.1 build details whose finished steps carry an output_url to JSON output. Webhooks are `workflow-completed`
// and `job-completed`, signed as `circleci-signature: v1=<HMAC-SHA256>`.

export type CircleciTokenSpec = { kind: 'personal'; login: string; access: Record<string, 'read' | 'write'> } | { kind: 'project'; project: string; scope: 'status' | 'read-only' | 'admin' };

interface Project {
  slug: string;
  id: string;
  config: string;
  branches: string[];
  script: StageScript[];
}

interface Pipeline {
  id: string;
  number: number;
  project: Project;
  branch: string;
  actor: string;
  createdAt: number;
  parameters: Record<string, unknown>;
  errors: { type: string; message: string }[];
  compiled: string;
  workflowId: string;
  run?: ScriptedRun;
  jobNumbers: number[];
}

export interface CircleciDouble {
  readonly url: string;
  readonly server: DoubleServer;
  addToken(spec: CircleciTokenSpec): string;
  addProject(slug: string, config: string, script?: StageScript[], branches?: string[]): void;
  setScript(slug: string, script: StageScript[]): void;
  pipeline(id: string): ScriptedRun;
  pipelines(slug: string): { id: string; number: number; parameters: Record<string, unknown>; errored: boolean }[];
  readonly cancels: string[];
  hookTo(url: string, secret: string): void;
  close(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const V2 = '/api/v2';

const JOB_STATUS: Record<string, string> = { pending: 'blocked', running: 'running', success: 'success', failure: 'failed', skipped: 'not_run', cancelled: 'canceled' };
const WORKFLOW_STATUS: Record<string, string> = { queued: 'running', running: 'running', success: 'success', failure: 'failed', cancelled: 'canceled' };

/** The config with `<< pipeline.parameters.x >>` filled in and the parameters section gone, as CircleCI compiles it. */
function compile(config: string, values: Record<string, unknown>): string {
  const filled = config.replace(/<<\s*pipeline\.parameters\.([\w-]+)\s*>>/g, (_m, name: string) => String(values[name] ?? ''));
  return filled.replace(/^parameters:\n(?:[ \t]+.*\n?)*/m, '');
}

export async function startCircleciDouble(options: { now?: () => number } = {}): Promise<CircleciDouble> {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, CircleciTokenSpec>();
  const projects = new Map<string, Project>();
  const pipelines = new Map<string, Pipeline>();
  const jobsByNumber = new Map<string, { pipeline: Pipeline; stage: number }>();
  const outputs = new Map<string, { pipeline: Pipeline; stage: number }>();
  const cancels: string[] = [];
  let hook: { url: string; secret: string } | undefined;
  let nextJobNumber = 100;
  let base = '';

  const declared = (p: Project) => ((parse(p.config) as { parameters?: Record<string, { type?: string; default?: unknown; enum?: string[] }> })?.parameters ?? {});
  const pipelineState = (p: Pipeline) => (p.errors.length > 0 ? 'errored' : 'created');
  const pipelineJson = (p: Pipeline) => ({
    id: p.id,
    errors: p.errors,
    project_slug: p.project.slug,
    updated_at: iso(p.createdAt),
    number: p.number,
    trigger_parameters: { circleci: { event_type: 'api', trigger_type: 'api', actor_id: 'user-1' } },
    state: pipelineState(p),
    created_at: iso(p.createdAt),
    trigger: { type: 'api', received_at: iso(p.createdAt), actor: { login: p.actor, avatar_url: 'https://avatars.example.com/u/1' } },
    vcs: { provider_name: 'GitHub', origin_repository_url: `https://github.com/${p.project.slug.split('/').slice(1).join('/')}`, target_repository_url: `https://github.com/${p.project.slug.split('/').slice(1).join('/')}`, revision: 'e'.repeat(40), branch: p.branch },
  });
  const workflowStatus = (p: Pipeline) => WORKFLOW_STATUS[p.run!.state]!;
  const workflowJson = (p: Pipeline) => ({
    pipeline_id: p.id,
    id: p.workflowId,
    name: 'deploy',
    project_slug: p.project.slug,
    status: workflowStatus(p),
    started_by: 'user-1',
    pipeline_number: p.number,
    created_at: iso(p.createdAt),
    stopped_at: p.run!.finishedAt ? iso(p.run!.finishedAt) : null,
  });
  const jobJson = (p: Pipeline, stage: number) => {
    const s = p.run!.stages[stage]!;
    const status = p.run!.state === 'queued' ? 'queued' : s.state === 'pending' ? (stage === 0 ? 'queued' : 'blocked') : JOB_STATUS[s.state]!;
    return {
      id: `${p.workflowId.slice(0, 24)}${String(stage).padStart(12, '0')}`,
      job_number: status === 'blocked' ? undefined : p.jobNumbers[stage],
      name: s.name,
      status,
      type: 'build',
      project_slug: p.project.slug,
      dependencies: stage === 0 ? [] : [`${p.workflowId.slice(0, 24)}${String(stage - 1).padStart(12, '0')}`],
      started_at: s.startedAt ? iso(s.startedAt) : null,
      stopped_at: s.finishedAt ? iso(s.finishedAt) : null,
    };
  };
  const v1Build = (p: Pipeline, stage: number) => {
    const s = p.run!.stages[stage]!;
    const finished = s.state !== 'running' && s.state !== 'pending';
    const step = (name: string, index: number, key: string, lines: string[]) => {
      const done = finished || index === 0;
      if (done) outputs.set(key, { pipeline: p, stage });
      return {
        name,
        actions: [
          {
            index: 0,
            step: index,
            name,
            type: 'test',
            status: done ? (index === 1 && s.state === 'failure' ? 'failed' : index === 1 && s.state === 'cancelled' ? 'canceled' : 'success') : 'running',
            start_time: s.startedAt ? iso(s.startedAt) : null,
            end_time: done && s.finishedAt ? iso(s.finishedAt) : null,
            exit_code: done ? (index === 1 && s.state === 'failure' ? 1 : 0) : null,
            has_output: lines.length > 0,
            ...(done ? { output_url: `${base}/output/${key}?X-Amz-Signature=${randomBytes(8).toString('hex')}` } : {}),
          },
        ],
      };
    };
    return {
      build_num: p.jobNumbers[stage],
      status: s.state === 'running' ? 'running' : JOB_STATUS[s.state],
      lifecycle: finished ? 'finished' : 'running',
      outcome: finished ? (s.state === 'success' ? 'success' : s.state === 'failure' ? 'failed' : 'canceled') : null,
      steps: s.state === 'pending' ? [] : [step('Spin up environment', 0, `${p.id}-${stage}-0`, ['Build-agent version 1.0.0 (double)']), step(s.name, 1, `${p.id}-${stage}-1`, s.lines)],
    };
  };

  const sign = (body: string) => (hook ? `v1=${createHmac('sha256', hook.secret).update(body).digest('hex')}` : '');
  const send = (type: string, payload: object) => {
    if (!hook) return;
    const body = JSON.stringify({ type, id: randomUUID(), happened_at: iso(now()), webhook: { id: 'wh-1', name: 'drydock' }, ...payload });
    void deliverWebhook(hook.url, { 'circleci-event-type': type, 'circleci-signature': sign(body), 'user-agent': 'CircleCI-Webhook/1.0' }, body).catch(() => undefined);
  };

  const json = (status: number, body: unknown): DoubleReply => ({ status, body: body as object });
  const may = (token: CircleciTokenSpec, slug: string, level: 'status' | 'read' | 'write'): boolean => {
    if (token.kind === 'project') {
      if (token.project !== slug) return false;
      return level === 'status' || (level === 'read' && token.scope !== 'status') || (level === 'write' && token.scope === 'admin');
    }
    const access = token.access[slug];
    return access === 'write' || (access === 'read' && level !== 'write');
  };

  const handler = (req: DoubleRequest): DoubleReply => {
    const output = /^\/output\/(.+)$/.exec(req.path);
    if (output) {
      const o = outputs.get(output[1]!);
      if (!o) return { status: 403, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>AccessDenied</Code></Error>' };
      const step = Number(output[1]!.split('-').at(-1));
      const lines = step === 0 ? ['Build-agent version 1.0.0 (double)'] : o.pipeline.run!.stages[o.stage]!.lines;
      return json(200, lines.map((line) => ({ message: `${line}\r\n`, time: iso(now()), type: 'out', truncated: false })));
    }
    const token = tokens.get(String(req.headers['circle-token'] ?? ''));
    if (!token) return json(401, { message: 'You must log in first.' });
    const path = req.path;
    if (path === `${V2}/me`) {
      if (token.kind !== 'personal') return json(401, { message: 'You must log in first.' });
      return json(200, { id: 'user-1', login: token.login, name: token.login });
    }
    let m = /^\/api\/v2\/project\/([^/]+\/[^/]+\/[^/]+)(\/pipeline|\/\d+\/artifacts)?$/.exec(path);
    if (m) {
      const slug = decodeURIComponent(m[1]!);
      const project = projects.get(slug);
      if (!project || !may(token, slug, 'status')) return json(404, { message: 'Project not found' });
      if (!may(token, slug, 'read')) return json(403, { message: 'Permission denied' });
      if (!m[2]) return json(200, { slug, name: slug.split('/').at(-1), id: project.id, organization_name: slug.split('/')[1], organization_slug: slug.split('/').slice(0, 2).join('/'), organization_id: 'org-1', vcs_info: { vcs_url: `https://github.com/${slug.split('/').slice(1).join('/')}`, provider: 'GitHub', default_branch: 'main' } });
      if (m[2].endsWith('/artifacts')) {
        const number = Number(m[2].split('/')[1]);
        const job = jobsByNumber.get(`${slug}#${number}`);
        if (!job) return json(404, { message: 'Job not found' });
        const s = job.pipeline.run!.stages[job.stage]!;
        return json(200, { items: s.state === 'success' ? [{ path: `reports/${s.name}.xml`, node_index: 0, url: `${base}/artifacts/${number}/reports/${s.name}.xml` }] : [], next_page_token: null });
      }
      if (req.method === 'POST') {
        if (!may(token, slug, 'write')) return json(403, { message: 'Permission denied' });
        const body = (req.json() ?? {}) as { branch?: string; parameters?: Record<string, unknown> };
        const branch = body.branch ?? 'main';
        if (!project.branches.includes(branch)) return json(400, { message: `Branch not found: ${branch}` });
        const params = body.parameters ?? {};
        const known = declared(project);
        const errors: Pipeline['errors'] = [];
        const unexpected = Object.keys(params).filter((k) => !(k in known));
        if (unexpected.length > 0) errors.push({ type: 'config', message: `Unexpected argument(s): ${unexpected.join(', ')}` });
        for (const [k, v] of Object.entries(params)) {
          const t = known[k]?.type;
          if ((t === 'boolean' && typeof v !== 'boolean') || (t === 'integer' && typeof v !== 'number') || (t === 'string' && typeof v !== 'string')) errors.push({ type: 'config', message: `Expected ${t} for parameter ${k}, got ${typeof v}` });
        }
        const values = Object.fromEntries(Object.entries(known).map(([k, d]) => [k, params[k] ?? d.default ?? '']));
        const number = [...pipelines.values()].filter((p) => p.project === project).length + 1;
        const p: Pipeline = { id: randomUUID(), number, project, branch, actor: token.kind === 'personal' ? token.login : 'project-token', createdAt: now(), parameters: params, errors, compiled: compile(project.config, values), workflowId: randomUUID(), jobNumbers: [] };
        pipelines.set(p.id, p);
        if (errors.length === 0) {
          p.run = new ScriptedRun(project.script, now);
          p.jobNumbers = project.script.map(() => nextJobNumber++);
          p.jobNumbers.forEach((n, stage) => jobsByNumber.set(`${slug}#${n}`, { pipeline: p, stage }));
          const context = () => ({ workflow: { id: p.workflowId, name: 'deploy', created_at: iso(p.createdAt), stopped_at: p.run!.finishedAt ? iso(p.run!.finishedAt) : null, url: `${base}/pipelines/${slug}/${p.number}/workflows/${p.workflowId}`, status: workflowStatus(p) }, pipeline: { id: p.id, number: p.number, created_at: iso(p.createdAt), trigger: { type: 'api' }, vcs: pipelineJson(p).vcs }, project: { id: project.id, name: slug.split('/').at(-1), slug }, organization: { id: 'org-1', name: slug.split('/')[1] } });
          p.run.onEvent((event) => {
            if (event.type === 'stage-finished') {
              const j = jobJson(p, event.stage);
              send('job-completed', { ...context(), job: { id: j.id, name: j.name, started_at: j.started_at, stopped_at: j.stopped_at, status: j.status, number: j.job_number } });
            }
            if (event.type === 'finished' || event.type === 'cancelled') send('workflow-completed', context());
          });
        }
        return json(201, { id: p.id, state: 'pending', number: p.number, created_at: iso(p.createdAt) });
      }
      const branch = req.query.get('branch');
      const list = [...pipelines.values()].filter((p) => p.project === project && (!branch || p.branch === branch)).sort((a, b) => b.number - a.number);
      const start = Number(req.query.get('page-token') ?? 0);
      const page = list.slice(start, start + 20);
      return json(200, { items: page.map(pipelineJson), next_page_token: start + 20 < list.length ? String(start + 20) : null });
    }
    m = /^\/api\/v2\/pipeline\/([\w-]+)(\/config|\/workflow)?$/.exec(path);
    if (m) {
      const p = pipelines.get(m[1]!);
      if (!p || !may(token, p.project.slug, 'read')) return json(404, { message: 'Pipeline not found' });
      if (m[2] === '/config') return json(200, { source: p.project.config, compiled: p.compiled, 'setup-config': '', 'compiled-setup-config': '' });
      if (m[2] === '/workflow') return json(200, { items: p.run ? [workflowJson(p)] : [], next_page_token: null });
      return json(200, pipelineJson(p));
    }
    m = /^\/api\/v2\/workflow\/([\w-]+)(\/job|\/cancel)?$/.exec(path);
    if (m) {
      const p = [...pipelines.values()].find((x) => x.workflowId === m![1]);
      if (!p || !may(token, p.project.slug, 'read')) return json(404, { message: 'Workflow not found' });
      if (m[2] === '/cancel' && req.method === 'POST') {
        if (!may(token, p.project.slug, 'write')) return json(403, { message: 'Permission denied' });
        if (!p.run!.done) {
          cancels.push(p.workflowId);
          p.run!.cancel();
        }
        return json(202, { message: 'Accepted.' });
      }
      if (m[2] === '/job') return json(200, { items: p.run!.stages.map((_s, i) => jobJson(p, i)), next_page_token: null });
      return json(200, workflowJson(p));
    }
    m = /^\/api\/v1\.1\/project\/(github|bitbucket|circleci)\/([^/]+)\/([^/]+)\/(\d+)$/.exec(path);
    if (m) {
      const slug = `${{ github: 'gh', bitbucket: 'bb', circleci: 'circleci' }[m[1] as 'github']}/${m[2]}/${m[3]}`;
      const job = jobsByNumber.get(`${slug}#${m[4]}`);
      if (!job || !may(token, slug, 'read')) return json(404, { message: 'Build not found' });
      return json(200, v1Build(job.pipeline, job.stage));
    }
    return json(404, { message: 'Not found' });
  };

  const server = await startDoubleServer(handler);
  base = server.url;
  return {
    url: server.url,
    server,
    cancels,
    addToken: (spec) => {
      const token = `CCIPAT_${randomBytes(16).toString('hex')}`;
      tokens.set(token, spec);
      return token;
    },
    addProject: (slug, config, script, branches) => {
      projects.set(slug, { slug, id: randomUUID(), config, branches: branches ?? ['main'], script: script ?? [{ name: 'build', lines: ['building'] }] });
    },
    setScript: (slug, script) => {
      const p = projects.get(slug);
      if (!p) throw new Error(`no project ${slug}`);
      p.script = script;
    },
    pipeline: (id) => {
      const p = pipelines.get(id);
      if (!p?.run) throw new Error(`no running pipeline ${id}`);
      return p.run;
    },
    pipelines: (slug) => [...pipelines.values()].filter((p) => p.project.slug === slug).map((p) => ({ id: p.id, number: p.number, parameters: p.parameters, errored: p.errors.length > 0 })),
    hookTo: (url, secret) => {
      hook = { url, secret };
    },
    close: () => server.close(),
  };
}
