import { randomBytes, timingSafeEqual } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { deliverWebhook, startDoubleServer, type DoubleReply, type DoubleRequest, type DoubleServer } from './double-server.ts';
import { ScriptedRun, type StageScript } from './scripted-run.ts';

// No Jenkins can run here. This double speaks the part of Jenkins' remote access API that Drydock uses
// (https://www.jenkins.io/doc/book/using/remote-access-api/): HTTP Basic with user + API token, the CSRF crumb from
// /crumbIssuer/api/json bound to its session cookie, folders as /job/a/job/b, job and build JSON with their `_class`
// names, buildWithParameters and build answering 201 with the queue item in Location, /queue/item/<n>/api/json with
// `executable.number` once the build starts, queue cancel and build stop, progressive text with X-Text-Size and
// X-More-Data, the Pipeline Stage View's /wfapi/describe, config.xml read, update and createItem, and permission
// errors worded as Jenkins words them ("alice is missing the Job/Build permission"). It answers every `tree` query
// with the whole object. Webhooks are JSON in the Notification plugin's shape, with the shared secret in
// X-Drydock-Token (see activities/README.md).

export type JenkinsPermission = 'Overall/Read' | 'Job/Read' | 'Job/Build' | 'Job/Cancel' | 'Job/ExtendedRead' | 'Job/Configure' | 'Job/Create';
export const ALL_JENKINS_PERMISSIONS: JenkinsPermission[] = ['Overall/Read', 'Job/Read', 'Job/Build', 'Job/Cancel', 'Job/ExtendedRead', 'Job/Configure', 'Job/Create'];

interface ParameterDefinition {
  kind: 'String' | 'Text' | 'Boolean' | 'Choice' | 'Password';
  name: string;
  description: string;
  default: string | boolean;
  choices?: string[];
}

interface Job {
  fullName: string;
  kind: 'folder' | 'pipeline' | 'freestyle';
  config: string;
  description: string;
  disabled: boolean;
  parameters: ParameterDefinition[];
  /** The script a test gives each new build of this job. */
  script: StageScript[];
  nextBuildNumber: number;
  builds: Map<number, Build>;
}

interface Build {
  number: number;
  job: Job;
  queueId: number;
  run: ScriptedRun;
  params: [string, string][];
  user: string;
  log: string;
}

interface QueueItem {
  id: number;
  job: Job;
  params: [string, string][];
  user: string;
  inQueueSince: number;
  run: ScriptedRun;
  cancelled: boolean;
  build?: Build;
}

export interface JenkinsDouble {
  readonly url: string;
  readonly server: DoubleServer;
  addUser(name: string, permissions?: JenkinsPermission[]): string;
  addFolder(fullName: string): void;
  /** Adds a job from its config.xml (a flow-definition is a Pipeline job, a project a freestyle job). */
  addJob(fullName: string, configXml: string, script?: StageScript[]): void;
  /** The stages and lines the next builds of a job will run. */
  setScript(fullName: string, script: StageScript[]): void;
  jobConfig(fullName: string): string | undefined;
  queueItems(): { id: number; job: string; cancelled: boolean; build?: number }[];
  /** The build's scripted run, to drive; by job and number, or the run behind a queue item. */
  build(fullName: string, number: number): ScriptedRun;
  queued(id: number): ScriptedRun;
  builds(fullName: string): { number: number; params: Record<string, string>; state: string }[];
  /** Every POST that triggered, stopped or cancelled, in order. */
  readonly actions: string[];
  /** Notifications go to this URL, with the secret in X-Drydock-Token. */
  notifyTo(url: string, secret: string): void;
  /** Delivered notifications, for tests to replay or forge. */
  readonly deliveries: { headers: Record<string, string>; body: string; status: number }[];
  /** Forgets every crumb issued, as a restart of Jenkins does. */
  expireCrumbs(): void;
  /** False: accept POSTs without a crumb, as Jenkins does for API-token requests since 2.96. Default true. */
  requireCrumb: boolean;
  close(): Promise<void>;
}

const CLASSES = {
  folder: 'com.cloudbees.hudson.plugins.folder.Folder',
  pipeline: 'org.jenkinsci.plugins.workflow.job.WorkflowJob',
  freestyle: 'hudson.model.FreeStyleProject',
};
const RUN_CLASSES = { folder: '', pipeline: 'org.jenkinsci.plugins.workflow.job.WorkflowRun', freestyle: 'hudson.model.FreeStyleBuild' };

