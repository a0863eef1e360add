import { CicdError, lacking } from '../cicd-error.ts';
import { checkParameters, isTriggerIdParameter, TRIGGER_ID_PARAMETER } from '../parameters.ts';
import type { CicdBuildHandle, CicdBuildState, CicdBuildStatus, CicdConnectionReport, CicdHeaders, CicdJobDescription, CicdJobRef, CicdLogChunk, CicdParameterDefinition, CicdParams, CicdProvider, CicdStage, CicdTriggerOptions, CicdWebhookVerdict, JenkinsJobRef } from '../provider.ts';
import { connectionReport } from '../connection-report.ts';
import { headerValue, jsonObject, sameSecret } from '../webhook-signature.ts';
import { JenkinsClient, jobPathFromUrl, jobUrlPath, type JenkinsClientOptions, type JenkinsConnection } from './jenkins-client.ts';
import { diffJobConfig, parseJobConfig } from './job-config.ts';

interface JenkinsParameterJson {
  _class?: string;
  name: string;
  type?: string;
  description?: string;
  choices?: string[];
  defaultParameterValue?: { value?: unknown } | null;
}

interface JenkinsActionJson {
  _class?: string;
  parameters?: { name: string; value?: unknown }[];
}

interface JenkinsBuildRefJson {
  number: number;
  url: string;
  queueId?: number;
  result?: string | null;
  building?: boolean;
  actions?: (JenkinsActionJson | null)[];
}

interface JenkinsJobJson {
  _class?: string;
  name?: string;
  fullName?: string;
  url?: string;
  buildable?: boolean;
  color?: string;
  lastBuild?: JenkinsBuildRefJson | null;
  builds?: JenkinsBuildRefJson[];
  property?: ({ _class?: string; parameterDefinitions?: JenkinsParameterJson[] } | null)[];
}

interface JenkinsQueueItemJson {
  id: number;
  cancelled?: boolean;
  why?: string | null;
  task?: { url?: string };
  executable?: { number: number; url: string } | null;
  actions?: (JenkinsActionJson | null)[];
}

interface JenkinsBuildJson {
  number: number;
  url: string;
  building: boolean;
  result: string | null;
  timestamp: number;
  duration: number;
  artifacts?: { fileName: string; relativePath: string }[];
}

interface WfapiJson {
  stages?: { name: string; status: string; startTimeMillis?: number; durationMillis?: number; _links?: { self?: { href?: string } } }[];
}

const PARAMETER_TYPES: Record<string, CicdParameterDefinition['type']> = {
  StringParameterDefinition: 'string',
  TextParameterDefinition: 'text',
  BooleanParameterDefinition: 'boolean',
  ChoiceParameterDefinition: 'choice',
  PasswordParameterDefinition: 'password',
};

const BUILD_TREE = 'number,url,building,result,timestamp,duration,artifacts[fileName,relativePath]';
const JOB_TREE =
  'name,fullName,url,buildable,color,lastBuild[number,url,result,building],property[parameterDefinitions[name,type,description,choices,defaultParameterValue[value]]]';

function resultState(result: string | null | undefined, building: boolean | undefined): CicdBuildState {
  if (building || result === null || result === undefined) return 'running';
  if (result === 'SUCCESS') return 'succeeded';
  if (result === 'ABORTED' || result === 'NOT_BUILT') return 'cancelled';
  return 'failed';
}

const STAGE_STATES: Record<string, CicdStage['state']> = {
  SUCCESS: 'succeeded',
  FAILED: 'failed',
  UNSTABLE: 'failed',
  ABORTED: 'cancelled',
  NOT_EXECUTED: 'skipped',
  IN_PROGRESS: 'running',
  PAUSED_PENDING_INPUT: 'running',
};

function parameterValue(actions: (JenkinsActionJson | null)[] | undefined, name: string): string | undefined {
  for (const action of actions ?? []) {
    const found = action?.parameters?.find((p) => p.name === name);
    if (found) return found.value === undefined ? undefined : String(found.value);
  }
  return undefined;
}

function jenkinsRef(job: CicdJobRef): JenkinsJobRef {
  if (job.provider !== 'jenkins') throw new CicdError('jenkins', 'rejected', `a ${job.provider} job cannot be run by the Jenkins provider`);
  return job;
}

export interface JenkinsConfigPlan {
  path: string;
  exists: boolean;
  current?: string;
  next: string;
  /** A unified diff of the current config.xml against the new one; every line added when the job is new. */
  diff: string;
  changed: boolean;
}

