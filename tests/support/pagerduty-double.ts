import { createHmac, randomBytes } from 'node:crypto';
import { startDoubleServer, type DoubleReply, type DoubleRequest, type DoubleServer } from './cicd-doubles/double-server.ts';

// No PagerDuty can run here. This double speaks the part of its REST API v2 that Drydock uses (get an incident, update
// its status, add a note), checking the headers PagerDuty documents (`Authorization: Token token=…`, the versioned
// `Accept`, `Content-Type` and `From` on writes), with its error body `{"error":{"message","code","errors"}}` and its
// `ratelimit-*` headers; and it sends V3 webhooks signed as documented (`X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of
// the body>`, one signature per secret while a secret is rotated) for what happens to its incidents. Its guesses, where
// PagerDuty's documents are silent, are marked "guess".

const ACCEPT = 'application/vnd.pagerduty+json;version=2';

export interface PagerdutyUser {
  id: string;
  name: string;
  email: string;
}

export interface PagerdutyIncidentRecord {
  id: string;
  number: number;
  title: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  urgency: 'high' | 'low';
  incidentKey: string;
  createdAt: string;
  service: { id: string; name: string };
  priority?: string;
  assignee?: PagerdutyUser;
  resolution?: string;
  notes: { id: string; content: string; userId: string; createdAt: string }[];
}

export interface WebhookDelivery {
  url: string;
  eventType: string;
  status: number | 'failed';
  headers: Record<string, string>;
  body: string;
}

export interface PagerdutyDouble {
  readonly url: string;
  readonly server: DoubleServer;
  /** The headers each request carried (never a token's value: which scheme, and whether From, Accept and Content-Type were right). */
  readonly seen: { method: string; path: string; from?: string; accept?: string; contentType?: string }[];
  readonly incidents: Map<string, PagerdutyIncidentRecord>;
  readonly deliveries: WebhookDelivery[];
  addUser(name: string, email: string): PagerdutyUser;
  /** An account token (full or read-only access), or a user's token. */
  addToken(access: 'full' | 'read', user?: PagerdutyUser): string;
  /** An incident as an integration would open it; sends incident.triggered. */
  trigger(input: { title: string; service?: string; urgency?: 'high' | 'low'; priority?: string }): PagerdutyIncidentRecord;
  /** A person acting in PagerDuty's own UI; sends the event with that person as the agent. */
  act(incidentId: string, status: 'acknowledged' | 'resolved', by: PagerdutyUser): void;
  /** A V3 webhook subscription to `url`, signed with `secret`. */
  subscribe(url: string, secret: string): string;
  /** Starts signing with `secret` too, as PagerDuty does while a subscription's secret is rotated. */
  rotate(subscriptionId: string, secret: string): void;
  /** Stops signing with every secret but the newest. */
  finishRotation(subscriptionId: string): void;
  /** Resolves once every webhook sent so far has been answered. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const pdId = (prefix: string) => `${prefix}${randomBytes(5).toString('hex').toUpperCase().slice(0, 6)}`;

function error(status: number, message: string, code: number, errors?: string[]): DoubleReply {
  return { status, body: { error: { message, code, ...(errors ? { errors } : {}) } } };
}

export async function startPagerdutyDouble(options: { webUrl?: string } = {}): Promise<PagerdutyDouble> {
  const web = options.webUrl ?? 'https://acme.pagerduty.com';
  const users = new Map<string, PagerdutyUser>();
  const tokens = new Map<string, { access: 'full' | 'read'; user?: PagerdutyUser }>();
  const incidents = new Map<string, PagerdutyIncidentRecord>();
  const subscriptions = new Map<string, { url: string; secrets: string[] }>();
  const deliveries: WebhookDelivery[] = [];
  const seen: PagerdutyDouble['seen'] = [];
  const pending = new Set<Promise<void>>();
  let number = 0;
  let apiUrl = '';

  const userRef = (u: PagerdutyUser) => ({ id: u.id, type: 'user_reference', summary: u.name, self: `${apiUrl}/users/${u.id}`, html_url: `${web}/users/${u.id}` });
  const serviceRef = (i: PagerdutyIncidentRecord) => ({ id: i.service.id, type: 'service_reference', summary: i.service.name, self: `${apiUrl}/services/${i.service.id}`, html_url: `${web}/service-directory/${i.service.id}` });
  const priorityRef = (i: PagerdutyIncidentRecord) => (i.priority ? { id: `PRI${i.priority}`, type: 'priority_reference', summary: i.priority, self: `${apiUrl}/priorities/PRI${i.priority}` } : null);

  /** The REST API's incident, in the shape of the documented "Get an incident" example. */
  const restIncident = (i: PagerdutyIncidentRecord) => ({
    id: i.id,
    type: 'incident',
    summary: `[#${i.number}] ${i.title}`,
    self: `${apiUrl}/incidents/${i.id}`,
    html_url: `${web}/incidents/${i.id}`,
    incident_number: i.number,
    title: i.title,
    created_at: i.createdAt,
    updated_at: new Date().toISOString(),
    status: i.status,
    incident_key: i.incidentKey,
    service: serviceRef(i),
    assignments: i.assignee && i.status !== 'resolved' ? [{ at: i.createdAt, assignee: userRef(i.assignee) }] : [],
    assigned_via: 'escalation_policy',
    last_status_change_at: new Date().toISOString(),
    resolved_at: i.status === 'resolved' ? new Date().toISOString() : null,
    alert_counts: { all: 1, triggered: i.status === 'resolved' ? 0 : 1, resolved: i.status === 'resolved' ? 1 : 0 },
    is_mergeable: true,
    escalation_policy: { id: 'PT20YPA', type: 'escalation_policy_reference', summary: 'Default', self: `${apiUrl}/escalation_policies/PT20YPA`, html_url: `${web}/escalation_policies/PT20YPA` },
    teams: [],
    priority: priorityRef(i),
    urgency: i.urgency,
  });

