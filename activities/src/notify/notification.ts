import { z } from 'zod';

// A channel-neutral description of an event; each channel renders it in its own format. Workflows import the type.

export const NOTIFICATION_KINDS = [
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
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const SEVERITIES = ['info', 'success', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Only web links: a `javascript:` or `data:` URL must never become a button in a chat or a link in an email. */
const WebUrl = z.url({ protocol: /^https?$/, error: 'a link is an absolute http or https URL' });

export const NotificationSchema = z.strictObject({
  /** One event; with the channel it makes the idempotency key. */
  eventId: z.string().min(1).max(200),
  kind: z.enum(NOTIFICATION_KINDS),
  severity: z.enum(SEVERITIES),
  title: z.string().trim().min(1).max(500),
  summary: z.string().max(20_000).default(''),
  /** Label and value pairs: script, host, environment, exit code, duration. */
  facts: z.array(z.strictObject({ label: z.string().min(1).max(200), value: z.string().max(5000) })).max(50).default([]),
  /** The run page, its Temporal Web page, the schedule. */
  links: z.array(z.strictObject({ label: z.string().min(1).max(200), url: WebUrl })).max(10).default([]),
  occurredAt: z.iso.datetime({ offset: true }),
  team: z.string().optional(),
});
export type Notification = z.output<typeof NotificationSchema>;
export type NotificationInput = z.input<typeof NotificationSchema>;

export const KIND_LABELS: Record<NotificationKind, string> = {
  run_failed: 'Run failed',
  run_timed_out: 'Run timed out',
  run_succeeded: 'Run succeeded',
  bulk_finished: 'Bulk execution finished',
  bulk_stopped_by_threshold: 'Bulk execution stopped by its failure threshold',
  schedule_firing_skipped: 'Schedule firing skipped',
  host_unreachable: 'Host unreachable',
  lock_held_too_long: 'Lock held past its expected time',
  approval_requested: 'Approval requested',
};