export interface JenkinsProvider extends CicdProvider {
  readonly kind: 'jenkins';
  /** The job's config.xml, or undefined when there is no such job. */
  readJobConfig(path: string): Promise<string | undefined>;
  /** What writing `configXml` to the job would change, to show before `applyJobConfig`. */
  planJobConfig(path: string, configXml: string): Promise<JenkinsConfigPlan>;
  /** Creates the job (createItem in its folder) or updates its config.xml, as planned. */
  applyJobConfig(plan: JenkinsConfigPlan): Promise<void>;
}

/** Jenkins through its remote access API: https://www.jenkins.io/doc/book/using/remote-access-api/. */
export function createJenkinsProvider(connection: JenkinsConnection, options: JenkinsClientOptions = {}): JenkinsProvider {
  const client = new JenkinsClient(connection, options);
  const now = options.now ?? Date.now;

  const describeJob = async (job: CicdJobRef): Promise<CicdJobDescription> => {
    const ref = jenkinsRef(job);
    const body = await client.getJson<JenkinsJobJson>(`/${jobUrlPath(ref.path)}/api/json`, `job ${ref.path}`, { query: { tree: JOB_TREE } });
    const parameters: CicdParameterDefinition[] = [];
    for (const property of body.property ?? []) {
      for (const p of property?.parameterDefinitions ?? []) {
        const type = PARAMETER_TYPES[p.type ?? ''] ?? 'string';
        const def: CicdParameterDefinition = { name: p.name, type };
        if (p.description) def.description = p.description;
        const value = p.defaultParameterValue?.value;
        if (type !== 'password' && (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')) def.default = value;
        if (p.choices) def.choices = p.choices;
        parameters.push(def);
      }
    }
    const isFolder = body.buildable === undefined;
    const description: CicdJobDescription = {
      ref,
      name: body.fullName ?? ref.path,
      buildable: !isFolder && body.buildable === true,
      parameters,
      idempotent: parameters.some((p) => p.name === TRIGGER_ID_PARAMETER),
    };
    if (body.url) description.url = body.url;
    if (body.lastBuild) {
      description.lastBuild = { buildId: `jenkins:${ref.path}#${body.lastBuild.number}`, number: body.lastBuild.number, state: resultState(body.lastBuild.result, body.lastBuild.building), url: body.lastBuild.url };
    }
    return description;
  };

  /** The queue item or build this trigger id already started, searching the queue first, then the job's builds. */
  const find = async (ref: JenkinsJobRef, triggerId: string, requestedAt: string): Promise<CicdBuildHandle | undefined> => {
    const handle: CicdBuildHandle = { provider: 'jenkins', job: ref, triggerId, requestedAt };
    const queue = await client.getJson<{ items?: JenkinsQueueItemJson[] }>('/queue/api/json', 'the build queue', { query: { tree: 'items[id,task[url],actions[parameters[name,value]]]' } });
    const jobPath = jobUrlPath(ref.path);
    const waiting = queue.items?.find((item) => item.task?.url?.includes(`/${jobPath}/`) && parameterValue(item.actions, TRIGGER_ID_PARAMETER) === triggerId);
    if (waiting) return { ...handle, queueItem: waiting.id };
    const job = await client.getJson<JenkinsJobJson>(`/${jobPath}/api/json`, `job ${ref.path}`, { query: { tree: 'builds[number,url,queueId,actions[parameters[name,value]]]{0,100}' } });
    const build = job.builds?.find((b) => parameterValue(b.actions, TRIGGER_ID_PARAMETER) === triggerId);
    if (!build) return undefined;
    return { ...handle, buildId: `jenkins:${ref.path}#${build.number}`, number: build.number, url: build.url, ...(build.queueId ? { queueItem: build.queueId } : {}) };
  };

  /** Learns the build number of a handle still in the queue; undefined while it waits, 'cancelled' if it never ran. */
  const resolve = async (handle: CicdBuildHandle): Promise<CicdBuildHandle | 'cancelled' | undefined> => {
    if (handle.number !== undefined) return handle;
    const ref = jenkinsRef(handle.job);
    if (handle.queueItem !== undefined) {
      const res = await client.get(`/queue/item/${handle.queueItem}/api/json`);
      if (res.status === 200) {
        const item = client.json<JenkinsQueueItemJson>(res);
        if (item.executable) return { ...handle, number: item.executable.number, url: item.executable.url, buildId: `jenkins:${ref.path}#${item.executable.number}` };
        return item.cancelled ? 'cancelled' : undefined;
      }
      // Jenkins forgets a queue item some minutes after it left the queue: look for the build that came of it.
      if (res.status !== 404) throw client.failure(res, `queue item ${handle.queueItem}`);
      const job = await client.getJson<JenkinsJobJson>(`/${jobUrlPath(ref.path)}/api/json`, `job ${ref.path}`, { query: { tree: 'builds[number,url,queueId]{0,100}' } });
      const build = job.builds?.find((b) => b.queueId === handle.queueItem);
      if (build) return { ...handle, number: build.number, url: build.url, buildId: `jenkins:${ref.path}#${build.number}` };
    }
    const found = await find(ref, handle.triggerId, handle.requestedAt);
    if (found?.number !== undefined) return found;
    if (found?.queueItem !== undefined) return undefined;
    throw new CicdError('jenkins', 'not_found', `the build of trigger ${handle.triggerId} is neither in the queue of ${client.base} nor among the last builds of ${ref.path}`);
  };

  const status = async (handle: CicdBuildHandle): Promise<CicdBuildStatus> => {
    const ref = jenkinsRef(handle.job);
    const resolved = await resolve(handle);
    if (resolved === undefined || resolved === 'cancelled') {
      const state: CicdBuildState = resolved === 'cancelled' ? 'cancelled' : 'queued';
      return { handle, state, providerState: resolved === 'cancelled' ? 'CANCELLED_IN_QUEUE' : 'QUEUED', stages: [], artifacts: [], ...(handle.url ? { url: handle.url } : {}) };
    }
    const path = `/${jobUrlPath(ref.path)}/${resolved.number}`;
    const build = await client.getJson<JenkinsBuildJson>(`${path}/api/json`, `build ${ref.path} #${resolved.number}`, { query: { tree: BUILD_TREE } });
    const stages: CicdStage[] = [];
    // Stage View (pipeline-stage-view) describes a Pipeline's stages; freestyle jobs and instances without it have none.
    const wf = await client.get(`${path}/wfapi/describe`);
    if (wf.status === 200) {
      for (const s of client.json<WfapiJson>(wf).stages ?? []) {
        const stage: CicdStage = { name: s.name, state: STAGE_STATES[s.status] ?? 'running' };
        if (s.startTimeMillis) stage.startedAt = new Date(s.startTimeMillis).toISOString();
        if (s.durationMillis !== undefined) stage.durationMs = s.durationMillis;
        stages.push(stage);
      }
    } else if (wf.status !== 404) {
      throw client.failure(wf, `the stages of ${ref.path} #${resolved.number}`);
    }
    const state = resultState(build.result, build.building);
    const out: CicdBuildStatus = {
      handle: { ...resolved, url: build.url },
      state,
      providerState: build.building ? 'BUILDING' : (build.result ?? 'BUILDING'),
      url: build.url,
      stages,
      artifacts: (build.artifacts ?? []).map((a) => ({ name: a.fileName, url: `${build.url}artifact/${a.relativePath.split('/').map(encodeURIComponent).join('/')}` })),
    };
    if (build.timestamp) out.startedAt = new Date(build.timestamp).toISOString();
    if (!build.building && build.timestamp) out.finishedAt = new Date(build.timestamp + build.duration).toISOString();
    return out;
  };

  const logs = async (handle: CicdBuildHandle, cursor?: string): Promise<CicdLogChunk> => {
    const ref = jenkinsRef(handle.job);
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isSafeInteger(start) || start < 0) throw new CicdError('jenkins', 'rejected', `"${cursor}" is not a Jenkins log cursor (a byte offset)`);
    const resolved = await resolve(handle);
    if (resolved === undefined) return { text: '', cursor: String(start), complete: false };
    if (resolved === 'cancelled') return { text: '', cursor: String(start), complete: true };
    const res = await client.get(`/${jobUrlPath(ref.path)}/${resolved.number}/logText/progressiveText`, { query: { start } });
    if (res.status !== 200) throw client.failure(res, `the log of ${ref.path} #${resolved.number}`);
    // X-Text-Size is where the next read starts; Jenkins sends whole lines only while the build is still writing.
    const size = Number(res.headers.get('x-text-size'));
    const more = res.headers.get('x-more-data') === 'true';
    return { text: res.text, cursor: String(Number.isFinite(size) ? size : start), complete: !more };
  };

  const cancel = async (handle: CicdBuildHandle): Promise<void> => {
    const ref = jenkinsRef(handle.job);
    const resolved = await resolve(handle);
    if (resolved === 'cancelled') return;
    if (resolved === undefined) {
      if (handle.queueItem === undefined) return;
      const res = await client.post('/queue/cancelItem', { query: { id: handle.queueItem } });
      if (res.status >= 400) throw client.failure(res, `queue item ${handle.queueItem}`);
      // The item may have left the queue for an executor meanwhile: then it is a build to stop.
      const after = await resolve(handle);
      if (after === undefined || after === 'cancelled') return;
      return stop(ref, after.number!);
    }
    return stop(ref, resolved.number!);
  };

  const stop = async (ref: JenkinsJobRef, number: number): Promise<void> => {
    const res = await client.post(`/${jobUrlPath(ref.path)}/${number}/stop`);
    if (res.status >= 400) throw client.failure(res, `build ${ref.path} #${number}`);
  };

  const trigger = async (job: CicdJobRef, params: CicdParams, idempotencyKey: string, options: CicdTriggerOptions = {}): Promise<CicdBuildHandle> => {
    const ref = jenkinsRef(job);
    const definition = options.definition ?? (await describeJob(ref));
    const values = checkParameters('jenkins', definition, params);
    if (!definition.buildable) throw new CicdError('jenkins', 'not_buildable', `${definition.name} cannot be built (disabled, or a folder): enable it in Jenkins first`);
    const requestedAt = (options.requestedAt ?? new Date(now())).toISOString();
    if (definition.idempotent) {
      const existing = await find(ref, idempotencyKey, requestedAt);
      if (existing) return existing;
    }
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(values)) form.set(name, String(value));
    if (definition.idempotent) form.set(TRIGGER_ID_PARAMETER, idempotencyKey);
    const parameterized = definition.parameters.length > 0;
    const res = await client.post(`/${jobUrlPath(ref.path)}/${parameterized ? 'buildWithParameters' : 'build'}`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    if (res.status !== 201 && res.status !== 200) throw client.failure(res, `job ${ref.path}`);
    const item = /\/queue\/item\/(\d+)/.exec(res.headers.get('location') ?? '')?.[1];
    if (!item) throw new CicdError('jenkins', 'rejected', `${client.base} accepted the build of ${ref.path} but named no queue item (Location: ${res.headers.get('location') ?? 'none'})`);
    return { provider: 'jenkins', job: ref, triggerId: idempotencyKey, requestedAt, queueItem: Number(item) };
  };

  const testConnection = async (job?: CicdJobRef): Promise<CicdConnectionReport> => {
    const checks = connectionReport();
    const reached = await checks.check('Jenkins answers', async () => {
      const res = await client.get('/api/json', { query: { tree: 'mode' } });
      // Jenkins names itself in X-Jenkins on every answer, a refusal of the credentials included.
      const version = res.headers.get('x-jenkins');
      if (!version) {
        if (res.status >= 500) throw client.failure(res, 'the Jenkins root');
        throw new CicdError('jenkins', 'wrong_url', `${client.base} answered HTTP ${res.status} without Jenkins' X-Jenkins header: is it the address of Jenkins?`);
      }
      return `Jenkins ${version} at ${client.base}`;
    });
    if (!reached) return checks.report();
    const signedIn = await checks.check('credentials', async () => {
      const who = await client.getJson<{ name?: string; anonymous?: boolean }>('/whoAmI/api/json', 'whoAmI');
      if (who.anonymous) throw new CicdError('jenkins', 'bad_credentials', 'Jenkins took the request as anonymous: check the user and API token');
      return `signed in as ${who.name}`;
    });
    if (!signedIn) return checks.report();
    await checks.check('CSRF crumb', async () => {
      const res = await client.get('/crumbIssuer/api/json');
      if (res.status === 404) return 'CSRF protection is off: POSTs need no crumb';
      if (res.status !== 200) throw client.failure(res, 'the CSRF crumb');
      return 'a crumb was issued with its session cookie';
    });
    if (job) {
      const ref = jenkinsRef(job);
      const found = await checks.check(`job ${ref.path}`, async () => {
        const d = await describeJob(ref);
        if (!d.buildable) throw new CicdError('jenkins', 'not_buildable', `${d.name} is disabled or a folder`);
        return `${d.parameters.length} parameter(s)${d.idempotent ? '' : `; it does not define ${TRIGGER_ID_PARAMETER}, so a trigger retried after a crash could start a second build`}`;
      });
      if (found) {
        // Jenkins has no read-only question for Job/Build: a refused trigger names it. Reading config.xml shows Configure.
        await checks.check('read the job configuration', async () => {
          const res = await client.get(`/${jobUrlPath(ref.path)}/config.xml`);
          if (res.status !== 200) {
            throw lacking(client.failure(res, `the configuration of ${ref.path}`), 'Job/ExtendedRead');
          }
          return 'config.xml can be read (needed to show a diff before Drydock updates the job)';
        });
      }
    }
    return checks.report();
  };

  const verifyWebhook = (headers: CicdHeaders, body: string | Uint8Array, secret: string): CicdWebhookVerdict => {
    const token = headerValue(headers, 'x-drydock-token');
    if (token === undefined) return { ok: false, reason: 'unsigned', message: 'the Jenkins notification carries no X-Drydock-Token header' };
    if (!sameSecret(token, secret)) return { ok: false, reason: 'forged', message: 'the Jenkins notification carries a token that is not this connection’s webhook secret' };
    const json = jsonObject(body);
    const build = json?.['build'] as Record<string, unknown> | undefined;
    if (!json || !build || typeof build['phase'] !== 'string') return { ok: false, reason: 'malformed', message: 'the Jenkins notification is not JSON in the Notification plugin’s shape (name, url, build.phase)' };
    const path = jobPathFromUrl(String(json['url'] ?? ''));
    const phase = build['phase'];
    const number = typeof build['number'] === 'number' ? build['number'] : undefined;
    const parameters = (build['parameters'] ?? {}) as Record<string, unknown>;
    const triggerId = Object.entries(parameters).find(([k]) => isTriggerIdParameter(k))?.[1];
    let state: CicdBuildState | undefined;
    if (phase === 'QUEUED') state = 'queued';
    else if (phase === 'STARTED') state = 'running';
    else if (phase === 'COMPLETED' || phase === 'FINALIZED') state = resultState(typeof build['status'] === 'string' ? build['status'] : 'FAILURE', false);
    return {
      ok: true,
      event: {
        provider: 'jenkins',
        kind: 'build',
        type: phase,
        ...(path && number !== undefined ? { buildId: `jenkins:${path}#${number}` } : {}),
        ...(state ? { state } : {}),
        ...(typeof triggerId === 'string' ? { triggerId } : {}),
      },
    };
  };

  const readJobConfig = async (path: string): Promise<string | undefined> => {
    const res = await client.get(`/${jobUrlPath(path)}/config.xml`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw client.failure(res, `the configuration of ${path}`);
    return res.text;
  };

  const planJobConfig = async (path: string, configXml: string): Promise<JenkinsConfigPlan> => {
    parseJobConfig(configXml);
    const current = await readJobConfig(path);
    const diff = diffJobConfig(path, current, configXml);
    return { path, exists: current !== undefined, ...(current !== undefined ? { current } : {}), next: configXml, diff, changed: current !== configXml };
  };

  const applyJobConfig = async (plan: JenkinsConfigPlan): Promise<void> => {
    const headers = { 'content-type': 'application/xml; charset=utf-8' };
    const segments = plan.path.split('/').filter(Boolean);
    const name = segments.at(-1)!;
    const parent = segments.slice(0, -1).join('/');
    const res = plan.exists
      ? await client.post(`/${jobUrlPath(plan.path)}/config.xml`, { headers, body: plan.next })
      : await client.post(`${parent ? `/${jobUrlPath(parent)}` : ''}/createItem`, { query: { name }, headers, body: plan.next });
    if (res.status !== 200) {
      const err = client.failure(res, plan.exists ? `the configuration of ${plan.path}` : `a new job ${plan.path}`);
      if (res.status === 400 && /already exists/i.test(res.text)) {
        throw new CicdError('jenkins', 'rejected', `${plan.path} was created by someone else since the plan was made: plan again to see its configuration`);
      }
      throw err;
    }
  };

  return { kind: 'jenkins', testConnection, describeJob, trigger, status, logs, cancel, verifyWebhook, readJobConfig, planJobConfig, applyJobConfig };
}