  /** A V3 webhook's incident, in the shape of the documented `incident` event data. */
  const webhookIncident = (i: PagerdutyIncidentRecord) => ({
    id: i.id,
    type: 'incident',
    self: `${apiUrl}/incidents/${i.id}`,
    html_url: `${web}/incidents/${i.id}`,
    number: i.number,
    status: i.status,
    incident_key: i.incidentKey,
    created_at: i.createdAt,
    title: i.title,
    service: serviceRef(i),
    assignees: i.assignee && i.status !== 'resolved' ? [userRef(i.assignee)] : [],
    escalation_policy: { id: 'PT20YPA', type: 'escalation_policy_reference', summary: 'Default', self: `${apiUrl}/escalation_policies/PT20YPA`, html_url: `${web}/escalation_policies/PT20YPA` },
    teams: [],
    priority: priorityRef(i),
    urgency: i.urgency,
    conference_bridge: null,
    resolve_reason: null,
  });

  function emit(eventType: string, data: object, agent: PagerdutyUser | undefined): void {
    const body = JSON.stringify({
      event: {
        id: pdId('01'),
        event_type: eventType,
        resource_type: 'incident',
        occurred_at: new Date().toISOString(),
        agent: agent ? userRef(agent) : null,
        client: agent ? null : { name: 'Monitoring' },
        data,
      },
    });
    for (const [subscriptionId, sub] of subscriptions) {
      const headers: Record<string, string> = {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'PagerDuty-Webhook/V3.0',
        'x-webhook-id': pdId('W'),
        'x-webhook-subscription': subscriptionId,
        'x-pagerduty-signature': sub.secrets.map((s) => `v1=${createHmac('sha256', s).update(body).digest('hex')}`).join(','),
      };
      const delivery: WebhookDelivery = { url: sub.url, eventType, status: 'failed', headers, body };
      deliveries.push(delivery);
      const sent = fetch(sub.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5_000) })
        .then(async (res) => {
          await res.arrayBuffer();
          delivery.status = res.status;
        })
        .catch(() => undefined)
        .finally(() => pending.delete(sent));
      pending.add(sent);
    }
  }

  function setStatus(i: PagerdutyIncidentRecord, status: PagerdutyIncidentRecord['status'], by: PagerdutyUser | undefined): void {
    const before = i.status;
    i.status = status;
    if (status === 'acknowledged' && by) i.assignee = by;
    const eventType = before === 'resolved' && status !== 'resolved' ? 'incident.reopened' : `incident.${status}`;
    emit(eventType, webhookIncident(i), by);
  }

  function handle(req: DoubleRequest): DoubleReply {
    const from = req.headers['from'];
    const accept = req.headers['accept'];
    const contentType = req.headers['content-type'];
    seen.push({
      method: req.method,
      path: req.path,
      ...(typeof from === 'string' ? { from } : {}),
      ...(typeof accept === 'string' ? { accept } : {}),
      ...(typeof contentType === 'string' ? { contentType } : {}),
    });
    const auth = /^Token token=(\S+)$/.exec(String(req.headers.authorization ?? ''));
    const token = auth ? tokens.get(auth[1]!) : undefined;
    if (!token) return error(401, 'Authentication failed', 2006);
    // guess: PagerDuty serves v2 without the header; the double holds clients to what the reference marks required.
    if (accept !== ACCEPT) return error(400, 'Invalid Input Provided', 2001, [`Accept must be ${ACCEPT}`]);

    const match = /^\/incidents\/([A-Za-z0-9]+)(\/notes)?$/.exec(req.path);
    if (!match) return error(404, 'Not Found', 2100);
    const incident = incidents.get(match[1]!);
    if (!incident) return error(404, 'Not Found', 2100);
    if (req.method === 'GET' && !match[2]) return { status: 200, body: { incident: restIncident(incident) } };

    const write = (req.method === 'PUT' && !match[2]) || (req.method === 'POST' && match[2]);
    if (!write) return error(405, 'Method Not Allowed', 2001);
    if (token.access === 'read') return error(403, 'Access Denied', 2010, ['Read-only API keys cannot perform this action']); // guess: the wording
    if (!String(contentType ?? '').startsWith('application/json')) return error(400, 'Invalid Input Provided', 2001, ['Content-Type must be application/json']);
    const actor = token.user ?? [...users.values()].find((u) => typeof from === 'string' && u.email.toLowerCase() === from.toLowerCase());
    if (!actor) return error(400, 'Invalid Input Provided', 2001, [typeof from === 'string' ? 'Requester User Not Found' : 'You must specify a requester_id to perform this action']);
    const body = req.json() as { incident?: { type?: string; status?: string; resolution?: string }; note?: { content?: unknown } } | undefined;

    if (match[2]) {
      const content = body?.note?.content;
      if (typeof content !== 'string' || content.trim() === '') return error(400, 'Invalid Input Provided', 2001, ['Note content cannot be empty']);
      if (content.length > 25_000) return error(400, 'Invalid Input Provided', 2001, ['Note content is too long']);
      const note = { id: pdId('P'), content, userId: actor.id, createdAt: new Date().toISOString() };
      incident.notes.push(note);
      emit('incident.annotated', { incident: { id: incident.id, type: 'incident_reference', summary: incident.title, self: `${apiUrl}/incidents/${incident.id}`, html_url: `${web}/incidents/${incident.id}` }, id: note.id, content, trimmed: false, type: 'incident_note' }, actor);
      return { status: 200, body: { note: { id: note.id, user: userRef(actor), channel: { summary: 'The PagerDuty website or APIs' }, content, created_at: note.createdAt, updated_at: note.createdAt } } };
    }

    const update = body?.incident;
    if (!update || (update.type !== 'incident' && update.type !== 'incident_reference')) return error(400, 'Invalid Input Provided', 2001, ['Incident type must be incident or incident_reference']);
    const status = update.status;
    if (status !== 'acknowledged' && status !== 'resolved' && status !== 'triggered') return error(400, 'Invalid Status Provided', 1003);
    // guess: resolving twice is refused with the documented code 1001; acknowledging twice is accepted again.
    if (status === 'resolved' && incident.status === 'resolved') return error(400, 'Incident Already Resolved', 1001);
    if (status === 'triggered' && incident.status !== 'resolved') return error(400, 'Invalid Status Provided', 1003);
    if (status === 'resolved' && update.resolution) incident.resolution = update.resolution;
    if (status !== incident.status) setStatus(incident, status, actor);
    return { status: 200, body: { incident: restIncident(incident) } };
  }

  const server = await startDoubleServer((req) => {
    const reply = handle(req);
    return { ...reply, headers: { 'ratelimit-limit': '960', 'ratelimit-remaining': '959', 'ratelimit-reset': '30', ...reply.headers } };
  });
  apiUrl = server.url;

  return {
    url: server.url,
    server,
    seen,
    incidents,
    deliveries,
    addUser: (name, email) => {
      const user = { id: pdId('PU'), name, email };
      users.set(user.id, user);
      return user;
    },
    addToken: (access, user) => {
      const token = `u+${randomBytes(12).toString('base64url')}`;
      tokens.set(token, { access, ...(user ? { user } : {}) });
      return token;
    },
    trigger: ({ title, service = 'Checkout', urgency = 'high', priority }) => {
      number += 1;
      const incident: PagerdutyIncidentRecord = {
        id: pdId('Q'),
        number,
        title,
        status: 'triggered',
        urgency,
        incidentKey: randomBytes(16).toString('hex'),
        createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        service: { id: `PS${service.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 6)}`, name: service },
        ...(priority ? { priority } : {}),
        notes: [],
      };
      incidents.set(incident.id, incident);
      emit('incident.triggered', webhookIncident(incident), undefined);
      return incident;
    },
    act: (incidentId, status, by) => {
      const incident = incidents.get(incidentId);
      if (!incident) throw new Error(`no incident ${incidentId}`);
      setStatus(incident, status, by);
    },
    subscribe: (url, secret) => {
      const id = pdId('PSUB');
      subscriptions.set(id, { url, secrets: [secret] });
      return id;
    },
    rotate: (id, secret) => subscriptions.get(id)!.secrets.unshift(secret),
    finishRotation: (id) => {
      const sub = subscriptions.get(id)!;
      sub.secrets = sub.secrets.slice(0, 1);
    },
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    close: async () => {
      await Promise.all([...pending]);
      await server.close();
    },
  };
}
