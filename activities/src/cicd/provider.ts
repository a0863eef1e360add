// One interface for every CI/CD system Drydock triggers, one folder per implementation (jenkins/, github/, gitlab/,
// circleci/). Everything here is plain JSON so handles, statuses and events can cross a Temporal activity boundary.

export const CICD_PROVIDER_KINDS = ['jenkins', 'github', 'gitlab', 'circleci'] as const;
export type CicdProviderKind = (typeof CICD_PROVIDER_KINDS)[number];

/** A Jenkins job by its full path: folders and the job, `team/deploy/api` (`job/team/job/deploy/job/api` on the wire). */
export interface JenkinsJobRef {
  provider: 'jenkins';
  path: string;
}

/** A GitHub Actions workflow: its file name under `.github/workflows` (or numeric id), run on `ref`. */
export interface GithubJobRef {
  provider: 'github';
  owner: string;
  repo: string;
  workflow: string;
  ref: string;
}

/** A GitLab project (numeric id or `group/sub/project`) whose pipeline runs on `ref`. */
export interface GitlabJobRef {
  provider: 'gitlab';
  project: string;
  ref: string;
}

/** A CircleCI project (`gh/org/repo`, `bb/org/repo`, `circleci/<org-id>/<project-id>`) whose pipeline runs on `branch`. */
export interface CircleciJobRef {
  provider: 'circleci';
  projectSlug: string;
  branch: string;
}

export type CicdJobRef = JenkinsJobRef | GithubJobRef | GitlabJobRef | CircleciJobRef;

export type CicdParameterType = 'string' | 'text' | 'boolean' | 'choice' | 'number' | 'password';

/** A parameter the job defines, as the provider describes it. */
export interface CicdParameterDefinition {
  name: string;
  type: CicdParameterType;
  description?: string;
  default?: string | number | boolean;
  choices?: string[];
  required?: boolean;
}

export type CicdParamValue = string | number | boolean;
export type CicdParams = Record<string, CicdParamValue>;

export type CicdBuildState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface CicdBuildSummary {
  buildId: string;
  number?: number;
  state: CicdBuildState;
  url?: string;
}

/** The provider's current view of a job: what `trigger` checks parameters against and what the UI shows. */
export interface CicdJobDescription {
  ref: CicdJobRef;
  name: string;
  url?: string;
  /** False for a disabled job or workflow, or a Jenkins folder. */
  buildable: boolean;
  parameters: CicdParameterDefinition[];
  lastBuild?: CicdBuildSummary;
  /**
   * True when the job carries Drydock's trigger id into the build it starts, so a trigger retried after a crash
   * finds the build it already started instead of starting another. See activities/README.md per provider.
   */
  idempotent: boolean;
}

export interface CicdConnectionCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What works with these credentials, and what they lack (`actions:write`, `Job/Build`, the `api` scope). */
export interface CicdConnectionReport {
  ok: boolean;
  checks: CicdConnectionCheck[];
  missing: string[];
}

/**
 * A triggered build, re-findable after a crash. `buildId` is set once the provider has a build for it (a Jenkins
 * queue item that left the queue, a GitHub run found after the dispatch); until then `status` keeps looking.
 */
export interface CicdBuildHandle {
  provider: CicdProviderKind;
  job: CicdJobRef;
  triggerId: string;
  /** When the trigger was first asked for (ISO 8601): the lower bound of the search for its build. */
  requestedAt: string;
  /** Provider-unique: `jenkins:<path>#<n>`, `github:<owner>/<repo>/runs/<id>`, `gitlab:<project>/pipelines/<id>`, `circleci:pipeline/<uuid>`. */
  buildId?: string;
  number?: number;
  url?: string;
  /** Jenkins: the queue item that becomes the build. */
  queueItem?: number;
  /** GitHub: the run id; GitLab: the pipeline id. */
  runId?: number;
  /** CircleCI: the pipeline's UUID. */
  pipelineId?: string;
  /**
   * How the build is found again when the provider gave no id: by the trigger id it carries, or (a job that
   * cannot carry it) by who triggered it since `requestedAt`, which is right only while Drydock is the only one
   * triggering that job with these credentials.
   */
  correlation?: 'trigger-id' | 'actor';
}

export interface CicdStage {
  name: string;
  state: CicdBuildState | 'skipped';
  startedAt?: string;
  durationMs?: number;
  url?: string;
}

export interface CicdArtifact {
  name: string;
  url: string;
  sizeBytes?: number;
}

export interface CicdBuildStatus {
  /** The handle with what this look learned (build number, run id): keep it for the next call. */
  handle: CicdBuildHandle;
  state: CicdBuildState;
  /** The provider's own word: `UNSTABLE`, `timed_out`, `canceled`, `pending`. */
  providerState: string;
  url?: string;
  stages: CicdStage[];
  artifacts: CicdArtifact[];
  startedAt?: string;
  finishedAt?: string;
}

export interface CicdLogChunk {
  /** New log text since the cursor, whole lines only. */
  text: string;
  /** Pass back to get what follows; opaque. */
  cursor: string;
  /** The build is over and every line has been delivered. */
  complete: boolean;
}

export type CicdWebhookEventKind = 'build' | 'stage' | 'ping' | 'other';

export interface CicdWebhookEvent {
  provider: CicdProviderKind;
  kind: CicdWebhookEventKind;
  /** The provider's event name: `workflow_run`, `Pipeline Hook`, `workflow-completed`, `COMPLETED`. */
  type: string;
  /** Same form as `CicdBuildHandle.buildId`, when the event is about a build. */
  buildId?: string;
  state?: CicdBuildState;
  stage?: string;
  /** Drydock's trigger id when the event carries it. */
  triggerId?: string;
  deliveryId?: string;
}

export type CicdWebhookVerdict = { ok: true; event: CicdWebhookEvent } | { ok: false; reason: 'unsigned' | 'forged' | 'malformed'; message: string };

export interface CicdTriggerOptions {
  /** The job as the caller registered it: parameters are checked against it with no request at all. */
  definition?: CicdJobDescription;
  /** When the first attempt of this trigger was asked for: bounds the search for a build it may already have started. */
  requestedAt?: Date;
}

export type CicdHeaders = Record<string, string | string[] | undefined>;

/** One CI/CD system, reached with one connection's credentials. */
export interface CicdProvider {
  readonly kind: CicdProviderKind;
  /** Checks the URL, the credentials and, given a job, what the credentials may do with it. */
  testConnection(job?: CicdJobRef): Promise<CicdConnectionReport>;
  describeJob(job: CicdJobRef): Promise<CicdJobDescription>;
  /**
   * Starts a build, or returns the one this idempotency key already started. Parameters the job does not
   * define are refused before the trigger request (before any request with `options.definition`).
   */
  trigger(job: CicdJobRef, params: CicdParams, idempotencyKey: string, options?: CicdTriggerOptions): Promise<CicdBuildHandle>;
  status(handle: CicdBuildHandle): Promise<CicdBuildStatus>;
  /** Log text after `cursor` (from the start without one). */
  logs(handle: CicdBuildHandle, cursor?: string): Promise<CicdLogChunk>;
  cancel(handle: CicdBuildHandle): Promise<void>;
  /** A provider's webhook delivery, verified against the shared secret before its body is read. */
  verifyWebhook(headers: CicdHeaders, body: string | Uint8Array, secret: string): CicdWebhookVerdict;
}
