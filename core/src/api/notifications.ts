import { z } from 'zod';
import { orNull } from './nullable.ts';

// The notifications resource: /api/v1/notifications (channels, rules, personal preferences, the delivery log).
// What each channel sends lives in @drydock/activities/notify; docs/notifications.md says it for people.

const IsoTime = z.iso.datetime({ offset: true });

export const NOTIFICATION_EVENTS = [
  'run_failed',
  'run_timed_out',
  'run_succeeded',
  'bulk_finished',
  'bulk_stopped_by_threshold',
  'schedule_firing_skipped',
  'host_unreachable',
  'lock_held_too_long',
  'approval_requested',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export const NotificationEventSchema = z.enum(NOTIFICATION_EVENTS, { error: `an event is one of ${NOTIFICATION_EVENTS.join(', ')}` });

const ChannelName = z.string().trim().min(1, { error: 'name the channel' }).max(100).meta({ description: 'Unique in the team' });
const HttpUrl = z.url({ protocol: /^https?$/, error: "give the webhook's absolute http or https URL" }).max(2000);
// A DNS name or an IPv4 address: what an SMTP client can connect to, nothing else (no scheme, port or path).
const SmtpHost = z
  .string()
  .trim()
  .max(253)
  .regex(/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/, {
    error: 'give the SMTP server as a host name or IPv4 address, without scheme or port',
  });

export const SmtpOverrideSchema = z
  .strictObject({
    host: SmtpHost,
    port: z.number().int().min(1, { error: 'a port is 1 to 65535' }).max(65535, { error: 'a port is 1 to 65535' }).optional(),
    security: z.enum(['starttls', 'tls'], { error: 'security is starttls or tls' }).default('starttls'),
    user: z.string().min(1).max(200).optional(),
    password: z.string().min(1).max(500).optional().meta({ description: 'Stored sealed; never returned' }),
    from: z.string().trim().min(3).max(300).optional().meta({ description: "The sender; the server's DRYDOCK_SMTP_FROM unless given" }),
  })
  .refine((s) => (s.user === undefined) === (s.password === undefined), { error: 'an SMTP login needs both user and password', path: ['password'] })
  .meta({ description: "This channel's own SMTP server, instead of the server-wide DRYDOCK_SMTP_HOST" });

export const CreateChannelBodySchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('email'),
        name: ChannelName,
        to: z.array(z.email({ error: 'give each recipient as an email address' })).min(1, { error: 'give at least one recipient' }).max(50),
        smtp: SmtpOverrideSchema.optional(),
      }),
      z.strictObject({ kind: z.literal('slack'), name: ChannelName, webhookUrl: HttpUrl.meta({ description: 'The incoming webhook URL; stored sealed, shown redacted' }) }),
      z.strictObject({ kind: z.literal('teams'), name: ChannelName, webhookUrl: HttpUrl.meta({ description: 'The incoming webhook or Workflows URL; stored sealed, shown redacted' }) }),
      z.strictObject({
        kind: z.literal('webhook'),
        name: ChannelName,
        url: HttpUrl,
        secret: z
          .string()
          .min(24, { error: 'a signing secret has at least 24 characters' })
          .max(200)
          .optional()
          .meta({ description: 'The HMAC signing secret; generated (and returned once) when absent' }),
      }),
    ],
    { error: 'kind is email, slack, teams or webhook' },
  )
  .meta({ id: 'CreateChannelBody', example: { kind: 'slack', name: 'ops-alerts', webhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXX' } });
export type CreateChannelBody = z.infer<typeof CreateChannelBodySchema>;

export const DELIVERY_STATUSES = ['pending', 'retrying', 'delivered', 'failed'] as const;

export const ChannelViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(['email', 'slack', 'teams', 'webhook']),
    target: z.string().meta({ description: 'Where it sends, without secrets: recipients, or a URL cut after its first path segment' }),
    smtpHost: orNull(z.string()).meta({ description: "The channel's own SMTP server, if it has one" }),
    createdBy: z.string(),
    createdAt: IsoTime,
    lastDelivery: orNull(
      z.object({ status: z.enum(DELIVERY_STATUSES), at: IsoTime, message: orNull(z.string()) }),
    ).meta({ description: 'The latest delivery through this channel' }),
    failing: z.boolean().meta({ description: 'The latest delivery failed or is being retried' }),
  })
  .meta({ id: 'NotificationChannelView' });
export type ChannelView = z.infer<typeof ChannelViewSchema>;

export const ChannelCreatedSchema = ChannelViewSchema.extend({
  signingSecret: z.string().optional().meta({ description: "A webhook's signing secret: shown this once, never again" }),
}).meta({ id: 'NotificationChannelCreated' });

export const ChannelListSchema = z.object({ channels: z.array(ChannelViewSchema) }).meta({ id: 'NotificationChannelList' });

const Names = z.array(z.string().trim().min(1).max(200)).max(100).default([]);

export const RuleBodySchema = z
  .strictObject({
    name: z.string().trim().min(1, { error: 'name the rule' }).max(100),
    events: z.array(NotificationEventSchema).min(1, { error: 'give at least one event' }),
    scripts: Names.meta({ description: 'Script or action ids; empty matches every script' }),
    environments: Names.meta({ description: 'Environments; empty matches every environment' }),
    tags: Names.meta({ description: "Host or script tags, any of which matches; empty matches everything" }),
    channelIds: z.array(z.uuid({ error: 'a channel id is a UUID' })).min(1, { error: 'give at least one channel' }).max(20),
  })
  .meta({ id: 'NotificationRuleBody', example: { name: 'staging failures', events: ['run_failed', 'run_timed_out'], environments: ['staging'], channelIds: ['0192f0a0-0000-7000-8000-000000000000'] } });
export type RuleBody = z.infer<typeof RuleBodySchema>;

export const RuleViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    events: z.array(NotificationEventSchema),
    scripts: z.array(z.string()),
    environments: z.array(z.string()),
    tags: z.array(z.string()),
    channelIds: z.array(z.uuid()),
    createdBy: z.string(),
    createdAt: IsoTime,
  })
  .meta({ id: 'NotificationRuleView' });
