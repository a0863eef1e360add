import { sql } from 'kysely';
import {
  type ChannelView,
  type CreateChannelBody,
  type DeliveryView,
  isId,
  newId,
  NotFoundError,
  type Preferences,
  type RuleBody,
  type RuleView,
  type User,
  ValidationError,
} from '@drydock/core';
import { approvalRequestedEvent, attemptDelivery, type NotificationDeps } from '@drydock/activities';
import { channelRecord, type ChannelServerSettings, channelSmtpHost, emitNotification } from '@drydock/activities/notify';
import { deliveryStarter } from '@drydock/temporal';
import type { ApiDeps } from './context.ts';

// Channels, rules, personal preferences and the delivery log of a team; and the events the API itself sees.

export function notifyServer(deps: ApiDeps): ChannelServerSettings {
  return { policy: deps.config.notifyTargets, timeoutMs: deps.config.DRYDOCK_NOTIFY_TIMEOUT * 1000, smtp: deps.config.smtp };
}

function links(deps: ApiDeps): NotificationDeps['links'] {
  return { publicUrl: deps.config.publicUrl, temporalUiUrl: deps.config.temporalUiUrl, namespace: deps.config.TEMPORAL_NAMESPACE };
}

const isUnique = (err: unknown) => (err as { code?: string }).code === '23505';

type ChannelRow = { id: string; name: string; kind: ChannelView['kind']; config: Record<string, unknown>; sealed: string | null; target: string; created_by_name: string; created_at: Date };

async function channelViews(deps: ApiDeps, rows: ChannelRow[]): Promise<ChannelView[]> {
  const ids = rows.map((r) => r.id);
  const latest =
    ids.length === 0
      ? []
      : await deps.db
          .selectFrom('notification_deliveries')
          .select(['channel_id', 'status', 'updated_at', sql<string | null>`attempts -> -1 ->> 'message'`.as('message')])
          .distinctOn('channel_id')
          .where('channel_id', 'in', ids)
          .orderBy('channel_id')
          .orderBy('updated_at', 'desc')
          .execute();
  const byChannel = new Map(latest.map((l) => [l.channel_id, l]));
  return rows.map((r) => {
    const last = byChannel.get(r.id);
    return {
      id: r.id,
      name: r.name,
      kind: r.kind,
      target: r.target,
      smtpHost: channelSmtpHost(r),
      createdBy: r.created_by_name,
      createdAt: r.created_at.toISOString(),
      lastDelivery: last ? { status: last.status, at: last.updated_at.toISOString(), message: last.message } : null,
      failing: last?.status === 'failed' || last?.status === 'retrying',
    };
  });
}

export async function listChannels(deps: ApiDeps, teamId: string): Promise<ChannelView[]> {
  const rows = await deps.db.selectFrom('notification_channels').selectAll().where('team_id', '=', teamId).orderBy('name').execute();
  return channelViews(deps, rows);
}

async function channelRow(deps: ApiDeps, teamId: string, id: string) {
  const row = isId(id) ? await deps.db.selectFrom('notification_channels').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst() : undefined;
  if (!row) throw new NotFoundError('notification channel', id);
  return row;
}

export async function createChannel(deps: ApiDeps, user: User, body: CreateChannelBody): Promise<ChannelView & { signingSecret?: string }> {
  const record = await channelRecord(body, deps.secrets, notifyServer(deps));
  const id = newId();
  try {
    await deps.db
      .insertInto('notification_channels')
      .values({ id, team_id: user.team_id, name: body.name, kind: body.kind, config: record.config, sealed: record.sealed, target: record.target, created_by_name: user.email })
      .execute();
  } catch (err) {
    if (isUnique(err)) throw new ValidationError(`a channel named ${body.name} exists`, { name: ['the team has a channel of this name'] });
    throw err;
  }
  const [view] = await channelViews(deps, [await channelRow(deps, user.team_id, id)]);
  return { ...view!, ...(record.signingSecret ? { signingSecret: record.signingSecret } : {}) };
}