// Ordered nodes: Jenkins lists parameters in the order config.xml declares them.
const xml = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, trimValues: true });
type XmlNode = Record<string, unknown>;
const tagOf = (node: XmlNode) => Object.keys(node).find((k) => k !== ':@');
const childrenOf = (node: XmlNode | undefined): XmlNode[] => {
  const tag = node && tagOf(node);
  const value = tag === undefined ? undefined : node![tag];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
};
const child = (node: XmlNode | undefined, tag: string) => childrenOf(node).find((c) => tagOf(c) === tag);
const text = (node: XmlNode | undefined) => childrenOf(node).map((c) => String(c['#text'] ?? '')).join('');

function parseConfig(configXml: string): Pick<Job, 'kind' | 'description' | 'disabled' | 'parameters'> {
  const valid = XMLValidator.validate(configXml);
  if (valid !== true) throw new Error(`config.xml is not well-formed: ${valid.err.msg} (line ${valid.err.line})`);
  const root = (xml.parse(configXml) as XmlNode[]).find((n) => tagOf(n) === 'flow-definition' || tagOf(n) === 'project');
  if (!root) throw new Error('config.xml is neither a flow-definition nor a project');
  const parameters: ParameterDefinition[] = [];
  const definitions = child(child(child(root, 'properties'), 'hudson.model.ParametersDefinitionProperty'), 'parameterDefinitions');
  for (const raw of childrenOf(definitions)) {
    const kind = /^hudson\.model\.(String|Text|Boolean|Choice|Password)ParameterDefinition$/.exec(tagOf(raw) ?? '')?.[1] as ParameterDefinition['kind'] | undefined;
    if (!kind) continue;
    const def: ParameterDefinition = { kind, name: text(child(raw, 'name')), description: text(child(raw, 'description')), default: kind === 'Boolean' ? text(child(raw, 'defaultValue')) === 'true' : text(child(raw, 'defaultValue')) };
    if (kind === 'Choice') {
      def.choices = childrenOf(child(child(raw, 'choices'), 'a')).map((c) => text(c));
      def.default = def.choices[0] ?? '';
    }
    parameters.push(def);
  }
  return { kind: tagOf(root) === 'flow-definition' ? 'pipeline' : 'freestyle', description: text(child(root, 'description')), disabled: text(child(root, 'disabled')) === 'true', parameters };
}

