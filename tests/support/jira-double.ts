import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';

// No Jira can run here. This double speaks the part of Jira's REST API (v3 and v2 on Cloud, v2 on Data Center) that
// activities/src/jira uses, in the documented shapes, so that jira.js works against it unchanged. See tests/README.md.

export type JiraDeployment = 'cloud' | 'data_center';
export type JiraPermission = 'BROWSE_PROJECTS' | 'CREATE_ISSUES' | 'CREATE_ATTACHMENTS';

export interface JiraDoubleIssueType {
  id: string;
  name: string;
  /** Fields this issue type requires beyond summary (`customfield_10010`), as a project's field configuration can. */
  required?: { key: string; name: string }[];
}

export interface JiraDoubleProject {
  key: string;
  id: string;
  name: string;
  issueTypes: JiraDoubleIssueType[];
  components: string[];
}

export interface JiraDoubleUser {
  /** Cloud: the Atlassian account's email and an API token, over Basic. */
  email?: string;
  apiToken?: string;
  /** Data Center: a personal access token, as Bearer. */
  personalAccessToken?: string;
  name: string;
  displayName: string;
  /** Permissions by project key. */
  permissions: Record<string, JiraPermission[]>;
}

export interface JiraDoubleAttachment {
  id: string;
  filename: string;
  mimeType: string;
  size: number;
  sha256: string;
}

export interface JiraDoubleRemoteLink {
  id: number;
  globalId?: string;
  application?: { type?: string; name?: string };
  object: { url: string; title: string; summary?: string; status?: { resolved?: boolean } };
}

export interface JiraDoubleIssue {
  id: string;
  key: string;
  project: string;
  issueType: JiraDoubleIssueType;
  summary: string;
  /** ADF (v3) or wiki markup (v2), as it was sent. */
  description: unknown;
  labels: string[];
  components: string[];
  extra: Record<string, unknown>;
  status: { name: string; category: 'new' | 'indeterminate' | 'done' };
  created: string;
  attachments: JiraDoubleAttachment[];
  remoteLinks: JiraDoubleRemoteLink[];
}

export interface JiraDoubleRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** Which scheme the request carried (`Basic`, `Bearer`), never the credential. */
  auth?: string;
  /** The X-Atlassian-Token header. */
  atlassianToken?: string;
}

export interface JiraDoubleFault {
  method?: string;
  path: RegExp;
  /** Answer with this status (and Jira's error shape), or drop the connection without an answer. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  drop?: boolean;
  /** How many requests get it; default 1. */
  times?: number;
}

export interface JiraDouble {
  readonly url: string;
  readonly deployment: JiraDeployment;
  readonly issues: Map<string, JiraDoubleIssue>;
  readonly requests: JiraDoubleRequest[];
  attachmentSettings: { enabled: boolean; uploadLimit: number };
  /** The next matching requests fail as asked. */
  fail(fault: JiraDoubleFault): void;
  /** Moves an issue to a status (`Done` in category `done` closes it for "open issue" searches). */
  transition(key: string, name: string, category: 'new' | 'indeterminate' | 'done'): void;
  close(): Promise<void>;
}