/** Replaces a channel's settings; a webhook without a new secret keeps its old one. */
export async function updateChannel(deps: ApiDeps, user: User, id: string, body: CreateChannelBody): Promise<ChannelView & { signingSecret?: string }> {
  const existing = await channelRow(deps, user.team_id, id);
  if (existing.kind !== body.kind) throw new ValidationError('a channel keeps its kind', { kind: [`this channel is ${existing.kind}; create a new channel for ${body.kind}`] });
  let keep = body;
  if (body.kind === 'webhook' && body.secret === undefined && existing.sealed) {
    keep = { ...body, secret: (JSON.parse(deps.secrets.open(existing.sealed)) as { secret: string }).secret };
  }
  const record = await channelRecord(keep, deps.secrets, notifyServer(deps));
  try {
    await deps.db.updateTable('notification_channels').set({ name: body.name, config: record.config, sealed: record.sealed, target: record.target }).where('id', '=', id).execute();
  } catch (err) {
    if (isUnique(err)) throw new ValidationError(`a channel named ${body.name} exists`, { name: ['the team has a channel of this name'] });
    throw err;
  }
  const [view] = await channelViews(deps, [await channelRow(deps, user.team_id, id)]);
  return { ...view!, ...(record.signingSecret ? { signingSecret: record.signingSecret } : {}) };
}

export async function deleteChannel(deps: ApiDeps, teamId: string, id: string): Promise<void> {
  await channelRow(deps, teamId, id);
  await deps.db.transaction().execute(async (tx) => {
    await tx.updateTable('notification_rules').set({ channel_ids: sql`array_remove(channel_ids, ${id}::uuid)` }).where('team_id', '=', teamId).execute();
    await tx.deleteFrom('notification_channels').where('id', '=', id).execute();
  });
}

/** Sends a test message through the channel now, once, and records it in the delivery log like any other. */
export async function sendTest(deps: ApiDeps, user: User, id: string): Promise<DeliveryView> {
  const channel = await channelRow(deps, user.team_id, id);
  const eventId = `test.${newId()}`;
  await deps.db
    .insertInto('notification_events')
    .values({
      id: eventId,
      team_id: user.team_id,
      kind: 'run_succeeded',
      notification: {
        eventId,
        kind: 'run_succeeded',
        severity: 'info',
        title: `Test notification for ${channel.name}`,
        summary: `${user.email} sent this from Drydock's notification settings to check the channel.`,
        facts: [{ label: 'Channel', value: channel.name }],
        links: [{ label: 'Notification settings', url: `${deps.config.publicUrl}/settings/notifications` }],
        occurredAt: new Date().toISOString(),
        team: user.team_id,
      },
    })
    .execute();
  const deliveryId = newId();
  await deps.db
    .insertInto('notification_deliveries')
    .values({ id: deliveryId, team_id: user.team_id, event_id: eventId, channel_id: id, channel_name: channel.name, channel_kind: channel.kind, recipients: null, idempotency_key: `${eventId}/${id}` })
    .execute();
  await attemptDelivery({ db: deps.db, secrets: deps.secrets, server: notifyServer(deps) }, deliveryId, 1);
  const [view] = await listDeliveries(deps, user.team_id, { deliveryId, limit: 1 });
  return view!;
}

function ruleView(r: { id: string; name: string; events: string[]; scripts: string[]; environments: string[]; tags: string[]; channel_ids: string[]; created_by_name: string; created_at: Date }): RuleView {
  return {
    id: r.id,
    name: r.name,
    events: r.events as RuleView['events'],
    scripts: r.scripts,
    environments: r.environments,
    tags: r.tags,
    channelIds: r.channel_ids,
    createdBy: r.created_by_name,
    createdAt: r.created_at.toISOString(),
  };
}

export async function listRules(deps: ApiDeps, teamId: string): Promise<RuleView[]> {
  const rows = await deps.db.selectFrom('notification_rules').selectAll().where('team_id', '=', teamId).orderBy('name').execute();
  return rows.map(ruleView);
}

async function checkChannels(deps: ApiDeps, teamId: string, ids: string[]): Promise<void> {
  const found = await deps.db.selectFrom('notification_channels').select('id').where('team_id', '=', teamId).where('id', 'in', ids).execute();
  const missing = ids.filter((i) => !found.some((f) => f.id === i));
  if (missing.length > 0) throw new ValidationError('unknown channels', { channelIds: [`the team has no channel ${missing.join(', ')}`] });
}

const ruleValues = (body: RuleBody) => ({
  name: body.name,
  events: [...new Set(body.events)],
  scripts: body.scripts,
  environments: body.environments,
  tags: body.tags,
  channel_ids: [...new Set(body.channelIds)],
});

