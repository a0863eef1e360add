import { z } from 'zod';
import { providerSaid, retryAfterMs, unreachableReason } from '../../cicd/cicd-error.ts';
import { PagerdutyError } from './pagerduty-error.ts';
import { PAGERDUTY_STATUSES, ReferenceSchema, type PagerdutyIncident, type PagerdutyStatus } from './pagerduty-incident.ts';

// PagerDuty's REST API v2, the part that keeps an incident's status in sync: read it, acknowledge or resolve it (or
// reopen it), and add a note. Writes carry `From:`, the email of the PagerDuty user Drydock acts as.

export interface PagerdutyConnection {
  /** `https://api.pagerduty.com` unless given (`https://api.eu.pagerduty.com` for the EU service region). */
  apiUrl?: string;
  /** An API token (account or user); a secret, never in a message. */
  token: string;
  /** The PagerDuty user that Drydock's changes are made as. */
  fromEmail: string;
}

export interface PagerdutyClientOptions {
  /** How long one request may take; 10 seconds. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface PagerdutyNote {
  id: string;
  content: string;
  createdAt: string;
  user?: string;
}

export interface PagerdutyClient {
  getIncident(id: string): Promise<PagerdutyIncident>;
  /** Sets the status; resolving a resolved incident is not an error (the incident is read back instead). */
  setStatus(id: string, status: PagerdutyStatus, options?: { resolution?: string }): Promise<PagerdutyIncident>;
  acknowledge(id: string): Promise<PagerdutyIncident>;
  resolve(id: string, options?: { resolution?: string }): Promise<PagerdutyIncident>;
  addNote(id: string, content: string): Promise<PagerdutyNote>;
}

const ACCEPT = 'application/vnd.pagerduty+json;version=2';
/** PagerDuty's ids are short upper-case letters and digits; anything else never reaches a URL path. */
const INCIDENT_ID = /^[A-Za-z0-9]{1,64}$/;
const NOTE_LIMIT = 25_000;

const RestIncidentSchema = z.object({
  incident: z.object({
    id: z.string(),
    incident_number: z.number().int(),
    title: z.string(),
    status: z.enum(PAGERDUTY_STATUSES),
    urgency: z.enum(['high', 'low']),
    html_url: z.string().nullish(),
    incident_key: z.string().nullish(),
    created_at: z.string(),
    service: ReferenceSchema,
    priority: ReferenceSchema.nullish(),
    assignments: z.array(z.object({ assignee: ReferenceSchema })).default([]),
  }),
});

const NoteSchema = z.object({
  note: z.object({ id: z.string(), content: z.string(), created_at: z.string(), user: ReferenceSchema.nullish() }),
});

const ErrorBodySchema = z.object({ error: z.object({ message: z.string().optional(), code: z.number().optional(), errors: z.array(z.string()).optional() }) });

function incidentOf(body: z.infer<typeof RestIncidentSchema>): PagerdutyIncident {
  const i = body.incident;
  return {
    id: i.id,
    number: i.incident_number,
    title: i.title,
    status: i.status,
    urgency: i.urgency,
    ...(i.html_url ? { htmlUrl: i.html_url } : {}),
    ...(i.incident_key ? { incidentKey: i.incident_key } : {}),
    createdAt: i.created_at,
    service: { id: i.service.id, ...(i.service.summary ? { name: i.service.summary } : {}) },
    ...(i.priority?.summary ? { priority: i.priority.summary } : {}),
    assignees: i.assignments.map((a) => a.assignee.summary ?? a.assignee.id),
  };
}

/** PagerDuty's documented error codes that mean "already so". */
const ALREADY_RESOLVED = 1001;