export type RuleView = z.infer<typeof RuleViewSchema>;
export const RuleListSchema = z.object({ rules: z.array(RuleViewSchema) }).meta({ id: 'NotificationRuleList' });

export const PreferencesSchema = z
  .strictObject({
    preferences: z
      .array(z.strictObject({ event: NotificationEventSchema, mode: z.enum(['mute', 'subscribe'], { error: 'mode is mute or subscribe' }) }))
      .max(NOTIFICATION_EVENTS.length),
  })
  .meta({
    id: 'NotificationPreferences',
    description: 'For events of your own runs: `mute` leaves you out of every email about them, `subscribe` sends you an email of your own even when no rule does',
  });
export type Preferences = z.infer<typeof PreferencesSchema>;

export const DeliveryAttemptViewSchema = z.object({
  attempt: z.number().int(),
  outcome: z.enum(['delivered', 'retryable', 'permanent']),
  message: z.string(),
  status: z.number().int().optional().meta({ description: 'The HTTP status or SMTP reply code' }),
  responseExcerpt: z.string().optional().meta({ description: "The start of the receiver's answer (1 KiB at most)" }),
  startedAt: IsoTime,
  durationMs: z.number(),
});

export const DeliveryViewSchema = z
  .object({
    id: z.uuid(),
    eventId: z.string(),
    event: z.string(),
    title: z.string(),
    runId: orNull(z.string()),
    channelId: orNull(z.string()),
    channelName: z.string(),
    channelKind: z.enum(['email', 'slack', 'teams', 'webhook']),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.array(DeliveryAttemptViewSchema),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  })
  .meta({ id: 'NotificationDeliveryView' });
export type DeliveryView = z.infer<typeof DeliveryViewSchema>;
export const DeliveryListSchema = z.object({ deliveries: z.array(DeliveryViewSchema) }).meta({ id: 'NotificationDeliveryList' });

export const DeliveryQuerySchema = z.object({
  channelId: z.uuid({ error: 'channelId is a channel id (UUID)' }).optional(),
  runId: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
