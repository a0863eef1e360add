import { z } from 'zod';
import { ValidationError, type FieldErrors } from '../errors.ts';
import type { EvidenceOf } from './evidence.ts';

// Alertmanager's webhook receiver payload (version 4), and how a group's notifications become one incident: the group
// key names the incident, the alerts' fingerprints say what is still firing, and the incident closes once none is.

const Labels = z.record(z.string(), z.string());
/** Go writes RFC 3339 with up to nine fractional digits and an offset; a firing alert ends at Go's zero time. */
const GoTime = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-03-01T10:00:00Z' });

export const AlertmanagerAlertSchema = z.object({
  status: z.enum(['firing', 'resolved'], { error: 'status is firing or resolved' }),
  labels: Labels,
  annotations: Labels.default({}),
  startsAt: GoTime,
  endsAt: GoTime,
  generatorURL: z.string().default(''),
  fingerprint: z.string().regex(/^[0-9a-f]{1,32}$/, { error: 'expected the hexadecimal fingerprint Alertmanager gives each alert' }),
});
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlertSchema>;

export const AlertmanagerWebhookSchema = z.object({
  version: z.literal('4', { error: 'Drydock reads version 4 of Alertmanager\'s webhook payload (Alertmanager 0.16 and later)' }),
  groupKey: z.string().min(1, { error: 'groupKey is empty' }),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved'], { error: 'status is firing or resolved' }),
  receiver: z.string(),
  groupLabels: Labels,
  commonLabels: Labels,
  commonAnnotations: Labels.default({}),
  externalURL: z.string(),
  alerts: z.array(AlertmanagerAlertSchema).min(1, { error: 'a notification carries at least one alert' }),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookSchema>;

/** The payload, checked; a malformed one is a ValidationError naming each wrong field by its path. */
export function parseAlertmanagerWebhook(body: string | Uint8Array | unknown): AlertmanagerWebhook {
  let value: unknown = body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(`the Alertmanager payload is not JSON (${(err as Error).message}); point a webhook_config of Alertmanager at this URL`);
    }
  }
  const parsed = AlertmanagerWebhookSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const path = issue.path.length > 0 ? issue.path.join('.') : '_';
    (fields[path] ??= []).push(issue.message);
  }
  const summary = Object.entries(fields)
    .slice(0, 5)
    .map(([path, messages]) => `${path}: ${messages[0]}`)
    .join('; ');
  throw new ValidationError(`the Alertmanager payload is not a version 4 webhook notification: ${summary}`, fields);
}

export const INCIDENT_SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** The `severity` label's usual words; anything else is medium. */
export function severityOfLabel(value: string | undefined): IncidentSeverity {
  switch (value?.toLowerCase()) {
    case 'critical':
    case 'page':
    case 'p1':
    case 'emergency':
      return 'critical';
    case 'error':
    case 'high':
    case 'major':
    case 'p2':
      return 'high';
    case 'info':
    case 'low':
    case 'minor':
    case 'none':
    case 'p4':
    case 'p5':
      return 'low';
    default:
      return 'medium';
  }
}

/** Only label values shaped like host names become an incident's hosts; anything else stays a label. */
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

/** The host an alert is about: `host`, `hostname`, `nodename`, or `instance` without its port. */
export function alertHost(labels: Record<string, string>): string | undefined {
  const named = labels['host'] ?? labels['hostname'] ?? labels['nodename'] ?? labels['instance']?.replace(/:\d+$/, '');
  return named !== undefined && HOST_NAME.test(named) ? named : undefined;
}

/** The PromQL expression of the rule that fired, from the `g0.expr` of Prometheus' generator URL. */
export function alertExpression(generatorURL: string): string | undefined {
  try {
    return new URL(generatorURL).searchParams.get('g0.expr') ?? undefined;
  } catch {
    return undefined;
  }
}

/** One Alertmanager notification as the incident sees it. */
export interface AlertGroupNotice {
  /** Names the incident: every notification of one Alertmanager group carries the same key. */
  key: string;
  status: 'firing' | 'resolved';
  title: string;
  severity: IncidentSeverity;
  services: string[];
  hosts: string[];
  environment?: string;
  /** The earliest start among the alerts: when the incident began. */
  startedAt: string;
  /** Fingerprints of the alerts firing and resolved in this notification. */
  firing: string[];
  resolved: string[];
  /** Alertmanager left this many alerts out of the notification (max_alerts). */
  truncatedAlerts: number;
  alerts: AlertmanagerAlert[];
  externalURL: string;
}

const unique = (values: (string | undefined)[]) => [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))].sort();

