// @drydock/activities/notify: notification channels (docs/notifications.md). `NotificationChannel.send` makes one
// attempt and returns a `DeliveryResult` for the delivery log (delivered, retryable or permanent with a reason, the
// status, the first KiB of the answer, the target without secrets); `deliveryFailure(result)` is the
// ApplicationFailure an activity throws (non-retryable when permanent, Retry-After as the next delay). One folder
// per channel (email, slack, teams, webhook); `createNotificationChannel` picks one from `ChannelSettingsSchema`.
// The three HTTP channels post through `http-post.ts` (no redirects, a fresh connection, one timeout) behind the
// SSRF guard of `url-guard.ts`, which checks a URL when it is saved and every resolved address again at connect
// time. `channel-store.ts` stores a team's channels (secrets sealed); `events.ts` routes an event through the
// team's rules to one delivery per channel, each sent by `notificationDeliveryWorkflow` (notifications.activities.ts).
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
export { channelRecord, type ChannelServerSettings, channelSmtpHost, emailTransport, openChannel, type StoredChannel } from './channel-store.ts';
export { type DeliveryStarter, emitNotification, type NotificationDeliveryInput, type NotificationEvent, ruleMatches, type RuleRow } from './events.ts';
