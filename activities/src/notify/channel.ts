import { z } from 'zod';
import type { DeliveryAttempt, DeliveryResult, ChannelKind } from './delivery.ts';
import type { Notification } from './notification.ts';

/**
 * One way of telling people about an event. `send` makes one attempt and always returns what happened,
 * delivered or not, for the delivery log; `deliveryFailure(result)` turns a failed attempt into the
 * retryable or non-retryable failure an activity throws.
 */
export interface NotificationChannel {
  readonly kind: ChannelKind;
  send(notification: Notification, attempt: DeliveryAttempt): Promise<DeliveryResult>;
}

const WebhookUrl = z.url({ protocol: /^https?$/, error: 'give the webhook\'s absolute http or https URL' });

/** What a channel stores, per kind; the URLs (which carry Slack's and Teams' secrets) and the signing secret are stored sealed. */
export const ChannelSettingsSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('email'), to: z.array(z.email({ error: 'give each recipient as an email address' })).min(1, { error: 'give at least one recipient' }).max(50) }),
  z.strictObject({ kind: z.literal('slack'), webhookUrl: WebhookUrl }),
  z.strictObject({ kind: z.literal('teams'), webhookUrl: WebhookUrl }),
  z.strictObject({
    kind: z.literal('webhook'),
    url: WebhookUrl,
    secret: z.string().min(24, { error: 'a signing secret has at least 24 characters; generate one with generateWebhookSecret()' }),
  }),
]);
export type ChannelSettings = z.infer<typeof ChannelSettingsSchema>;
