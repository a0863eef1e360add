import { type Db, newId } from '@drydock/core';
import { type NotificationInput, NotificationSchema, type NotificationKind } from './notification.ts';

// An event, once: which rules match it, which channels (and personal subscriptions) it goes to, one delivery
// row per target keyed `<eventId>/<channelId>`, and one delivery workflow per row. Every step can be repeated
// (a retried activity emits the same event again): the event and each delivery are inserted once, and a
// workflow that already exists for a key is not started again.

/** What the delivery workflow takes: ids only, the notification and the channel's secrets stay in Postgres. */
export interface NotificationDeliveryInput {
  deliveryId: string;
  /** `<eventId>/<channelId>`: the workflow id after `notify/`. */
  key: string;
  teamId: string;
}

/** Starts a delivery workflow; resolves false when one with that key exists already. */
export type DeliveryStarter = (input: NotificationDeliveryInput) => Promise<boolean>;

export interface NotificationEvent {
  /** Stable for one event, so a retried emit is the same event: `<kind>.<subject id>[.<occurrence>]`. */
  id: string;
  teamId: string;
  notification: Omit<NotificationInput, 'eventId' | 'team'>;
  runId?: string | undefined;
  /** What rules filter on. */
  scriptId?: string | undefined;
  environment?: string | null | undefined;
  tags?: readonly string[] | undefined;
  /** The user whose run it is: their preferences apply. */
  ownerId?: string | undefined;
}

export interface RuleRow {
  events: string[];
  scripts: string[];
  environments: string[];
  tags: string[];
  channel_ids: string[];
}

/** Whether a rule takes an event: its kind, and each non-empty filter (script, environment, any tag). */
export function ruleMatches(rule: RuleRow, event: Pick<NotificationEvent, 'scriptId' | 'environment' | 'tags'> & { kind: string }): boolean {
  if (!rule.events.includes(event.kind)) return false;
  if (rule.scripts.length > 0 && (!event.scriptId || !rule.scripts.includes(event.scriptId))) return false;
  if (rule.environments.length > 0 && (!event.environment || !rule.environments.includes(event.environment))) return false;
  if (rule.tags.length > 0 && !(event.tags ?? []).some((t) => rule.tags.includes(t))) return false;
  return true;
}

const sameAddress = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

interface Target {
  channelId: string | null;
  userId: string | null;
  name: string;
  kind: 'email' | 'slack' | 'teams' | 'webhook';
  recipients: string[] | null;
}

/** Records the event and starts one delivery per matching channel; returns the delivery keys. Never throws for an event nobody wants. */
export async function emitNotification(db: Db, start: DeliveryStarter, event: NotificationEvent): Promise<string[]> {
  const kind = event.notification.kind as NotificationKind;
  const notification = NotificationSchema.parse({ ...event.notification, eventId: event.id, team: event.teamId });
  const rules = await db.selectFrom('notification_rules').select(['events', 'scripts', 'environments', 'tags', 'channel_ids']).where('team_id', '=', event.teamId).execute();
  const channelIds = [...new Set(rules.filter((r) => ruleMatches(r, { ...event, kind })).flatMap((r) => r.channel_ids))];
  const channels = channelIds.length > 0 ? await db.selectFrom('notification_channels').select(['id', 'name', 'kind', 'config']).where('team_id', '=', event.teamId).where('id', 'in', channelIds).execute() : [];

  const owner = event.ownerId
    ? await db
        .selectFrom('users')
        .leftJoin('notification_preferences as p', (j) => j.onRef('p.user_id', '=', 'users.id').on('p.team_id', '=', event.teamId).on('p.event', '=', kind))
        .select(['users.id', 'users.email', 'p.mode'])
        .where('users.id', '=', event.ownerId)
        .executeTakeFirst()
    : undefined;

  const targets: Target[] = [];
  for (const c of channels) {
    let recipients: string[] | null = null;
    if (c.kind === 'email' && owner?.mode === 'mute') {
      const to = (c.config as { to?: string[] }).to ?? [];
      const left = to.filter((a) => !sameAddress(a, owner.email));
      if (left.length === 0) continue;
      if (left.length < to.length) recipients = left;
    }
    targets.push({ channelId: c.id, userId: null, name: c.name, kind: c.kind, recipients });
  }
  if (owner?.mode === 'subscribe') targets.push({ channelId: null, userId: owner.id, name: `personal: ${owner.email}`, kind: 'email', recipients: [owner.email] });
  if (targets.length === 0) return [];

  await db
    .insertInto('notification_events')
    .values({ id: event.id, team_id: event.teamId, kind, notification: notification as unknown as Record<string, unknown>, run_id: event.runId ?? null })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();

  const keys: string[] = [];
  for (const t of targets) {
    const key = `${event.id}/${t.channelId ?? `user-${t.userId}`}`;
    await db
      .insertInto('notification_deliveries')
      .values({ id: newId(), team_id: event.teamId, event_id: event.id, channel_id: t.channelId, user_id: t.userId, channel_name: t.name, channel_kind: t.kind, recipients: t.recipients, idempotency_key: key })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .execute();
    const row = await db.selectFrom('notification_deliveries').select('id').where('idempotency_key', '=', key).executeTakeFirstOrThrow();
    await start({ deliveryId: row.id, key, teamId: event.teamId });
    keys.push(key);
  }
  return keys;
}
