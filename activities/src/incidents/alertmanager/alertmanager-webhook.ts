import { ValidationError, type FieldErrors } from '@drydock/core';
import { alertGroupNotice, alertmanagerEvidence, parseAlertmanagerWebhook, type AlertGroupNotice, type AlertmanagerWebhook, type EvidenceOf } from '@drydock/core/incidents';
import { headerValue, sameSecret } from '../../cicd/webhook-signature.ts';

// Alertmanager signs nothing: its webhook_config sends the credentials of its http_config instead. Drydock gives each
// receiver a token for `authorization: { type: Bearer, credentials: <token> }` and refuses notifications without it.

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export type AlertmanagerReceipt =
  | { ok: true; payload: AlertmanagerWebhook; notice: AlertGroupNotice; evidence: EvidenceOf<'alert'>[] }
  | { ok: false; reason: 'unauthenticated' | 'forged'; message: string }
  | { ok: false; reason: 'malformed'; message: string; fields: FieldErrors };

/**
 * Checks the bearer token (any of `tokens`, so one can be rotated) and reads the notification into the incident it
 * opens, updates or closes, with its alerts as evidence. A token is compared in constant time and never echoed.
 */
export function receiveAlertmanagerWebhook(headers: WebhookHeaders, body: string | Uint8Array, tokens: readonly string[], now: Date = new Date()): AlertmanagerReceipt {
  const authorization = headerValue(headers, 'authorization');
  if (!authorization) {
    return { ok: false, reason: 'unauthenticated', message: "the notification carries no Authorization header; give Alertmanager's webhook_config http_config.authorization with the receiver's token" };
  }
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  // Every token is compared, whichever matches, so the time taken says nothing about which one did.
  const matched = match ? tokens.map((t) => sameSecret(match[1]!, t)).some(Boolean) : false;
  if (!matched) return { ok: false, reason: 'forged', message: "the notification's bearer token is not this receiver's" };
  try {
    const payload = parseAlertmanagerWebhook(body);
    return { ok: true, payload, notice: alertGroupNotice(payload), evidence: alertmanagerEvidence(payload, now.toISOString()) };
  } catch (err) {
    if (err instanceof ValidationError) return { ok: false, reason: 'malformed', message: err.message, fields: err.fields };
    throw err;
  }
}