export function alertGroupNotice(payload: AlertmanagerWebhook): AlertGroupNotice {
  const common = payload.commonLabels;
  const name = common['alertname'] ?? payload.groupLabels['alertname'] ?? unique(payload.alerts.map((a) => a.labels['alertname'])).join(', ');
  const summary = payload.commonAnnotations['summary'] ?? payload.commonAnnotations['title'];
  const environment = common['environment'] ?? common['env'];
  const severities = payload.alerts.map((a) => severityOfLabel(a.labels['severity']));
  return {
    key: `alertmanager:${payload.groupKey}`,
    status: payload.status,
    title: (summary ? `${name || 'Alert'}: ${summary}` : name || 'Alertmanager alert').slice(0, 500),
    severity: INCIDENT_SEVERITIES.find((s) => severities.includes(s)) ?? 'medium',
    services: unique(payload.alerts.map((a) => a.labels['service'] ?? a.labels['job'])),
    hosts: unique(payload.alerts.map((a) => alertHost(a.labels))),
    ...(environment ? { environment } : {}),
    startedAt: payload.alerts.map((a) => a.startsAt).sort((a, b) => Date.parse(a) - Date.parse(b))[0]!,
    firing: unique(payload.alerts.filter((a) => a.status === 'firing').map((a) => a.fingerprint)),
    resolved: unique(payload.alerts.filter((a) => a.status === 'resolved').map((a) => a.fingerprint)),
    truncatedAlerts: payload.truncatedAlerts,
    alerts: payload.alerts,
    externalURL: payload.externalURL,
  };
}

/** What an incident remembers of its Alertmanager group. */
export interface AlertGroupState {
  key: string;
  open: boolean;
  /** Fingerprints still firing. */
  firing: string[];
  /** When the group last closed, as unix milliseconds. */
  closedAt?: number;
}

export type AlertGroupAction =
  /** A new incident. */
  | 'open'
  /** The open incident's alerts changed (or a repeat said nothing new). */
  | 'update'
  /** Every alert of the group resolved: the incident's alerts are over. */
  | 'close'
  /** The group fired again soon after it closed: the same incident opens again. */
  | 'reopen'
  /** A resolved notification for a group no open incident tracks. */
  | 'ignore';

/** Within this long of closing, a group firing again reopens its incident; later, it is a new one. */
export const REOPEN_WITHIN_MS = 60 * 60_000;

/**
 * What a notification does to the incident of its group. Firing alerts join, resolved ones leave, and alerts left out
 * of a truncated notification keep the state they had: the group closes when nothing it knows of is firing.
 */
export function applyAlertGroupNotice(
  state: AlertGroupState | undefined,
  notice: AlertGroupNotice,
  now: number,
  options: { reopenWithinMs?: number } = {},
): { action: AlertGroupAction; state: AlertGroupState } {
  const closed = (firing: string[]): AlertGroupState => ({ key: notice.key, open: false, firing, closedAt: now });
  if (!state || (!state.open && now - (state.closedAt ?? 0) > (options.reopenWithinMs ?? REOPEN_WITHIN_MS))) {
    if (notice.status === 'resolved' || notice.firing.length === 0) return { action: 'ignore', state: state ?? closed([]) };
    return { action: 'open', state: { key: notice.key, open: true, firing: notice.firing } };
  }
  const resolved = new Set(notice.resolved);
  const firing = unique([...state.firing.filter((f) => !resolved.has(f)), ...notice.firing]);
  if (!state.open) {
    if (notice.status === 'resolved' || notice.firing.length === 0) return { action: 'ignore', state };
    return { action: 'reopen', state: { key: notice.key, open: true, firing: notice.firing } };
  }
  if (notice.status === 'resolved' || firing.length === 0) return { action: 'close', state: closed([]) };
  return { action: 'update', state: { key: notice.key, open: true, firing } };
}

/** Labels within the evidence's limits: Prometheus allows longer values than evidence keeps. */
function clipped(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k.slice(0, 256), v.slice(0, 2_000)]));
}

/** Each alert of a notification as evidence, with the expression that fired it. */
export function alertmanagerEvidence(payload: AlertmanagerWebhook, collectedAt: string): EvidenceOf<'alert'>[] {
  return payload.alerts.map((a) => {
    const expression = alertExpression(a.generatorURL);
    const sourceUrl = /^https?:\/\//.test(a.generatorURL) ? a.generatorURL : undefined;
    return {
      id: `alert:${a.fingerprint}`,
      kind: 'alert',
      source: { system: 'alertmanager', ref: a.fingerprint, ...(sourceUrl ? { url: sourceUrl } : {}) },
      collectedAt,
      name: (a.labels['alertname'] ?? 'alert').slice(0, 256),
      status: a.status,
      startsAt: a.startsAt,
      ...(a.status === 'resolved' ? { endsAt: a.endsAt } : {}),
      labels: clipped(a.labels),
      annotations: clipped(a.annotations),
      fingerprint: a.fingerprint,
      ...(expression ? { expression: expression.slice(0, 4_000) } : {}),
    };
  });
}