const ADF_SCHEMA = (() => {
  const schema = JSON.parse(readFileSync(new URL('./jira-adf-schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  // The schema is draft-04, which only differs from what Ajv reads by default in keywords it does not use.
  delete schema.$schema;
  return schema;
})();
let adfValidator: ValidateFunction | undefined;
/** Whether a document is valid Atlassian Document Format, by the ADF JSON schema Atlassian publishes. */
export function validAdf(doc: unknown): boolean {
  adfValidator ??= new Ajv({ strict: false, allErrors: false }).compile(ADF_SCHEMA);
  return adfValidator(doc) === true;
}

const CATEGORY = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
} as const;

class Reply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}
const jiraErrors = (status: number, errorMessages: string[], errors: Record<string, string> = {}) => new Reply(status, { errorMessages, errors });

/** Jira's JQL, the subset Drydock sends: clauses joined by AND, `ORDER BY created DESC|ASC`. */
interface JqlClause {
  field: 'project' | 'labels' | 'statuscategory' | 'key' | 'status';
  op: '=' | '!=';
  value: string;
}

export function parseJql(jql: string): { clauses: JqlClause[]; order: 'asc' | 'desc' } {
  let i = 0;
  const space = () => {
    while (/\s/.test(jql[i] ?? '')) i++;
  };
  const word = () => {
    space();
    const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(jql.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  const value = (): string => {
    space();
    const quote = jql[i];
    if (quote === '"' || quote === "'") {
      let out = '';
      i++;
      for (;;) {
        const c = jql[i];
        if (c === undefined) throw new Error(`Error in the JQL Query: The quoted string '${out}' has not been completed.`);
        if (c === '\\') {
          out += jql[i + 1] ?? '';
          i += 2;
          continue;
        }
        i++;
        if (c === quote) return out;
        out += c;
      }
    }
    const w = word();
    if (w === undefined) throw new Error(`Error in the JQL Query: Expecting either a value, list or function but got '${jql.slice(i, i + 10)}'.`);
    return w;
  };
  const clauses: JqlClause[] = [];
  let order: 'asc' | 'desc' = 'desc';
  for (;;) {
    const field = word();
    if (field === undefined) throw new Error(`Error in the JQL Query: Expecting a field name at position ${i}.`);
    if (field.toLowerCase() === 'order') {
      if (word()?.toLowerCase() !== 'by' || word()?.toLowerCase() !== 'created') throw new Error('Error in the JQL Query: this double orders by created only.');
      const dir = word()?.toLowerCase() ?? 'asc';
      order = dir === 'desc' ? 'desc' : 'asc';
      break;
    }
    const name = field.toLowerCase();
    if (!['project', 'labels', 'statuscategory', 'key', 'status'].includes(name)) throw new Error(`Field '${field}' does not exist or you do not have permission to view it.`);
    space();
    const op = jql.startsWith('!=', i) ? '!=' : jql[i] === '=' ? '=' : undefined;
    if (!op) throw new Error(`Error in the JQL Query: Expecting operator but got '${jql.slice(i, i + 5)}'.`);
    i += op.length;
    clauses.push({ field: name as JqlClause['field'], op, value: value() });
    const next = word();
    if (next === undefined) break;
    if (next.toLowerCase() === 'and') continue;
    if (next.toLowerCase() === 'order') {
      i -= next.length;
      continue;
    }
    throw new Error(`Error in the JQL Query: Expecting either 'OR' or 'AND' but got '${next}'.`);
  }
  space();
  if (i < jql.length) throw new Error(`Error in the JQL Query: unexpected '${jql.slice(i)}'.`);
  return { clauses, order };
}

/** A multipart/form-data body, read as it streams: each part's headers, length and SHA-256, never its bytes. */
async function readMultipart(req: IncomingMessage, boundary: string, limit: number): Promise<{ name: string; filename?: string; type: string; size: number; sha256: string }[] | 'too-large'> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const parts: { name: string; filename?: string; type: string; size: number; sha256: string }[] = [];
  let buf = Buffer.from('\r\n');
  let state: 'preamble' | 'after' | 'headers' | 'body' | 'done' = 'preamble';
  let current: { name: string; filename?: string; type: string; size: number; hash: ReturnType<typeof createHash> } | undefined;
  let tooLarge = false;
  const feed = (bytes: Buffer) => {
    if (!current) return;
    current.size += bytes.byteLength;
    if (current.size > limit) tooLarge = true;
    current.hash.update(bytes);
  };
  for await (const chunk of req) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    for (;;) {
      if (state === 'preamble' || state === 'body') {
        const at = buf.indexOf(delimiter);
        if (at === -1) {
          const keep = Math.max(0, buf.byteLength - delimiter.byteLength);
          if (state === 'body') feed(buf.subarray(0, keep));
          buf = buf.subarray(keep);
          break;
        }
        if (state === 'body' && current) {
          feed(buf.subarray(0, at));
          parts.push({ name: current.name, type: current.type, size: current.size, sha256: current.hash.digest('hex'), ...(current.filename !== undefined ? { filename: current.filename } : {}) });
          current = undefined;
        }
        buf = buf.subarray(at + delimiter.byteLength);
        state = 'after';
      } else if (state === 'after') {
        if (buf.byteLength < 2) break;
        state = buf.subarray(0, 2).toString() === '--' ? 'done' : 'headers';
        buf = buf.subarray(2);
      } else if (state === 'headers') {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) break;
        const headers = buf.subarray(0, end).toString('utf8');
        buf = buf.subarray(end + 4);
        const disposition = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(headers)?.[1] ?? '';
        const filename = /filename="([^"]*)"/.exec(disposition)?.[1];
        current = {
          name: /\bname="([^"]*)"/.exec(disposition)?.[1] ?? '',
          type: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim() ?? 'text/plain',
          size: 0,
          hash: createHash('sha256'),
          ...(filename !== undefined ? { filename } : {}),
        };
        state = 'body';
      } else {
        buf = Buffer.alloc(0);
        break;
      }
    }
  }
  return tooLarge ? 'too-large' : parts;
}

