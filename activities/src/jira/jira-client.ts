import { createHash } from 'node:crypto';
import { HttpException, Version2Client, Version3Client } from 'jira.js';
import { adfDescription, type FailureDescription, issueSummary, wikiDescription } from './jira-description.ts';
import { JiraError } from './jira-error.ts';

/** A Jira connection as the feature will keep it per team: Cloud with an email and API token, or Data Center with a personal access token. */
export type JiraConnection =
  | { deployment: 'cloud'; url: string; email: string; apiToken: string }
  | { deployment: 'data_center'; url: string; personalAccessToken: string };

export interface JiraClientOptions {
  /** Per request; default 30 s. An attachment upload gets this plus its size at 256 KiB/s. */
  timeoutMs?: number;
  /** Attempts at attaching the bundle to an issue just created, for failures worth retrying; default 3. */
  attachmentAttempts?: number;
  /** Waits between attachment attempts (tests pass a fake); default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/** What a run shows of its issue. */
export interface JiraIssueRef {
  id: string;
  key: string;
  /** The issue's page: `<url>/browse/<key>`. */
  url: string;
  summary: string;
  status: { name: string; category: 'new' | 'indeterminate' | 'done' | 'unknown' };
  labels: string[];
}

/** Which failure an issue is about: one open issue per script and host. */
export interface JiraFingerprint {
  scriptId: string;
  hostId: string;
}

export interface JiraIssueDraft {
  /** The project key (`OPS`). */
  project: string;
  /** The issue type's name (`Bug`) or id. */
  issueType: string;
  summary: string;
  description: FailureDescription;
  /** From the manifest; Jira labels cannot hold spaces, so `jiraLabel` is applied. */
  labels?: string[];
  /** Component names, which must exist in the project. */
  components?: string[];
  /** Adds the `drydock-<hash>` label that `findOpenIssue` searches by. */
  fingerprint?: JiraFingerprint;
}

/**
 * The bundle to attach. `file` is a Blob; one from `fs.openAsBlob(path)` is read from disk as it is sent, so an
 * archive of any size is never held in memory.
 */
export interface JiraAttachment {
  filename: string;
  file: Blob;
  mimeType?: string;
}

export interface JiraAttachmentRef {
  id: string;
  filename: string;
  size: number;
}

/**
 * What `fileIssue` did. The issue exists in every case: when the bundle could not be attached after the attempts,
 * `attachment.status` is `failed` with Jira's reason, and the issue is kept (see activities/README.md: Jira).
 */
export interface FiledIssue {
  issue: JiraIssueRef;
  attachment: { status: 'attached'; attachment: JiraAttachmentRef } | { status: 'failed'; message: string; attempts: number } | { status: 'none' };
}

export interface RunLink {
  runId: string;
  url: string;
  title: string;
  summary?: string;
  /** A finished successful run shows as resolved in Jira's link list. */
  resolved?: boolean;
}

export interface JiraConnectionReport {
  ok: boolean;
  server?: { version: string; deploymentType: string; title: string };
  user?: { name: string; displayName: string };
  checks: { name: string; ok: boolean; detail: string }[];
}

export interface JiraClient {
  /** Whether the URL is Jira's, which version, and whether the credentials sign in. Never throws for a failed check. */
  testConnection(): Promise<JiraConnectionReport>;
  createIssue(draft: JiraIssueDraft): Promise<JiraIssueRef>;
  attach(issueKey: string, attachment: JiraAttachment): Promise<JiraAttachmentRef>;
  getIssue(issueKey: string): Promise<JiraIssueRef>;
  /** Checks that the issue exists, then adds the run as a remote link (again: updates it). Returns the issue. */
  linkRun(issueKey: string, link: RunLink): Promise<JiraIssueRef>;
  /** The newest issue not done that carries the fingerprint's label, in `project` when given. */
  findOpenIssue(fingerprint: JiraFingerprint, project?: string): Promise<JiraIssueRef | null>;
  /**
   * Checks everything Jira lets us check first (project, issue type, required fields, components, attachment
   * size and permission), then creates the issue and attaches the file. See FiledIssue for an attachment that fails.
   */
  fileIssue(draft: JiraIssueDraft, attachment?: JiraAttachment): Promise<FiledIssue>;
}

const MAX_RETRY_WAIT_MS = 60_000;
const ISSUE_KEY = /^[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*$/;
const PROJECT_KEY = /^[A-Za-z][A-Za-z0-9_]{0,254}$/;
/** Fields the filed issue sets, or Jira fills by itself. */
const FIELDS_WE_SET = new Set(['project', 'issuetype', 'summary', 'description', 'labels', 'components', 'reporter']);

/** A string as a JQL value: double-quoted, with backslashes and quotes escaped. */
export function jqlString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The label that marks issues filed for one script on one host. */
export function fingerprintLabel(fingerprint: JiraFingerprint): string {
  return `drydock-${createHash('sha256').update(`${fingerprint.scriptId}\n${fingerprint.hostId}`).digest('hex').slice(0, 16)}`;
}

/** A manifest tag as a Jira label: Jira refuses whitespace in labels. */
export function jiraLabel(tag: string): string {
  return tag.trim().replace(/\s+/g, '-').slice(0, 255);
}

function issueKey(key: string): string {
  if (!ISSUE_KEY.test(key)) throw new JiraError('invalid_input', `${JSON.stringify(key)} is not a Jira issue key: a project key, a dash and a number, like OPS-123`);
  return key.toUpperCase();
}

function projectKey(key: string): string {
  if (!PROJECT_KEY.test(key)) throw new JiraError('invalid_input', `${JSON.stringify(key)} is not a Jira project key: letters, digits and _, starting with a letter, like OPS`);
  return key.toUpperCase();
}

interface JiraBody {
  errorMessages?: unknown;
  errors?: unknown;
  message?: unknown;
}

/** Jira's own words from an error body: `errorMessages`, then `errors` per field. */
function jiraWords(data: unknown): { messages: string[]; fields: Record<string, string> } {
  if (typeof data === 'string') return { messages: data.trim() && !/^\s*</.test(data) ? [data.trim().slice(0, 500)] : [], fields: {} };
  const body = (data ?? {}) as JiraBody;
  const messages = Array.isArray(body.errorMessages) ? body.errorMessages.filter((m): m is string => typeof m === 'string') : [];
  if (messages.length === 0 && typeof body.message === 'string') messages.push(body.message);
  const fields =
    body.errors && typeof body.errors === 'object' ? Object.fromEntries(Object.entries(body.errors as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
  return { messages, fields };
}

interface AxiosLike {
  isAxiosError?: boolean;
  code?: string;
  message?: string;
  response?: { status?: number; headers?: Record<string, unknown> };
}

/**
 * A jira.js failure as a JiraError that says what to do. The cause is dropped on purpose: jira.js keeps the axios
 * error, whose request config holds the Authorization header.
 */
function jiraFailure(err: unknown, connection: JiraConnection, what: string): JiraError {
  if (err instanceof JiraError) return err;
  const where = `Jira at ${connection.url}`;
  if (err instanceof HttpException) {
    const status = err.status;
    const data = (err.response as { data?: unknown }).data;
    const cause = err.cause as AxiosLike | undefined;
    const { messages, fields } = jiraWords(data);
    const said = [...messages, ...Object.entries(fields).map(([f, m]) => `${f}: ${m}`)].join('; ');
    const quoted = said ? `: ${said}` : '';
    if (status >= 300 && status < 400) {
      const location = cause?.response?.headers?.location;
      return new JiraError('wrong_url', `${where} answered ${what} with a redirect${typeof location === 'string' ? ` to ${location}` : ''}: give Drydock Jira's base URL (the address its pages are under)`, { status });
    }
    if (status === 401) {
      const credential = connection.deployment === 'cloud' ? `the email ${connection.email} and its API token` : 'the personal access token';
      return new JiraError('bad_credentials', `${where} refused ${credential} (401)${quoted}: check them, and that the token has not expired or been revoked`, { status });
    }
    if (status === 403) return new JiraError('permission_denied', `${where} refused ${what} (403)${quoted || ': the account lacks the permission'}`, { status });
    if (status === 404) return new JiraError('not_found', `${where} found nothing for ${what} (404)${quoted}`, { status });
    if (status === 413) return new JiraError('attachment_refused', `${where} refused ${what}: the file is over its attachment size limit${quoted}`, { status });
    if (status === 429) {
      const after = Number(cause?.response?.headers?.['retry-after']);
      return new JiraError('rate_limited', `${where} is rate limiting ${what} (429)${quoted}; try again later`, { status, ...(Number.isFinite(after) ? { retryAfterMs: after * 1000 } : {}) });
    }
    if (status >= 500) return new JiraError('unavailable', `${where} failed ${what} (HTTP ${status})${quoted}; try again later`, { status });
    return new JiraError('rejected', `${where} refused ${what} (HTTP ${status})${quoted}`, { status, fields });
  }
  const axios = err as AxiosLike;
  if (axios?.isAxiosError) return new JiraError('unreachable', `${where} cannot be reached for ${what}: ${axios.code ?? ''} ${axios.message ?? ''}`.replace(/\s+/g, ' ').trim());
  return new JiraError('unreachable', `${where} failed ${what}: ${(err as Error)?.message ?? String(err)}`);
}

interface IssueBody {
  id?: string;
  key?: string;
  fields?: { summary?: string; labels?: string[]; status?: { name?: string; statusCategory?: { key?: string } } };
}

/** The slowest upload Drydock waits for before it calls Jira unreachable: 256 KiB/s. */
const UPLOAD_FLOOR_BYTES_PER_S = 256 * 1024;

export function createJiraClient(connection: JiraConnection, options: JiraClientOptions = {}): JiraClient {
  let base: URL;
  try {
    base = new URL(connection.url);
  } catch {
    throw new JiraError('invalid_input', `${JSON.stringify(connection.url)} is not a URL: give Jira's address, like https://example.atlassian.net`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new JiraError('invalid_input', `${connection.url} is not an http(s) URL`);
  const host = connection.url.replace(/\/+$/, '');
  // A redirect is answered as a wrong URL rather than followed: following one buffers every request body for replay.
  const baseRequestConfig = { timeout: options.timeoutMs ?? 30_000, maxRedirects: 0 };
  const cloud = connection.deployment === 'cloud';
  const clientWith = (requestConfig: typeof baseRequestConfig): JiraApi =>
    cloud
      ? new Version3Client({ host, authentication: { basic: { email: connection.email, apiToken: connection.apiToken } }, baseRequestConfig: requestConfig })
      : new Version2Client({ host, authentication: { oauth2: { accessToken: connection.personalAccessToken } }, baseRequestConfig: requestConfig });
  const client = clientWith(baseRequestConfig);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = Math.max(1, options.attachmentAttempts ?? 3);

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw jiraFailure(err, connection, what);
    }
  };

  const ref = (body: IssueBody): JiraIssueRef => {
    const category = body.fields?.status?.statusCategory?.key;
    return {
      id: String(body.id ?? ''),
      key: String(body.key ?? ''),
      url: `${host}/browse/${body.key ?? ''}`,
      summary: body.fields?.summary ?? '',
      status: { name: body.fields?.status?.name ?? '', category: category === 'new' || category === 'indeterminate' || category === 'done' ? category : 'unknown' },
      labels: body.fields?.labels ?? [],
    };
  };

  const getIssue = async (key: string): Promise<JiraIssueRef> => {
    const k = issueKey(key);
    const body = await call(`issue ${k}`, () => client.issues.getIssue({ issueIdOrKey: k, fields: ['summary', 'status', 'labels'] }));
    return ref(body as IssueBody);
  };

  const fieldsOf = (draft: JiraIssueDraft) => {
    const labels = [...(draft.labels ?? []).map(jiraLabel).filter(Boolean), ...(draft.fingerprint ? [fingerprintLabel(draft.fingerprint)] : [])];
    return {
      project: { key: projectKey(draft.project) },
      issuetype: /^\d+$/.test(draft.issueType) ? { id: draft.issueType } : { name: draft.issueType },
      summary: issueSummary(draft.summary),
      description: cloud ? adfDescription(draft.description) : wikiDescription(draft.description),
      labels: [...new Set(labels)],
      ...(draft.components && draft.components.length > 0 ? { components: draft.components.map((name) => ({ name })) } : {}),
    };
  };

  const createIssue = async (draft: JiraIssueDraft): Promise<JiraIssueRef> => {
    const fields = fieldsOf(draft);
    // jira.js types the v3 description as its own Document model; the ADF built here is that shape.
    const created = (await call(`the new issue in ${fields.project.key}`, () => client.issues.createIssue({ fields }))) as { id?: string; key?: string };
    return { ...ref({ id: created.id ?? '', key: created.key ?? '' }), summary: fields.summary, labels: fields.labels, status: { name: '', category: 'new' } };
  };

  const uploadClient = (bytes: number): JiraApi => clientWith({ ...baseRequestConfig, timeout: baseRequestConfig.timeout + Math.ceil((bytes / UPLOAD_FLOOR_BYTES_PER_S) * 1000) });

  const attach = async (key: string, attachment: JiraAttachment): Promise<JiraAttachmentRef> => {
    const k = issueKey(key);
    const added = await call(`the attachment ${attachment.filename} to ${k}`, () =>
      // A bundle of hundreds of MiB on a slow link outlasts the calls' timeout: an upload gets that plus its size at a floor rate.
      uploadClient(attachment.file.size).issueAttachments.addAttachment({ issueIdOrKey: k, attachment: { filename: attachment.filename, file: typed(attachment) } }),
    );
    const first = (added as { id?: string; filename?: string; size?: number }[])[0];
    if (!first) throw new JiraError('rejected', `Jira at ${host} answered the attachment to ${k} without the attachment`);
    return { id: String(first.id ?? ''), filename: first.filename ?? attachment.filename, size: first.size ?? attachment.file.size };
  };

  /** What would make Jira refuse the issue or its attachment, asked before anything is created. */
  const preflight = async (draft: JiraIssueDraft, attachment?: JiraAttachment): Promise<void> => {
    const project = projectKey(draft.project);
    const page = (await call(`the issue types of project ${project}`, () => client.issues.getCreateIssueMetaIssueTypes({ projectIdOrKey: project }))) as {
      issueTypes?: { id?: string; name?: string }[];
      values?: { id?: string; name?: string }[];
    };
    const types = page.issueTypes ?? page.values ?? [];
    const type = types.find((t) => t.id === draft.issueType || t.name?.toLowerCase() === draft.issueType.toLowerCase());
    if (!type?.id) {
      throw new JiraError('rejected', `project ${project} has no issue type "${draft.issueType}"; it has ${types.map((t) => t.name).join(', ') || 'none this account may create'}`, { fields: { issuetype: 'not in the project' } });
    }
    const meta = (await call(`the fields of ${type.name} in ${project}`, () => client.issues.getCreateIssueMetaIssueTypeId({ projectIdOrKey: project, issueTypeId: type.id! }))) as {
      fields?: FieldMeta[];
      results?: FieldMeta[];
      values?: FieldMeta[];
    };
    const fields = meta.fields ?? meta.results ?? meta.values ?? [];
    const unfilled = fields.filter((f) => f.required && !f.hasDefaultValue && !FIELDS_WE_SET.has(f.fieldId ?? f.key ?? ''));
    if (unfilled.length > 0) {
      throw new JiraError(
        'rejected',
        `Jira requires ${unfilled.map((f) => `"${f.name}" (${f.fieldId ?? f.key})`).join(', ')} for a ${type.name} in ${project}, which Drydock does not fill: make ${unfilled.length > 1 ? 'them' : 'it'} optional or give ${unfilled.length > 1 ? 'them defaults' : 'it a default'} for this issue type, or choose another`,
        { fields: Object.fromEntries(unfilled.map((f) => [f.fieldId ?? f.key ?? f.name ?? '', `${f.name} is required.`])) },
      );
    }
    const allowed = fields.find((f) => (f.fieldId ?? f.key) === 'components')?.allowedValues?.map((v) => v.name) ?? [];
    const unknown = (draft.components ?? []).filter((c) => !allowed.includes(c));
    if (unknown.length > 0) {
      throw new JiraError('rejected', `project ${project} has no component ${unknown.map((c) => `"${c}"`).join(', ')}; it has ${allowed.map((c) => `"${c}"`).join(', ') || 'none'}`, {
        fields: { components: `Component name '${unknown[0]}' is not valid` },
      });
    }
    if (!attachment) return;
    const settings = (await call('the attachment settings', () => client.issueAttachments.getAttachmentMeta())) as { enabled?: boolean; uploadLimit?: number };
    if (settings.enabled === false) throw new JiraError('attachment_refused', `Jira at ${host} has attachments turned off: an administrator can turn them on, or file the issue without the bundle`);
    if (settings.uploadLimit !== undefined && attachment.file.size > settings.uploadLimit) {
      throw new JiraError(
        'attachment_refused',
        `${attachment.filename} is ${attachment.file.size} bytes, over Jira's attachment limit of ${settings.uploadLimit} bytes: lower the bundle's limits or file the issue without it`,
      );
    }
    const permissions = (await call(`the account's permissions in ${project}`, () => client.permissions.getMyPermissions({ projectKey: project, permissions: 'CREATE_ISSUES,CREATE_ATTACHMENTS' }))) as {
      permissions?: Record<string, { havePermission?: boolean }>;
    };
    const lacking = ['CREATE_ISSUES', 'CREATE_ATTACHMENTS'].filter((p) => permissions.permissions?.[p]?.havePermission !== true);
    if (lacking.length > 0) throw new JiraError('permission_denied', `the Jira account may not ${lacking.map((p) => (p === 'CREATE_ISSUES' ? 'create issues' : 'add attachments')).join(' or ')} in ${project}: ask a Jira administrator for the ${lacking.join(' and ')} permission`);
  };

  return {
    async testConnection() {
      const checks: JiraConnectionReport['checks'] = [];
      const report: JiraConnectionReport = { ok: false, checks };
      try {
        const info = (await call('serverInfo', () => client.serverInfo.getServerInfo())) as { version?: unknown; deploymentType?: unknown; serverTitle?: unknown };
        if (typeof info !== 'object' || info === null || typeof info.version !== 'string') throw new JiraError('wrong_url', `${host} answered, but not as Jira's REST API: check the URL`);
        report.server = { version: info.version, deploymentType: String(info.deploymentType ?? ''), title: String(info.serverTitle ?? 'Jira') };
        const expected = cloud ? 'Cloud' : 'Server';
        const kindOk = info.deploymentType === expected || (!cloud && info.deploymentType === 'DataCenter');
        checks.push({
          name: 'server',
          ok: kindOk,
          detail: kindOk
            ? `Jira ${info.deploymentType} ${info.version}`
            : `Jira ${String(info.deploymentType)} ${info.version} answered, but the connection is for ${cloud ? 'Jira Cloud' : 'Jira Data Center'}: choose the other kind`,
        });
      } catch (err) {
        let detail = (err as Error).message;
        if (cloud && err instanceof JiraError && err.reason === 'not_found') {
          // Data Center has no REST API v3: ask its v2 (serverInfo needs no sign-in) whether that is what is there.
          const info = (await new Version2Client({ host, baseRequestConfig }).serverInfo.getServerInfo().catch(() => undefined)) as { version?: unknown; deploymentType?: unknown } | undefined;
          if (typeof info?.version === 'string') detail = `Jira ${String(info.deploymentType)} ${info.version} answered, but the connection is for Jira Cloud: choose the other kind`;
        }
        checks.push({ name: 'server', ok: false, detail });
        return report;
      }
      try {
        const me = (await call('the signed-in account', () => client.myself.getCurrentUser())) as { displayName?: string; emailAddress?: string; name?: string; accountId?: string };
        report.user = { name: me.name ?? me.emailAddress ?? me.accountId ?? '', displayName: me.displayName ?? '' };
        checks.push({ name: 'credentials', ok: true, detail: `signed in as ${me.displayName ?? report.user.name}` });
      } catch (err) {
        checks.push({ name: 'credentials', ok: false, detail: (err as Error).message });
      }
      report.ok = checks.every((c) => c.ok);
      return report;
    },

    createIssue,
    attach,
    getIssue,

    async linkRun(key, link) {
      const issue = await getIssue(key);
      await call(`the link from ${issue.key} to run ${link.runId}`, () =>
        client.issueRemoteLinks.createOrUpdateRemoteIssueLink({
          issueIdOrKey: issue.key,
          globalId: `drydock:run:${link.runId}`,
          application: { type: 'io.drydock', name: 'Drydock' },
          relationship: 'Drydock run',
          object: { url: link.url, title: link.title, ...(link.summary ? { summary: link.summary } : {}), status: { resolved: link.resolved ?? false } },
        }),
      );
      return issue;
    },

    async findOpenIssue(fingerprint, project) {
      const jql = [...(project ? [`project = ${jqlString(projectKey(project))}`] : []), `labels = ${jqlString(fingerprintLabel(fingerprint))}`, 'statusCategory != Done'].join(' AND ') + ' ORDER BY created DESC';
      const fields = ['summary', 'status', 'labels'];
      const what = `the open issue for ${fingerprint.scriptId} on ${fingerprint.hostId}`;
      // Cloud removed /search for /search/jql; Data Center has only /search.
      const found = (await call(what, () =>
        cloud
          ? client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql, fields, maxResults: 1 })
          : client.issueSearch.searchForIssuesUsingJql({ jql, fields, maxResults: 1 }),
      )) as { issues?: IssueBody[] };
      const first = found.issues?.[0];
      return first ? ref(first) : null;
    },

    async fileIssue(draft, attachment) {
      await preflight(draft, attachment);
      const issue = await createIssue(draft);
      if (!attachment) return { issue, attachment: { status: 'none' } };
      let last: JiraError | undefined;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          return { issue, attachment: { status: 'attached', attachment: await attach(issue.key, attachment) } };
        } catch (err) {
          last = jiraFailure(err, connection, 'the attachment');
          // A wait Jira asks for past a minute is not waited out inside one filing: the issue says what happened.
          if (!last.retryable || attempt === attempts || (last.retryAfterMs ?? 0) > MAX_RETRY_WAIT_MS) {
            return {
              issue,
              attachment: {
                status: 'failed',
                attempts: attempt,
                message: `${issue.key} was created (${issue.url}), but the bundle could not be attached after ${attempt} attempt${attempt > 1 ? 's' : ''}: ${last.message}. Attach it to ${issue.key} again from the run, or by hand`,
              },
            };
          }
          await sleep(last.retryAfterMs ?? 1_000 * 2 ** (attempt - 1));
        }
      }
      throw last ?? new JiraError('unavailable', 'the attachment was not attempted');
    },
  };
}

