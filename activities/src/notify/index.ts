export { type ChannelSettings, ChannelSettingsSchema, type NotificationChannel } from './channel.ts';
export {
  type ChannelKind,
  type DeliveryAttempt,
  deliveryFailure,
  type DeliveryFailureReason,
  type DeliveryResult,
  FAILURE_RETRYABLE,
  idempotencyKey,
} from './delivery.ts';
export { createEmailChannel, type EmailTransportOptions } from './email/email-channel.ts';
export type { HttpTargetOptions } from './http-post.ts';
export { ChannelUnavailableError, createNotificationChannel, type NotificationChannelDeps } from './notification-channels.ts';
export { KIND_LABELS, type Notification, type NotificationInput, type NotificationKind, NOTIFICATION_KINDS, NotificationSchema, SEVERITIES, type Severity } from './notification.ts';
export { createSlackChannel } from './slack/slack-channel.ts';
export { createTeamsChannel } from './teams/teams-channel.ts';
export { type AddressClass, checkTargetUrl, classifyAddress, guardedLookup, type LookupFunction, redactUrl, TargetRefusedError } from './url-guard.ts';
export { createWebhookChannel, type WebhookBody } from './webhook/webhook-channel.ts';
export { generateWebhookSecret, SIGNATURE_HEADER, signatureHeader, verifySignature } from './webhook/webhook-signature.ts';