export function createPagerdutyClient(connection: PagerdutyConnection, options: PagerdutyClientOptions = {}): PagerdutyClient {
  const base = (connection.apiUrl ?? 'https://api.pagerduty.com').replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function request<T>(method: 'GET' | 'PUT' | 'POST', path: string, schema: z.ZodType<T>, body?: object): Promise<T> {
    const headers: Record<string, string> = { authorization: `Token token=${connection.token}`, accept: ACCEPT };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['from'] = connection.fromEmail;
    }
    let res: Response;
    let text: string;
    try {
      res = await doFetch(`${base}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      text = await res.text();
    } catch (err) {
      throw new PagerdutyError('unreachable', `PagerDuty at ${base} is unreachable: ${unreachableReason(err)}; try again, or check the API URL`);
    }
    if (res.ok) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new PagerdutyError('wrong_url', `${base} answered ${method} ${path} with something other than PagerDuty's JSON; check the API URL`, { status: res.status });
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw new PagerdutyError('wrong_url', `${base} answered ${method} ${path} in a shape PagerDuty's API does not have; check the API URL`, { status: res.status });
      return parsed.data;
    }
    throw failure(res, text, method, path);
  }

  function failure(res: Response, text: string, method: string, path: string): PagerdutyError {
    const status = res.status;
    let parsed: z.infer<typeof ErrorBodySchema> | undefined;
    try {
      parsed = ErrorBodySchema.parse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    const code = parsed?.error.code;
    const said = parsed ? [parsed.error.message, ...(parsed.error.errors ?? [])].filter(Boolean).join(': ') : providerSaid(text);
    const extra = { status, ...(code !== undefined ? { code } : {}) };
    if (status === 429) {
      // PagerDuty's `ratelimit-reset` is the seconds until the limit resets.
      const reset = res.headers.get('ratelimit-reset');
      const wait = retryAfterMs((n) => res.headers.get(n), Date.now()) ?? (reset && /^\d+$/.test(reset) ? Number(reset) * 1000 : 60_000);
      return new PagerdutyError('rate_limited', `PagerDuty is rate limiting Drydock; waiting ${Math.ceil(wait / 1000)} s`, { ...extra, retryAfterMs: wait });
    }
    if (status === 401) return new PagerdutyError('bad_credentials', 'PagerDuty refused the API token (401): it is wrong, expired or revoked; give a new one', extra);
    if (status === 403) return new PagerdutyError('permission_denied', `PagerDuty refused ${method} ${path} (403${said ? `: ${said}` : ''}); the token needs full access, or the user access to this incident`, extra);
    if (status === 404) return new PagerdutyError('not_found', `PagerDuty has no ${path.startsWith('/incidents/') ? `incident ${path.split('/')[2]}` : path} that this token can see`, extra);
    if (status === 408 || status >= 500) return new PagerdutyError('unavailable', `PagerDuty could not answer (HTTP ${status}${said ? `: ${said}` : ''}); try again`, extra);
    if (/Requester User Not Found|requester_id/i.test(said)) {
      return new PagerdutyError('rejected', `PagerDuty does not know ${connection.fromEmail} as a user of this account; set DRYDOCK_PAGERDUTY_FROM_EMAIL to the email of a PagerDuty user Drydock acts as`, extra);
    }
    return new PagerdutyError('rejected', `PagerDuty refused ${method} ${path} (HTTP ${status}${said ? `: ${said}` : ''})`, extra);
  }

  const incidentPath = (id: string) => {
    if (!INCIDENT_ID.test(id)) throw new PagerdutyError('rejected', `"${id.slice(0, 80)}" is not a PagerDuty incident id (letters and digits, like PT4KHLK)`);
    return `/incidents/${id}`;
  };

  const client: PagerdutyClient = {
    getIncident: async (id) => incidentOf(await request('GET', incidentPath(id), RestIncidentSchema)),
    setStatus: async (id, status, opts = {}) => {
      const path = incidentPath(id);
      try {
        const body = { incident: { type: 'incident_reference', status, ...(status === 'resolved' && opts.resolution ? { resolution: opts.resolution } : {}) } };
        return incidentOf(await request('PUT', path, RestIncidentSchema, body));
      } catch (err) {
        if (err instanceof PagerdutyError && err.code === ALREADY_RESOLVED && status === 'resolved') return client.getIncident(id);
        throw err;
      }
    },
    acknowledge: (id) => client.setStatus(id, 'acknowledged'),
    resolve: (id, opts) => client.setStatus(id, 'resolved', opts),
    addNote: async (id, content) => {
      const path = `${incidentPath(id)}/notes`;
      const text = content.length > NOTE_LIMIT ? `${content.slice(0, NOTE_LIMIT - 1)}…` : content;
      const { note } = await request('POST', path, NoteSchema, { note: { content: text } });
      return { id: note.id, content: note.content, createdAt: note.created_at, ...(note.user?.summary ? { user: note.user.summary } : {}) };
    },
  };
  return client;
}