function html(status: number, title: string, message: string): DoubleReply {
  return { status, headers: { 'content-type': 'text/html;charset=utf-8' }, body: `<html><head><title>${title}</title></head><body><h2>HTTP ERROR ${status} ${title}</h2><p>${message}</p></body></html>` };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startJenkinsDouble(options: { now?: () => number } = {}): Promise<JenkinsDouble> {
  const now = options.now ?? Date.now;
  const users = new Map<string, { token: string; permissions: Set<JenkinsPermission> }>();
  const jobs = new Map<string, Job>();
  const queue = new Map<number, QueueItem>();
  const sessions = new Map<string, string>();
  const actions: string[] = [];
  const deliveries: JenkinsDouble['deliveries'] = [];
  let nextQueueId = 1;
  let webhook: { url: string; secret: string } | undefined;
  let base = '';

  const jobUrl = (job: Job) => `${base}/${job.fullName.split('/').map((s) => `job/${encodeURIComponent(s)}`).join('/')}/`;
  const buildUrl = (b: Build) => `${jobUrl(b.job)}${b.number}/`;
  const color = (job: Job) => {
    if (job.disabled) return 'disabled';
    const last = [...job.builds.values()].at(-1);
    if (!last) return 'notbuilt';
    const c = last.run.state === 'failure' ? 'red' : last.run.state === 'cancelled' ? 'aborted' : 'blue';
    return last.run.done ? c : 'blue_anime';
  };
  const result = (run: ScriptedRun) => (run.state === 'success' ? 'SUCCESS' : run.state === 'failure' ? 'FAILURE' : run.state === 'cancelled' ? 'ABORTED' : null);

  const paramsAction = (params: [string, string][], job: Job) => ({
    _class: 'hudson.model.ParametersAction',
    parameters: params.map(([name, value]) => {
      const def = job.parameters.find((p) => p.name === name);
      const kind = def?.kind ?? 'String';
      return { _class: `hudson.model.${kind}ParameterValue`, name, value: kind === 'Boolean' ? value === 'true' : kind === 'Password' ? undefined : value };
    }),
  });
  const causeAction = (user: string) => ({ _class: 'hudson.model.CauseAction', causes: [{ _class: 'hudson.model.Cause$UserIdCause', shortDescription: `Started by user ${user}`, userId: user, userName: user }] });

  const notify = (job: Job, build: Build | undefined, item: QueueItem, phase: string) => {
    if (!webhook) return;
    const body = JSON.stringify({
      name: job.fullName.split('/').at(-1),
      display_name: job.fullName.split('/').at(-1),
      url: jobUrl(job).slice(base.length + 1),
      build: {
        full_url: build ? buildUrl(build) : undefined,
        number: build?.number,
        queue_id: item.id,
        timestamp: build?.run.startedAt ?? item.inQueueSince,
        duration: build?.run.finishedAt && build.run.startedAt ? build.run.finishedAt - build.run.startedAt : 0,
        phase,
        status: build ? (result(build.run) ?? undefined) : undefined,
        url: build ? buildUrl(build).slice(base.length + 1) : `queue/item/${item.id}/`,
        parameters: Object.fromEntries(item.params.filter(([n]) => job.parameters.find((p) => p.name === n)?.kind !== 'Password')),
        log: '',
      },
    });
    const headers = { 'x-drydock-token': webhook.secret };
    const target = webhook.url;
    void deliverWebhook(target, headers, body).then(
      (status) => deliveries.push({ headers, body, status }),
      () => deliveries.push({ headers, body, status: 0 }),
    );
  };

  const startBuild = (item: QueueItem) => {
    const job = item.job;
    const build: Build = { number: job.nextBuildNumber++, job, queueId: item.id, run: item.run, params: item.params, user: item.user, log: '' };
    item.build = build;
    job.builds.set(build.number, build);
    build.log += `Started by user ${item.user}\n`;
    if (job.kind === 'pipeline') build.log += '[Pipeline] Start of Pipeline\n';
    notify(job, build, item, 'STARTED');
  };

  const enqueue = (job: Job, params: [string, string][], user: string): QueueItem => {
    const same = [...queue.values()].find((q) => q.job === job && !q.build && !q.cancelled && JSON.stringify(q.params) === JSON.stringify(params));
    // Jenkins folds an identical request into the item already waiting.
    if (same) return same;
    const run = new ScriptedRun(job.script, now);
    const item: QueueItem = { id: nextQueueId++, job, params, user, inQueueSince: now(), run, cancelled: false };
    queue.set(item.id, item);
    run.onEvent((event) => {
      if (event.type === 'started') startBuild(item);
      const build = item.build;
      if (!build) return;
      const stage = 'stage' in event ? job.script[event.stage]!.name : '';
      if (event.type === 'stage-started' && job.kind === 'pipeline') build.log += `[Pipeline] stage\n[Pipeline] { (${stage})\n`;
      if (event.type === 'line') build.log += `${event.line}\n`;
      if (event.type === 'stage-finished' && job.kind === 'pipeline') build.log += '[Pipeline] }\n';
      if (event.type === 'finished' || event.type === 'cancelled') {
        if (event.type === 'cancelled') build.log += `Aborted by ${item.user}\n`;
        if (job.kind === 'pipeline') build.log += '[Pipeline] End of Pipeline\n';
        build.log += `Finished: ${result(build.run)}\n`;
        notify(job, build, item, 'COMPLETED');
      }
    });
    notify(job, undefined, item, 'QUEUED');
    return item;
  };

  const queueItemJson = (item: QueueItem) => {
    const left = item.cancelled || item.build !== undefined;
    return {
      _class: left ? 'hudson.model.Queue$LeftItem' : 'hudson.model.Queue$WaitingItem',
      actions: [paramsAction(item.params, item.job), causeAction(item.user)],
      blocked: false,
      buildable: !left,
      id: item.id,
      inQueueSince: item.inQueueSince,
      params: item.params.map(([n, v]) => `\n${n}=${v}`).join(''),
      stuck: false,
      task: { _class: CLASSES[item.job.kind], name: item.job.fullName.split('/').at(-1), url: jobUrl(item.job), color: color(item.job) },
      url: `queue/item/${item.id}/`,
      why: left ? null : 'Waiting for next available executor',
      ...(left ? { cancelled: item.cancelled, executable: item.build ? { _class: RUN_CLASSES[item.job.kind], number: item.build.number, url: buildUrl(item.build) } : null } : {}),
    };
  };

  const buildJson = (b: Build) => ({
    _class: RUN_CLASSES[b.job.kind],
    actions: [paramsAction(b.params, b.job), causeAction(b.user)],
    artifacts: b.run.done ? [{ displayPath: 'report.txt', fileName: 'report.txt', relativePath: 'out/report.txt' }] : [],
    building: !b.run.done,
    description: null,
    displayName: `#${b.number}`,
    duration: b.run.finishedAt && b.run.startedAt ? b.run.finishedAt - b.run.startedAt : 0,
    estimatedDuration: 10_000,
    fullDisplayName: `${b.job.fullName.split('/').join(' » ')} #${b.number}`,
    id: String(b.number),
    inProgress: !b.run.done,
    number: b.number,
    queueId: b.queueId,
    result: result(b.run),
    timestamp: b.run.startedAt ?? 0,
    url: buildUrl(b),
  });

  const jobJson = (job: Job) => {
    if (job.kind === 'folder') {
      const children = [...jobs.values()].filter((j) => j.fullName.startsWith(`${job.fullName}/`) && !j.fullName.slice(job.fullName.length + 1).includes('/'));
      return { _class: CLASSES.folder, name: job.fullName.split('/').at(-1), fullName: job.fullName, url: jobUrl(job), jobs: children.map((c) => ({ _class: CLASSES[c.kind], name: c.fullName.split('/').at(-1), url: jobUrl(c) })) };
    }
    const builds = [...job.builds.values()].reverse();
    const brief = (b: Build) => ({ _class: RUN_CLASSES[job.kind], number: b.number, url: buildUrl(b) });
    return {
      _class: CLASSES[job.kind],
      actions: [],
      description: job.description,
      displayName: job.fullName.split('/').at(-1),
      fullName: job.fullName,
      name: job.fullName.split('/').at(-1),
      url: jobUrl(job),
      buildable: !job.disabled,
      builds: builds.map((b) => ({ ...brief(b), queueId: b.queueId, actions: [paramsAction(b.params, job), causeAction(b.user)], result: result(b.run), building: !b.run.done })),
      color: color(job),
      inQueue: [...queue.values()].some((q) => q.job === job && !q.build && !q.cancelled),
      lastBuild: builds[0] ? brief(builds[0]) : null,
      nextBuildNumber: job.nextBuildNumber,
      property:
        job.parameters.length === 0
          ? []
          : [
              {
                _class: 'hudson.model.ParametersDefinitionProperty',
                parameterDefinitions: job.parameters.map((p) => ({
                  _class: `hudson.model.${p.kind}ParameterDefinition`,
                  defaultParameterValue: { _class: `hudson.model.${p.kind}ParameterValue`, name: p.name, ...(p.kind === 'Password' ? {} : { value: p.default }) },
                  description: p.description,
                  name: p.name,
                  type: `${p.kind}ParameterDefinition`,
                  ...(p.choices ? { choices: p.choices } : {}),
                })),
              },
            ],
    };
  };

  const wfapi = (b: Build) => {
    const status = (s: string) => ({ running: 'IN_PROGRESS', success: 'SUCCESS', failure: 'FAILED', cancelled: 'ABORTED', skipped: 'NOT_EXECUTED', pending: 'NOT_EXECUTED', queued: 'IN_PROGRESS' })[s] ?? 'IN_PROGRESS';
    return {
      _links: { self: { href: `${new URL(buildUrl(b)).pathname}wfapi/describe` } },
      id: String(b.number),
      name: `#${b.number}`,
      status: status(b.run.state),
      startTimeMillis: b.run.startedAt ?? 0,
      endTimeMillis: b.run.finishedAt ?? 0,
      durationMillis: (b.run.finishedAt ?? now()) - (b.run.startedAt ?? now()),
      queueDurationMillis: 0,
      pauseDurationMillis: 0,
      // Stage View lists a stage once it has started.
      stages: b.run.stages
        .map((s, i) => ({ s, i }))
        .filter(({ s }) => s.startedAt !== undefined)
        .map(({ s, i }) => ({
          _links: { self: { href: `${new URL(buildUrl(b)).pathname}execution/node/${i + 6}/wfapi/describe` } },
          id: String(i + 6),
          name: s.name,
          execNode: '',
          status: status(s.state),
          startTimeMillis: s.startedAt,
          durationMillis: (s.finishedAt ?? now()) - s.startedAt!,
          pauseDurationMillis: 0,
        })),
    };
  };

  const authenticate = (req: DoubleRequest): { user: string; permissions: Set<JenkinsPermission> } | DoubleReply => {
    const header = String(req.headers.authorization ?? '');
    if (!header.startsWith('Basic ')) return { ...html(403, 'Forbidden', 'Authentication required'), headers: { 'content-type': 'text/html', 'x-you-are-authenticated-as': 'anonymous' } };
    const [user, token] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(/:(.*)/s);
    const known = users.get(user ?? '');
    if (!known || !safeEqual(known.token, token ?? '')) {
      return { ...html(401, 'Unauthorized', `Invalid password/token for user: ${user}`), headers: { 'content-type': 'text/html', 'www-authenticate': 'Basic realm="Jenkins"' } };
    }
    return { user: user!, permissions: known.permissions };
  };

  const handler = async (req: DoubleRequest): Promise<DoubleReply> => {
    const auth = authenticate(req);
    if ('status' in auth) return auth;
    const deny = (permission: JenkinsPermission) => html(403, 'Forbidden', `${auth.user} is missing the ${permission} permission`);
    const can = (permission: JenkinsPermission) => auth.permissions.has(permission);
    if (!can('Overall/Read')) return deny('Overall/Read');

    if (req.path === '/crumbIssuer/api/json') {
      const session = randomBytes(12).toString('hex');
      const crumb = randomBytes(16).toString('hex');
      sessions.set(session, crumb);
      return { status: 200, headers: { 'set-cookie': `JSESSIONID.${randomBytes(4).toString('hex')}=${session}; Path=/; HttpOnly` }, body: { _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb, crumbRequestField: 'Jenkins-Crumb' } };
    }
    if (req.method === 'POST' && double.requireCrumb) {
      const cookie = String(req.headers.cookie ?? '');
      const session = /JSESSIONID\.[0-9a-f]+=([0-9a-f]+)/.exec(cookie)?.[1];
      const crumb = req.headers['jenkins-crumb'];
      if (!session || !crumb || sessions.get(session) !== crumb) return html(403, 'No valid crumb was included in the request', 'No valid crumb was included in the request');
    }

    if (req.path === '/api/json' || req.path === '/') {
      const top = [...jobs.values()].filter((j) => !j.fullName.includes('/'));
      return { status: 200, body: { _class: 'hudson.model.Hudson', mode: 'NORMAL', nodeDescription: 'the Jenkins controller', useCrumbs: true, url: `${base}/`, jobs: top.map((j) => ({ _class: CLASSES[j.kind], name: j.fullName, url: jobUrl(j), color: color(j) })) } };
    }
    if (req.path === '/whoAmI/api/json') {
      return { status: 200, body: { _class: 'hudson.security.WhoAmI', anonymous: false, authenticated: true, authorities: ['authenticated'], details: null, name: auth.user, toString: `${auth.user}` } };
    }
    if (req.path === '/queue/api/json') {
      return { status: 200, body: { _class: 'hudson.model.Queue', discoverableItems: [], items: [...queue.values()].filter((q) => !q.build && !q.cancelled).map(queueItemJson) } };
    }
    const queueMatch = /^\/queue\/item\/(\d+)\/api\/json$/.exec(req.path);
    if (queueMatch) {
      const item = queue.get(Number(queueMatch[1]));
      return item ? { status: 200, body: queueItemJson(item) } : html(404, 'Not Found', 'Not Found');
    }
    if (req.path === '/queue/cancelItem' && req.method === 'POST') {
      const item = queue.get(Number(req.query.get('id')));
      if (!item) return html(404, 'Not Found', 'Not Found');
      if (!can('Job/Cancel')) return deny('Job/Cancel');
      if (!item.build && !item.cancelled) {
        item.cancelled = true;
        item.run.cancel();
        actions.push(`cancel queue item ${item.id}`);
      }
      return { status: 302, headers: { location: `${base}/queue/` } };
    }

    // /job/a/job/b/<rest>: the longest run of job/<name> pairs names the item.
    const segments = req.path.split('/').filter(Boolean);
    const names: string[] = [];
    let i = 0;
    while (segments[i] === 'job' && segments[i + 1] !== undefined) {
      names.push(decodeURIComponent(segments[i + 1]!));
      i += 2;
    }
    const rest = segments.slice(i);
    if (names.length === 0 && rest[0] === 'createItem') return createItem(undefined, req, can, deny);
    const job = jobs.get(names.join('/'));
    if (!job || !can('Job/Read')) return html(404, 'Not Found', 'Not Found');

    const action = rest.join('/');
    if (action === 'api/json' || action === '') return { status: 200, body: jobJson(job) };
    if (action === 'createItem' && job.kind === 'folder') return createItem(job, req, can, deny);
    if (action === 'config.xml') {
      if (req.method === 'GET') return can('Job/ExtendedRead') || can('Job/Configure') ? { status: 200, headers: { 'content-type': 'application/xml' }, body: job.config } : deny('Job/ExtendedRead');
      if (!can('Job/Configure')) return deny('Job/Configure');
      try {
        Object.assign(job, parseConfig(req.text()), { config: req.text() });
      } catch (err) {
        return html(500, 'Server Error', (err as Error).message);
      }
      actions.push(`update ${job.fullName}`);
      return { status: 200, body: '' };
    }
    if ((action === 'buildWithParameters' || action === 'build') && req.method === 'POST') {
      if (job.kind === 'folder') return html(404, 'Not Found', 'Not Found');
      if (!can('Job/Build')) return deny('Job/Build');
      if (job.disabled) return html(409, 'Conflict', `${job.fullName} is disabled`);
      if (action === 'buildWithParameters' && job.parameters.length === 0) return html(500, 'Server Error', 'java.lang.IllegalStateException: This build is not parameterized!');
      const form = req.form();
      // Jenkins takes each defined parameter from the request or its default, and drops the ones it does not define.
      const params: [string, string][] = job.parameters.map((p) => [p.name, form.get(p.name) ?? String(p.default)]);
      const item = enqueue(job, params, auth.user);
      actions.push(`trigger ${job.fullName} queue ${item.id}`);
      return { status: 201, headers: { location: `${base}/queue/item/${item.id}/` } };
    }
    const number = rest[0] === 'lastBuild' ? ([...job.builds.keys()].at(-1) ?? -1) : Number(rest[0]);
    const build = job.builds.get(number);
    if (!build) return html(404, 'Not Found', 'Not Found');
    const sub = rest.slice(1).join('/');
    if (sub === 'api/json') return { status: 200, body: buildJson(build) };
    if (sub === 'wfapi/describe') return job.kind === 'pipeline' ? { status: 200, body: wfapi(build) } : html(404, 'Not Found', 'Not Found');
    if (sub === 'logText/progressiveText') {
      const log = Buffer.from(build.log, 'utf8');
      const start = Math.min(Number(req.query.get('start') ?? 0) || 0, log.length);
      const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8', 'x-text-size': String(log.length) };
      if (!build.run.done) headers['x-more-data'] = 'true';
      return { status: 200, headers, body: log.subarray(start) };
    }
    if (sub === 'stop' && req.method === 'POST') {
      if (!can('Job/Cancel')) return deny('Job/Cancel');
      if (!build.run.done) {
        build.run.cancel();
        actions.push(`stop ${job.fullName} #${build.number}`);
      }
      return { status: 302, headers: { location: buildUrl(build) } };
    }
    if (rest[1] === 'artifact') return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: `artifact ${rest.slice(2).join('/')} of #${build.number}\n` };
    return html(404, 'Not Found', 'Not Found');
  };

  const createItem = (parent: Job | undefined, req: DoubleRequest, can: (p: JenkinsPermission) => boolean, deny: (p: JenkinsPermission) => DoubleReply): DoubleReply => {
    if (req.method !== 'POST') return html(405, 'Method Not Allowed', 'This URL requires POST');
    if (!can('Job/Create')) return deny('Job/Create');
    const name = req.query.get('name') ?? '';
    if (!/^[^/\\:?*"<>|]+$/.test(name)) return html(400, 'Bad Request', `‘${name}’ is an unsafe character`);
    const fullName = parent ? `${parent.fullName}/${name}` : name;
    if (jobs.has(fullName)) return { ...html(400, 'Bad Request', `A job already exists with the name ‘${name}’`), headers: { 'content-type': 'text/html', 'x-error': `A job already exists with the name '${encodeURIComponent(name)}'` } };
    try {
      addJob(fullName, req.text());
    } catch (err) {
      return html(500, 'Server Error', (err as Error).message);
    }
    actions.push(`create ${fullName}`);
    return { status: 200, body: '' };
  };

  const addJob = (fullName: string, configXml: string, script?: StageScript[]) => {
    const parsed = parseConfig(configXml);
    jobs.set(fullName, { fullName, ...parsed, config: configXml, script: script ?? [{ name: 'Build', lines: ['building'] }], nextBuildNumber: 1, builds: new Map() });
  };

  // Every answer of Jenkins names its version: how a client tells Jenkins from whatever else answers at a URL.
  const server = await startDoubleServer(async (req) => {
    const reply = await handler(req);
    return { ...reply, headers: { 'x-jenkins': '2.492.3', ...(reply.headers ?? {}) } };
  });
  base = server.url;
  const jobOf = (fullName: string) => {
    const job = jobs.get(fullName);
    if (!job) throw new Error(`no job ${fullName} in the Jenkins double`);
    return job;
  };

  const double: JenkinsDouble = {
    url: server.url,
    server,
    actions,
    deliveries,
    requireCrumb: true,
    expireCrumbs: () => sessions.clear(),
    addUser: (name, permissions = ALL_JENKINS_PERMISSIONS) => {
      const token = `11${randomBytes(16).toString('hex')}`;
      users.set(name, { token, permissions: new Set(permissions) });
      return token;
    },
    addFolder: (fullName) => {
      jobs.set(fullName, { fullName, kind: 'folder', config: '<com.cloudbees.hudson.plugins.folder.Folder/>', description: '', disabled: false, parameters: [], script: [], nextBuildNumber: 1, builds: new Map() });
    },
    addJob,
    setScript: (fullName, script) => {
      jobOf(fullName).script = script;
    },
    jobConfig: (fullName) => jobs.get(fullName)?.config,
    queueItems: () => [...queue.values()].map((q) => ({ id: q.id, job: q.job.fullName, cancelled: q.cancelled, ...(q.build ? { build: q.build.number } : {}) })),
    build: (fullName, number) => {
      const build = jobOf(fullName).builds.get(number);
      if (!build) throw new Error(`no build ${fullName} #${number}`);
      return build.run;
    },
    queued: (id) => {
      const item = queue.get(id);
      if (!item) throw new Error(`no queue item ${id}`);
      return item.run;
    },
    builds: (fullName) => [...jobOf(fullName).builds.values()].map((b) => ({ number: b.number, params: Object.fromEntries(b.params), state: b.run.state })),
    notifyTo: (url, secret) => {
      webhook = { url, secret };
    },
    close: () => server.close(),
  };
  return double;
}

/** A Pipeline job's config.xml with these parameters and script, as Jenkins writes one. */
export function pipelineConfigXml(options: { description?: string; parameters?: { kind: 'String' | 'Boolean' | 'Choice' | 'Text' | 'Password'; name: string; default?: string; choices?: string[] }[]; disabled?: boolean; script?: string } = {}): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
  const params = (options.parameters ?? []).map((p) => {
    const inner =
      p.kind === 'Choice'
        ? `<choices class="java.util.Arrays$ArrayList"><a class="string-array">${(p.choices ?? []).map((c) => `<string>${esc(c)}</string>`).join('')}</a></choices>`
        : `<defaultValue>${esc(p.default ?? '')}</defaultValue>`;
    return `<hudson.model.${p.kind}ParameterDefinition><name>${esc(p.name)}</name><description></description>${inner}</hudson.model.${p.kind}ParameterDefinition>`;
  });
  const properties = params.length > 0 ? `<hudson.model.ParametersDefinitionProperty><parameterDefinitions>${params.join('')}</parameterDefinitions></hudson.model.ParametersDefinitionProperty>` : '';
  return `<?xml version='1.1' encoding='UTF-8'?>
<flow-definition plugin="workflow-job@1400.v7fd111b_ec82f">
  <description>${esc(options.description ?? '')}</description>
  <keepDependencies>false</keepDependencies>
  <properties>${properties}</properties>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition" plugin="workflow-cps@3894.vd0f0248b_a_fc4">
    <script>${esc(options.script ?? "pipeline { agent any; stages { stage('Build') { steps { echo 'hi' } } } }")}</script>
    <sandbox>true</sandbox>
  </definition>
  <triggers/>
  <disabled>${options.disabled ? 'true' : 'false'}</disabled>
</flow-definition>`;
}