/** The calls used, as both jira.js clients have them (their union is not callable: the model types differ). */
interface JiraApi {
  issues: {
    getIssue(p: { issueIdOrKey: string; fields: string[] }): Promise<unknown>;
    // The description is ADF for v3 and wiki markup for v2: each client is given its own.
    createIssue(p: { fields: Record<string, unknown> }): Promise<unknown>;
    getCreateIssueMetaIssueTypes(p: { projectIdOrKey: string }): Promise<unknown>;
    getCreateIssueMetaIssueTypeId(p: { projectIdOrKey: string; issueTypeId: string }): Promise<unknown>;
  };
  issueAttachments: {
    addAttachment(p: { issueIdOrKey: string; attachment: { filename: string; file: Blob; mimeType?: string } }): Promise<unknown>;
    getAttachmentMeta(): Promise<unknown>;
  };
  permissions: { getMyPermissions(p: { projectKey: string; permissions: string }): Promise<unknown> };
  issueRemoteLinks: {
    createOrUpdateRemoteIssueLink(p: {
      issueIdOrKey: string;
      globalId: string;
      application: { type: string; name: string };
      relationship: string;
      object: { url: string; title: string; summary?: string; status: { resolved: boolean } };
    }): Promise<unknown>;
  };
  issueSearch: {
    searchForIssuesUsingJqlEnhancedSearch(p: { jql: string; fields: string[]; maxResults: number }): Promise<unknown>;
    searchForIssuesUsingJql(p: { jql: string; fields: string[]; maxResults: number }): Promise<unknown>;
  };
  serverInfo: { getServerInfo(): Promise<unknown> };
  myself: { getCurrentUser(): Promise<unknown> };
}

/** jira.js sends a Blob with its own type and ignores `mimeType`: a slice carries the type without reading the file. */
function typed(attachment: JiraAttachment): Blob {
  return attachment.mimeType && attachment.file.type !== attachment.mimeType ? attachment.file.slice(0, attachment.file.size, attachment.mimeType) : attachment.file;
}

interface FieldMeta {
  fieldId?: string;
  key?: string;
  name?: string;
  required?: boolean;
  hasDefaultValue?: boolean;
  allowedValues?: { name?: string }[];
}