/** Starts the double on 127.0.0.1 and a free port. */
export async function startJiraDouble(options: {
  deployment: JiraDeployment;
  projects: JiraDoubleProject[];
  users: JiraDoubleUser[];
  attachments?: { enabled: boolean; uploadLimit: number };
}): Promise<JiraDouble> {
  const { deployment } = options;
  const issues = new Map<string, JiraDoubleIssue>();
  const requests: JiraDoubleRequest[] = [];
  const faults: JiraDoubleFault[] = [];
  const counters = new Map<string, number>();
  const sockets = new Set<Socket>();
  let nextId = 10_000;
  let nextLink = 1;
  const double = {
    attachmentSettings: options.attachments ?? { enabled: true, uploadLimit: 10 * 1024 * 1024 },
  };
  let base = '';

  const authenticate = (req: IncomingMessage): JiraDoubleUser | undefined | 'wrong-scheme' => {
    const header = req.headers.authorization ?? '';
    const [scheme, credential = ''] = header.split(' ');
    if (!scheme) return undefined;
    if (deployment === 'cloud') {
      if (scheme !== 'Basic') return 'wrong-scheme';
      const decoded = Buffer.from(credential, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return options.users.find((u) => u.email === decoded.slice(0, colon) && u.apiToken === decoded.slice(colon + 1));
    }
    if (scheme !== 'Bearer') return 'wrong-scheme';
    return options.users.find((u) => u.personalAccessToken === credential);
  };

  const can = (user: JiraDoubleUser, project: string, permission: JiraPermission) => (user.permissions[project] ?? []).includes(permission);
  const projectOf = (idOrKey: string) => options.projects.find((p) => p.key === idOrKey.toUpperCase() || p.id === idOrKey);
  const userView = (user: JiraDoubleUser) =>
    deployment === 'cloud'
      ? { self: `${base}/rest/api/3/user?accountId=${user.name}`, accountId: user.name, accountType: 'atlassian', emailAddress: user.email, displayName: user.displayName, active: true, timeZone: 'Etc/UTC', locale: 'en_US' }
      : { self: `${base}/rest/api/2/user?username=${user.name}`, key: user.name, name: user.name, emailAddress: user.email, displayName: user.displayName, active: true, timeZone: 'Etc/UTC' };

  const issueView = (issue: JiraDoubleIssue, version: string, fields: string[] | undefined) => {
    const all: Record<string, unknown> = {
      summary: issue.summary,
      status: { self: `${base}/rest/api/${version}/status/1`, name: issue.status.name, id: '1', statusCategory: { self: `${base}/rest/api/${version}/statuscategory/${CATEGORY[issue.status.category].id}`, ...CATEGORY[issue.status.category] } },
      labels: issue.labels,
      components: issue.components.map((name, i) => ({ id: String(i + 1), name })),
      issuetype: { id: issue.issueType.id, name: issue.issueType.name },
      project: { id: projectOf(issue.project)!.id, key: issue.project },
      description: issue.description,
      created: issue.created,
      attachment: issue.attachments.map((a) => ({ id: a.id, filename: a.filename, size: a.size, mimeType: a.mimeType })),
      ...issue.extra,
    };
    const wanted = fields && !fields.includes('*all') ? Object.fromEntries(Object.entries(all).filter(([k]) => fields.includes(k))) : all;
    return { expand: 'renderedFields,names,schema', id: issue.id, self: `${base}/rest/api/${version}/issue/${issue.id}`, key: issue.key, fields: wanted };
  };

  const findIssue = (user: JiraDoubleUser, idOrKey: string) => {
    const issue = [...issues.values()].find((i) => i.key === idOrKey.toUpperCase() || i.id === idOrKey);
    return issue && can(user, issue.project, 'BROWSE_PROJECTS') ? issue : undefined;
  };
  const noIssue = () => jiraErrors(404, ['Issue does not exist or you do not have permission to see it.']);

  const fieldMeta = (project: JiraDoubleProject, type: JiraDoubleIssueType) => [
    { required: true, schema: { type: 'project', system: 'project' }, name: 'Project', key: 'project', fieldId: 'project', hasDefaultValue: false, operations: ['set'] },
    { required: true, schema: { type: 'issuetype', system: 'issuetype' }, name: 'Issue Type', key: 'issuetype', fieldId: 'issuetype', hasDefaultValue: false, operations: [] },
    { required: true, schema: { type: 'string', system: 'summary' }, name: 'Summary', key: 'summary', fieldId: 'summary', hasDefaultValue: false, operations: ['set'] },
    { required: false, schema: { type: 'string', system: 'description' }, name: 'Description', key: 'description', fieldId: 'description', hasDefaultValue: false, operations: ['set'] },
    { required: false, schema: { type: 'array', items: 'string', system: 'labels' }, name: 'Labels', key: 'labels', fieldId: 'labels', hasDefaultValue: false, operations: ['add', 'set', 'remove'] },
    {
      required: false,
      schema: { type: 'array', items: 'component', system: 'components' },
      name: 'Components',
      key: 'components',
      fieldId: 'components',
      hasDefaultValue: false,
      operations: ['add', 'set', 'remove'],
      allowedValues: project.components.map((name, i) => ({ id: String(i + 1), name })),
    },
    { required: false, schema: { type: 'user', system: 'reporter' }, name: 'Reporter', key: 'reporter', fieldId: 'reporter', hasDefaultValue: true, operations: ['set'] },
    ...(type.required ?? []).map((f) => ({ required: true, schema: { type: 'string', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield' }, name: f.name, key: f.key, fieldId: f.key, hasDefaultValue: false, operations: ['set'] })),
  ];

  const createIssue = (user: JiraDoubleUser, version: string, body: unknown): Reply => {
    const fields = ((body as { fields?: Record<string, unknown> } | undefined)?.fields ?? {}) as Record<string, unknown>;
    const errors: Record<string, string> = {};
    const ref = fields.project as { key?: string; id?: string } | undefined;
    const project = ref ? projectOf(ref.key ?? ref.id ?? '') : undefined;
    if (!project || !can(user, project.key, 'BROWSE_PROJECTS')) {
      errors.project = ref ? 'valid project is required' : 'project is required';
      return jiraErrors(400, [], errors);
    }
    if (!can(user, project.key, 'CREATE_ISSUES')) return jiraErrors(400, [], { project: 'You do not have permission to create issues in this project.' });
    const typeRef = fields.issuetype as { name?: string; id?: string } | undefined;
    const type = project.issueTypes.find((t) => t.id === typeRef?.id || t.name === typeRef?.name);
    if (!type) return jiraErrors(400, [], { issuetype: 'Specify a valid issue type' });
    const known = new Set(fieldMeta(project, type).map((f) => f.key));
    for (const key of Object.keys(fields)) if (!known.has(key)) errors[key] = `Field '${key}' cannot be set. It is not on the appropriate screen, or unknown.`;
    const summary = fields.summary;
    if (typeof summary !== 'string' || summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    else if (summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    else if (/[\r\n]/.test(summary)) errors.summary = 'The summary is invalid because it contains newline characters.';
    const description = fields.description;
    if (description !== undefined && description !== null) {
      if (version === '2' && typeof description !== 'string') errors.description = 'Operation value must be a string';
      if (version === '3' && (typeof description !== 'object' || !validAdf(description))) {
        errors.description = typeof description === 'string' ? 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' : 'INVALID_INPUT';
      }
    }
    const labels = fields.labels ?? [];
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) errors.labels = 'data was not an array';
    else {
      const spaced = labels.find((l: string) => /\s/.test(l) || l === '');
      if (spaced !== undefined) errors.labels = `The label '${spaced}' contains spaces which is invalid.`;
      const long = labels.find((l: string) => l.length > 255);
      if (long !== undefined) errors.labels = 'The label must not exceed 255 characters.';
    }
    const components = (fields.components ?? []) as { name?: string; id?: string }[];
    const names: string[] = [];
    for (const c of Array.isArray(components) ? components : []) {
      const name = c.name ?? project.components[Number(c.id) - 1];
      if (name === undefined || !project.components.includes(name)) errors.components = `Component name '${c.name ?? c.id}' is not valid`;
      else names.push(name);
    }
    for (const f of type.required ?? []) {
      if (fields[f.key] === undefined || fields[f.key] === null || fields[f.key] === '') errors[f.key] = `${f.name} is required.`;
    }
    if (Object.keys(errors).length > 0) return jiraErrors(400, [], errors);
    const count = (counters.get(project.key) ?? 0) + 1;
    counters.set(project.key, count);
    const issue: JiraDoubleIssue = {
      id: String(nextId++),
      key: `${project.key}-${count}`,
      project: project.key,
      issueType: type,
      summary: summary as string,
      description,
      labels: labels as string[],
      components: names,
      extra: Object.fromEntries((type.required ?? []).map((f) => [f.key, fields[f.key]])),
      status: { name: 'To Do', category: 'new' },
      created: new Date().toISOString(),
      attachments: [],
      remoteLinks: [],
    };
    issues.set(issue.key, issue);
    return new Reply(201, { id: issue.id, key: issue.key, self: `${base}/rest/api/${version}/issue/${issue.id}` });
  };

  const search = (user: JiraDoubleUser, version: string, query: URLSearchParams): Reply => {
    let parsed: ReturnType<typeof parseJql>;
    try {
      parsed = parseJql(query.get('jql') ?? '');
    } catch (err) {
      return jiraErrors(400, [(err as Error).message]);
    }
    for (const clause of parsed.clauses) {
      if (clause.field === 'project' && !(projectOf(clause.value) && can(user, projectOf(clause.value)!.key, 'BROWSE_PROJECTS'))) {
        return jiraErrors(400, [`The value '${clause.value}' does not exist for the field 'project'.`]);
      }
    }
    const matches = [...issues.values()]
      .filter((issue) => can(user, issue.project, 'BROWSE_PROJECTS'))
      .filter((issue) =>
        parsed.clauses.every((c) => {
          const equal =
            c.field === 'project'
              ? issue.project === projectOf(c.value)?.key
              : c.field === 'labels'
                ? issue.labels.includes(c.value)
                : c.field === 'key'
                  ? issue.key === c.value.toUpperCase()
                  : c.field === 'status'
                    ? issue.status.name.toLowerCase() === c.value.toLowerCase()
                    : CATEGORY[issue.status.category].name.toLowerCase() === c.value.toLowerCase() || issue.status.category === c.value.toLowerCase();
          return c.op === '=' ? equal : !equal;
        }),
      )
      .sort((a, b) => (parsed.order === 'desc' ? Number(b.id) - Number(a.id) : Number(a.id) - Number(b.id)));
    const max = Number(query.get('maxResults') ?? 50);
    const fields = query.get('fields')?.split(',');
    const page = matches.slice(0, max).map((i) => issueView(i, version, fields));
    return deployment === 'cloud' ? new Reply(200, { issues: page, isLast: matches.length <= max }) : new Reply(200, { expand: 'schema,names', startAt: 0, maxResults: max, total: matches.length, issues: page });
  };

  const route = async (req: IncomingMessage, url: URL): Promise<Reply | 'drop'> => {
    const fault = faults.find((f) => (f.method ?? req.method) === req.method && f.path.test(url.pathname));
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
      if (fault.drop) return 'drop';
      await drain(req);
      return new Reply(fault.status ?? 500, fault.body ?? { errorMessages: ['Internal server error'], errors: {} }, fault.headers);
    }
    const m = /^\/rest\/api\/(2|3)(\/.*)$/.exec(url.pathname);
    if (!m || (deployment === 'data_center' && m[1] === '3')) return new Reply(404, '<html><body><h1>Oops, you\'ve found a dead link.</h1></body></html>', { 'content-type': 'text/html' });
    const version = m[1]!;
    const path = m[2]!;
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/serverInfo') {
      return new Reply(200, {
        baseUrl: base,
        version: deployment === 'cloud' ? '1001.0.0-SNAPSHOT' : '9.12.15',
        versionNumbers: deployment === 'cloud' ? [1001, 0, 0] : [9, 12, 15],
        deploymentType: deployment === 'cloud' ? 'Cloud' : 'Server',
        buildNumber: deployment === 'cloud' ? 100289 : 9120015,
        serverTime: new Date().toISOString().replace('Z', '+0000'),
        scmInfo: 'e9f0ba0b2f2fcec4bd5c1fa2e1a1e3f3c2d6c6e4',
        serverTitle: 'Jira',
      });
    }
    const user = authenticate(req);
    if (user === undefined || user === 'wrong-scheme') {
      // Cloud answers a failed Basic login with plain text; Data Center with its JSON errors.
      return deployment === 'cloud'
        ? new Reply(401, 'Client must be authenticated to access this resource.', { 'content-type': 'text/plain;charset=UTF-8', 'www-authenticate': 'Basic realm="protected-area"' })
        : jiraErrors(401, ['You are not authenticated. Authentication required to perform this operation.']);
    }
    if (method === 'GET' && path === '/myself') return new Reply(200, userView(user));
    if (method === 'GET' && path === '/mypermissions') {
      const wanted = (url.searchParams.get('permissions') ?? '').split(',').filter(Boolean);
      if (wanted.length === 0) return jiraErrors(400, ['The permissions query parameter is required.']);
      const key = url.searchParams.get('projectKey') ?? '';
      const project = projectOf(key);
      if (key && (!project || !can(user, project.key, 'BROWSE_PROJECTS'))) return jiraErrors(404, [`No project could be found with key '${key}'.`]);
      return new Reply(200, {
        permissions: Object.fromEntries(wanted.map((p, i) => [p, { id: String(10 + i), key: p, name: p, type: 'PROJECT', description: p, havePermission: project ? can(user, project.key, p as JiraPermission) : false }])),
      });
    }
    if (method === 'GET' && path === '/attachment/meta') return new Reply(200, double.attachmentSettings);
    let mm = /^\/issue\/createmeta\/([^/]+)\/issuetypes(?:\/([^/]+))?$/.exec(path);
    if (method === 'GET' && mm) {
      const project = projectOf(decodeURIComponent(mm[1]!));
      if (!project || !can(user, project.key, 'BROWSE_PROJECTS')) return jiraErrors(404, [`No project could be found with key '${decodeURIComponent(mm[1]!)}'.`]);
      if (!can(user, project.key, 'CREATE_ISSUES')) return jiraErrors(403, ['You do not have permission to create issues in this project.']);
      if (mm[2] === undefined) {
        const types = project.issueTypes.map((t) => ({ self: `${base}/rest/api/${version}/issuetype/${t.id}`, id: t.id, name: t.name, description: '', subtask: false }));
        return new Reply(200, deployment === 'cloud' ? { issueTypes: types, maxResults: 50, startAt: 0, total: types.length } : { maxResults: 50, startAt: 0, total: types.length, isLast: true, values: types });
      }
      const type = project.issueTypes.find((t) => t.id === mm![2]);
      if (!type) return jiraErrors(404, [`Issue type with id '${mm[2]}' does not exist in project '${project.key}'.`]);
      const fields = fieldMeta(project, type);
      return new Reply(200, deployment === 'cloud' ? { fields, maxResults: 50, startAt: 0, total: fields.length } : { maxResults: 50, startAt: 0, total: fields.length, isLast: true, values: fields });
    }
    if (method === 'POST' && path === '/issue') return createIssue(user, version, await readJson(req));
    if (method === 'GET' && (path === '/search' || path === '/search/jql')) {
      if (deployment === 'cloud' && path === '/search') return jiraErrors(410, ['The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046']);
      if (deployment === 'data_center' && path === '/search/jql') return new Reply(404, { message: 'null for uri: /rest/api/2/search/jql', 'status-code': 404 });
      return search(user, version, url.searchParams);
    }
    mm = /^\/issue\/([^/]+)(\/attachments|\/remotelink)?$/.exec(path);
    if (mm) {
      const issue = findIssue(user, decodeURIComponent(mm[1]!));
      if (!issue) {
        await drain(req);
        return noIssue();
      }
      if (method === 'GET' && mm[2] === undefined) return new Reply(200, issueView(issue, version, url.searchParams.get('fields')?.split(',')));
      if (method === 'POST' && mm[2] === '/attachments') {
        if (req.headers['x-atlassian-token'] !== 'no-check') {
          await drain(req);
          return new Reply(403, 'XSRF check failed', { 'content-type': 'text/plain' });
        }
        if (!can(user, issue.project, 'CREATE_ATTACHMENTS')) {
          await drain(req);
          return jiraErrors(403, ['You do not have permission to create attachments for this issue.']);
        }
        if (!double.attachmentSettings.enabled) {
          await drain(req);
          return jiraErrors(403, ['Attachments are disabled.']);
        }
        const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(String(req.headers['content-type'] ?? ''));
        if (!boundary) return jiraErrors(415, ['The request is not multipart/form-data.']);
        const parts = await readMultipart(req, boundary[1] ?? boundary[2]!, double.attachmentSettings.uploadLimit);
        if (parts === 'too-large') return jiraErrors(413, [`The file is too large: the maximum attachment size is ${double.attachmentSettings.uploadLimit} bytes.`]);
        const files = parts.filter((p) => p.name === 'file' && p.filename !== undefined);
        if (files.length === 0) return jiraErrors(400, ["The multipart field 'file' is missing."]);
        const added = files.map((f) => ({ id: String(nextId++), filename: f.filename!, mimeType: f.type, size: f.size, sha256: f.sha256 }));
        issue.attachments.push(...added);
        return new Reply(
          200,
          added.map((a) => ({ self: `${base}/rest/api/${version}/attachment/${a.id}`, id: a.id, filename: a.filename, author: userView(user), created: new Date().toISOString(), size: a.size, mimeType: a.mimeType, content: `${base}/secure/attachment/${a.id}/${encodeURIComponent(a.filename)}` })),
        );
      }
      if (method === 'POST' && mm[2] === '/remotelink') {
        const body = (await readJson(req)) as Omit<JiraDoubleRemoteLink, 'id'> | undefined;
        if (!body?.object?.url || !body.object.title) return jiraErrors(400, [], { ...(body?.object?.url ? {} : { url: "'url' is required." }), ...(body?.object?.title ? {} : { title: "'title' is required." }) });
        const existing = body.globalId ? issue.remoteLinks.find((l) => l.globalId === body.globalId) : undefined;
        if (existing) {
          Object.assign(existing, body);
          return new Reply(200, { id: existing.id, self: `${base}/rest/api/${version}/issue/${issue.key}/remotelink/${existing.id}` });
        }
        const link = { ...body, id: nextLink++ };
        issue.remoteLinks.push(link);
        return new Reply(201, { id: link.id, self: `${base}/rest/api/${version}/issue/${issue.key}/remotelink/${link.id}` });
      }
    }
    await drain(req);
    return new Reply(404, { errorMessages: [`null for uri: ${url.pathname}`], errors: {} });
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', base);
      let reply: Reply | 'drop';
      try {
        reply = await route(req, url);
      } catch (err) {
        reply = jiraErrors(500, [`double failed: ${(err as Error).message}`]);
      }
      const scheme = req.headers.authorization?.split(' ')[0];
      const token = req.headers['x-atlassian-token'];
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams.toString(),
        status: reply === 'drop' ? 0 : reply.status,
        ...(scheme ? { auth: scheme } : {}),
        ...(typeof token === 'string' ? { atlassianToken: token } : {}),
      });
      if (reply === 'drop') {
        req.socket.destroy();
        return;
      }
      send(res, reply);
    })();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return Object.assign(double, {
    url: base,
    deployment,
    issues,
    requests,
    fail(fault: JiraDoubleFault) {
      faults.push(fault);
    },
    transition(key: string, name: string, category: 'new' | 'indeterminate' | 'done') {
      const issue = issues.get(key);
      if (!issue) throw new Error(`no issue ${key}`);
      issue.status = { name, category };
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
    },
  });
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const chunk of req) void chunk;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json;charset=UTF-8', 'x-arequestid': randomUUID(), ...reply.headers });
  res.end(body);
}