export async function createRule(deps: ApiDeps, user: User, body: RuleBody): Promise<RuleView> {
  await checkChannels(deps, user.team_id, body.channelIds);
  try {
    const row = await deps.db
      .insertInto('notification_rules')
      .values({ id: newId(), team_id: user.team_id, created_by_name: user.email, ...ruleValues(body) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return ruleView(row);
  } catch (err) {
    if (isUnique(err)) throw new ValidationError(`a rule named ${body.name} exists`, { name: ['the team has a rule of this name'] });
    throw err;
  }
}

export async function updateRule(deps: ApiDeps, user: User, id: string, body: RuleBody): Promise<RuleView> {
  await checkChannels(deps, user.team_id, body.channelIds);
  const row = isId(id)
    ? await deps.db.updateTable('notification_rules').set(ruleValues(body)).where('team_id', '=', user.team_id).where('id', '=', id).returningAll().executeTakeFirst().catch((err: unknown) => {
        if (isUnique(err)) throw new ValidationError(`a rule named ${body.name} exists`, { name: ['the team has a rule of this name'] });
        throw err;
      })
    : undefined;
  if (!row) throw new NotFoundError('notification rule', id);
  return ruleView(row);
}

export async function deleteRule(deps: ApiDeps, teamId: string, id: string): Promise<void> {
  const deleted = isId(id) ? await deps.db.deleteFrom('notification_rules').where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst() : undefined;
  if (!deleted || deleted.numDeletedRows === 0n) throw new NotFoundError('notification rule', id);
}

export async function getPreferences(deps: ApiDeps, user: User): Promise<Preferences> {
  const rows = await deps.db.selectFrom('notification_preferences').select(['event', 'mode']).where('user_id', '=', user.id).where('team_id', '=', user.team_id).orderBy('event').execute();
  return { preferences: rows as Preferences['preferences'] };
}

/** Replaces the caller's preferences; an event left out is neither muted nor subscribed. */
export async function setPreferences(deps: ApiDeps, user: User, body: Preferences): Promise<Preferences> {
  const events = body.preferences.map((p) => p.event);
  if (new Set(events).size !== events.length) throw new ValidationError('one preference per event', { preferences: ['give each event at most once'] });
  if (body.preferences.some((p) => p.mode === 'subscribe') && !deps.config.smtp) {
    throw new ValidationError('subscriptions are emails', { preferences: ['this server has no SMTP server (DRYDOCK_SMTP_HOST), so it cannot email you'] });
  }
  await deps.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('notification_preferences').where('user_id', '=', user.id).where('team_id', '=', user.team_id).execute();
    if (body.preferences.length > 0) {
      await tx.insertInto('notification_preferences').values(body.preferences.map((p) => ({ user_id: user.id, team_id: user.team_id, event: p.event, mode: p.mode }))).execute();
    }
  });
  return getPreferences(deps, user);
}

export async function listDeliveries(deps: ApiDeps, teamId: string, q: { channelId?: string | undefined; runId?: string | undefined; deliveryId?: string; limit: number }): Promise<DeliveryView[]> {
  let query = deps.db
    .selectFrom('notification_deliveries as d')
    .innerJoin('notification_events as e', 'e.id', 'd.event_id')
    .select(['d.id', 'd.event_id', 'e.kind', sql<string>`e.notification ->> 'title'`.as('title'), 'e.run_id', 'd.channel_id', 'd.channel_name', 'd.channel_kind', 'd.status', 'd.attempts', 'd.created_at', 'd.updated_at'])
    .where('d.team_id', '=', teamId);
  if (q.channelId) query = query.where('d.channel_id', '=', q.channelId);
  if (q.runId) query = query.where('e.run_id', '=', isId(q.runId) ? q.runId : '00000000-0000-0000-0000-000000000000');
  if (q.deliveryId) query = query.where('d.id', '=', q.deliveryId);
  const rows = await query.orderBy('d.created_at', 'desc').limit(q.limit).execute();
  return rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    event: r.kind,
    title: r.title,
    runId: r.run_id,
    channelId: r.channel_id,
    channelName: r.channel_name,
    channelKind: r.channel_kind,
    status: r.status,
    attempts: r.attempts,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  }));
}

/** Tells the team's rules that a run waits for approval; a failure to notify never fails the request. */
export async function notifyApprovalRequested(deps: ApiDeps, runId: string): Promise<void> {
  try {
    const event = await approvalRequestedEvent(deps.db, links(deps), runId);
    if (event) await emitNotification(deps.db, deliveryStarter(deps.temporal), event);
  } catch (err) {
    console.error(`[api] run ${runId} waits for approval, but nobody could be told: ${err instanceof Error ? err.message : String(err)}`);
  }
}

