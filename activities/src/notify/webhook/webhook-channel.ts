import type { NotificationChannel } from '../channel.ts';
import { systemClock } from '../delivery.ts';
import { type HttpTargetOptions, jsonPostChannel } from '../http-post.ts';
import type { Notification } from '../notification.ts';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.ts';

/** The JSON body of a generic webhook; docs/notifications.md documents it field by field. */
export interface WebhookBody {
  type: 'drydock.notification';
  version: 1;
  /** The idempotency key: the same on every attempt of one event to one channel. */
  id: string;
  notification: Notification;
}

/**
 * A receiver of Drydock's own JSON, signed with HMAC-SHA256 over `<t>.<body>` (X-Drydock-Signature) and
 * carrying its idempotency key (Idempotency-Key); each attempt is signed afresh with its own timestamp.
 */
export function createWebhookChannel(url: string, secret: string, http: HttpTargetOptions): NotificationChannel {
  const clock = http.clock ?? systemClock;
  return jsonPostChannel(
    'webhook',
    url,
    http,
    (notification, attempt): WebhookBody => ({ type: 'drydock.notification', version: 1, id: attempt.idempotencyKey, notification }),
    (notification, attempt, body) => ({
      'x-drydock-event': notification.kind,
      'x-drydock-attempt': String(attempt.attempt),
      [SIGNATURE_HEADER.toLowerCase()]: signatureHeader(secret, body, Math.floor(clock.now() / 1000)),
    }),
  );
}
