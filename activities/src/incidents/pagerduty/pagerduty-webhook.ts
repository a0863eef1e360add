import { z } from 'zod';
import type { FieldErrors } from '@drydock/core';
import { bodyText, headerValue, hmacSha256Hex, sameSecret } from '../../cicd/webhook-signature.ts';
import type { WebhookHeaders } from '../alertmanager/alertmanager-webhook.ts';
import { PAGERDUTY_STATUSES, ReferenceSchema, type PagerdutyIncident } from './pagerduty-incident.ts';

// PagerDuty's V3 webhooks: `X-PagerDuty-Signature` holds one `v1=<hex HMAC-SHA256 of the raw body>` per signing secret
// (several while a secret is rotated); a delivery is genuine when any of them matches any secret Drydock holds.

const Instant = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time' });

const IncidentDataSchema = z.object({
  id: z.string().min(1),
  type: z.literal('incident', { error: 'expected data of type incident' }),
  self: z.string().nullish(),
  html_url: z.string().nullish(),
  number: z.number().int(),
  status: z.enum(PAGERDUTY_STATUSES, { error: 'status is triggered, acknowledged or resolved' }),
  incident_key: z.string().nullish(),
  created_at: Instant,
  title: z.string(),
  service: ReferenceSchema,
  assignees: z.array(ReferenceSchema).default([]),
  priority: ReferenceSchema.nullish(),
  urgency: z.enum(['high', 'low']),
});

const EnvelopeSchema = z.object({
  event: z.object({
    id: z.string().min(1),
    event_type: z.string().min(1),
    resource_type: z.string(),
    occurred_at: Instant,
    agent: ReferenceSchema.nullish(),
    data: z.unknown(),
  }),
});

/** The events that change an incident's status; the rest are ignored with a reason. */
export const PAGERDUTY_STATUS_EVENTS = ['incident.triggered', 'incident.acknowledged', 'incident.unacknowledged', 'incident.resolved', 'incident.reopened'] as const;
export type PagerdutyStatusEvent = (typeof PAGERDUTY_STATUS_EVENTS)[number];

const IGNORED: Record<string, string> = {
  'incident.annotated': "a note added in PagerDuty is not copied to Drydock's timeline",
  'incident.delegated': 'escalation policies are PagerDuty’s own; Drydock keeps its own commander',
  'incident.escalated': 'escalation is PagerDuty’s own; Drydock keeps its own commander',
  'incident.reassigned': 'assignment is PagerDuty’s own; Drydock keeps its own commander',
  'incident.priority_updated': 'Drydock keeps its own severity',
  'incident.responder.added': 'responders are PagerDuty’s own',
  'incident.responder.replied': 'responders are PagerDuty’s own',
  'incident.status_update_published': 'status updates are PagerDuty’s own',
};

export interface PagerdutyAgent {
  id: string;
  type: string;
  name?: string;
}

export type PagerdutyWebhookEvent =
  | { kind: 'status'; eventId: string; eventType: PagerdutyStatusEvent; occurredAt: string; agent?: PagerdutyAgent; incident: PagerdutyIncident }
  | { kind: 'ignored'; eventId: string; eventType: string; reason: string };

type Malformed = { ok: false; reason: 'malformed'; message: string; fields: FieldErrors };

export type PagerdutyReceipt =
  | { ok: true; event: PagerdutyWebhookEvent; /** X-Webhook-Id: the same for every retry of one delivery, to drop repeats. */ webhookId?: string }
  | { ok: false; reason: 'unsigned' | 'forged'; message: string }
  | Malformed;

/** Whether any `v1=` signature in the header is the body's HMAC under any of `secrets`; compared in constant time. */
export function verifyPagerdutySignature(headers: WebhookHeaders, body: string | Uint8Array, secrets: readonly string[]): { ok: true } | { ok: false; reason: 'unsigned' | 'forged'; message: string } {
  const header = headerValue(headers, 'x-pagerduty-signature');
  const signatures = (header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='));
  if (signatures.length === 0) return { ok: false, reason: 'unsigned', message: 'the delivery carries no v1 signature in X-PagerDuty-Signature; PagerDuty signs every V3 webhook' };
  const expected = secrets.map((secret) => `v1=${hmacSha256Hex(secret, body)}`);
  // Every pair is compared, so how long a refusal takes says nothing about which signature came close.
  const matches = signatures.flatMap((given) => expected.map((e) => sameSecret(given, e)));
  if (!matches.some(Boolean)) return { ok: false, reason: 'forged', message: "no signature in X-PagerDuty-Signature matches the subscription's secret; check the secret, or the body was altered" };
  return { ok: true };
}

function fieldErrors(error: z.ZodError, prefix: string): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) (fields[[prefix, ...issue.path].filter(Boolean).join('.') || '_'] ??= []).push(issue.message);
  return fields;
}

const malformed = (fields: FieldErrors): Malformed => ({
  ok: false,
  reason: 'malformed',
  message: `the delivery is not a PagerDuty V3 webhook: ${Object.entries(fields)
    .slice(0, 5)
    .map(([path, messages]) => `${path}: ${messages[0]}`)
    .join('; ')}`,
  fields,
});

/** A V3 webhook event's payload, after its signature was checked. */
export function parsePagerdutyEvent(body: string | Uint8Array): { ok: true; event: PagerdutyWebhookEvent } | Malformed {
  let json: unknown;
  try {
    json = JSON.parse(bodyText(body));
  } catch (err) {
    return malformed({ _: [`not JSON (${(err as Error).message})`] });
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) return malformed(fieldErrors(envelope.error, ''));
  const { id, event_type: eventType, occurred_at: occurredAt, agent, data } = envelope.data.event;
  if (!(PAGERDUTY_STATUS_EVENTS as readonly string[]).includes(eventType)) {
    const reason = IGNORED[eventType] ?? (eventType.startsWith('incident.') ? `Drydock does not follow ${eventType}` : `${eventType} is not about an incident`);
    return { ok: true, event: { kind: 'ignored', eventId: id, eventType, reason } };
  }
  const incident = IncidentDataSchema.safeParse(data);
  if (!incident.success) return malformed(fieldErrors(incident.error, 'event.data'));
  const d = incident.data;
  return {
    ok: true,
    event: {
      kind: 'status',
      eventId: id,
      eventType: eventType as PagerdutyStatusEvent,
      occurredAt,
      ...(agent ? { agent: { id: agent.id, type: agent.type, ...(agent.summary ? { name: agent.summary } : {}) } } : {}),
      incident: {
        id: d.id,
        number: d.number,
        title: d.title,
        status: d.status,
        urgency: d.urgency,
        ...(d.html_url ? { htmlUrl: d.html_url } : {}),
        ...(d.incident_key ? { incidentKey: d.incident_key } : {}),
        createdAt: d.created_at,
        service: { id: d.service.id, ...(d.service.summary ? { name: d.service.summary } : {}) },
        ...(d.priority?.summary ? { priority: d.priority.summary } : {}),
        assignees: d.assignees.map((a) => a.summary ?? a.id),
      },
    },
  };
}

/** Checks the signature, then reads the event; the raw body, exactly as it arrived, is what PagerDuty signed. */
export function receivePagerdutyWebhook(headers: WebhookHeaders, body: string | Uint8Array, secrets: readonly string[]): PagerdutyReceipt {
  const verified = verifyPagerdutySignature(headers, body, secrets);
  if (!verified.ok) return verified;
  const parsed = parsePagerdutyEvent(body);
  if (!parsed.ok) return parsed;
  const webhookId = headerValue(headers, 'x-webhook-id');
  return { ok: true, event: parsed.event, ...(webhookId ? { webhookId } : {}) };
}
