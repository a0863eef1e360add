import { Context } from '@temporalio/activity';
import { sql } from 'kysely';
import type { LockLease } from '@drydock/core';
import type { NotificationDeps } from './notifications.activities.ts';
import { type DeliveryStarter, emitNotification, type NotificationEvent } from './notify/events.ts';

// The events that have no moment of their own: a host that fell silent, a lock held past its expected time; and
// deliveries whose workflow never started. The watcher workflow calls the sweep every few seconds; each event's id
// names its occurrence, and the events table is the memory of what was already said, so a sweep repeated (or run
// by two workers) says nothing twice.

/** Agents silent for longer than this (three missed heartbeats) are unreachable, as the hosts page shows them. */
export const DEFAULT_HOST_SILENCE_MS = 30_000;
/** Outages older than this when the watcher first sees them are history, not news (a worker started after a long stop). */
const NEWS_WINDOW_MS = 24 * 3600_000;

export interface WatcherDeps extends NotificationDeps {
  hostSilenceMs?: number;
}

export interface SweepResult {
  hostUnreachable: number;
  lockHeldTooLong: number;
  deliveriesRestarted: number;
}

function link(deps: WatcherDeps, path: string): { label: string; url: string } {
  return { label: path.startsWith('/hosts') ? 'Open host' : 'Open locks', url: `${deps.links.publicUrl}${path}` };
}

/** Agent hosts whose last heartbeat is older than the silence window, once per outage (`host_unreachable.<hostId>.<lastSeenMs>`). */
export async function unreachableHostEvents(deps: WatcherDeps, now: Date): Promise<NotificationEvent[]> {
  const silenceMs = deps.hostSilenceMs ?? DEFAULT_HOST_SILENCE_MS;
  const hosts = await deps.db
    .selectFrom('hosts')
    .select(['id', 'team_id', 'name', 'environment', 'tags', 'last_seen_at'])
    .where('transport', '=', 'agent')
    .where('last_seen_at', '<', new Date(now.getTime() - silenceMs))
    .where('last_seen_at', '>', new Date(now.getTime() - NEWS_WINDOW_MS))
    .execute();
  const events = hosts.map((h): NotificationEvent => {
    const lastSeen = h.last_seen_at!;
    return {
      id: `host_unreachable.${h.id}.${lastSeen.getTime()}`,
      teamId: h.team_id,
      environment: h.environment,
      tags: h.tags,
      notification: {
        kind: 'host_unreachable',
        severity: 'critical',
        title: `Host ${h.name} is unreachable`,
        summary: `Its agent has not reported since ${lastSeen.toISOString()}; runs for it wait and then fail as offline.`,
        facts: [{ label: 'Host', value: h.name }, ...(h.environment ? [{ label: 'Environment', value: h.environment }] : []), { label: 'Last seen', value: lastSeen.toISOString() }],
        links: [link(deps, `/hosts/${h.id}`)],
        occurredAt: new Date(lastSeen.getTime() + silenceMs).toISOString(),
      },
    };
  });
  return withoutEmitted(deps, events);
}

/** Leases held longer than the TTL they asked for (they were extended past it), once per lease (`lock_held_too_long.<leaseId>`). */
export async function longHeldLockEvents(deps: WatcherDeps, now: Date): Promise<NotificationEvent[]> {
  const rows = await deps.db
    .selectFrom('host_locks')
    .innerJoin('hosts', 'hosts.id', 'host_locks.host_id')
    .select(['host_locks.host_id', 'host_locks.holder', 'hosts.team_id', 'hosts.name', 'hosts.environment', 'hosts.tags'])
    .where('host_locks.acquired_at', 'is not', null)
    .where(sql<boolean>`host_locks.acquired_at + make_interval(secs => (host_locks.holder->>'ttlSeconds')::float8) < ${now}`)
    .execute();
  const events = rows.flatMap((r): NotificationEvent[] => {
    const lease = r.holder as LockLease | null;
    if (!lease?.acquiredAt) return [];
    const expectedEnd = new Date(Date.parse(lease.acquiredAt) + lease.ttlSeconds * 1000);
    return [
      {
        id: `lock_held_too_long.${lease.leaseId}`,
        teamId: r.team_id,
        environment: r.environment,
        tags: r.tags,
        ...(lease.holder.kind === 'user' ? { ownerId: lease.holder.id } : {}),
        notification: {
          kind: 'lock_held_too_long',
          severity: 'warning',
          title: `The ${lease.type} lock on ${r.name} is held past its expected time`,
          summary: `${lease.holder.name} took it at ${lease.acquiredAt} for ${lease.ttlSeconds} s${lease.reason ? ` (${lease.reason})` : ''} and still holds it after ${lease.extensions} extension(s); it now expires at ${lease.expiresAt ?? 'an unknown time'}.`,
          facts: [
            { label: 'Host', value: r.name },
            { label: 'Held by', value: lease.holder.name },
            { label: 'Expected end', value: expectedEnd.toISOString() },
            { label: 'Extensions', value: `${lease.extensions} of ${lease.maxExtensions}` },
          ],
          links: [link(deps, `/locks`)],
          occurredAt: expectedEnd.toISOString(),
        },
      },
    ];
  });
  return withoutEmitted(deps, events);
}

/** Drops the events already recorded: the sweep repeats every few seconds and an outage lasts many of them. */
async function withoutEmitted(deps: WatcherDeps, events: NotificationEvent[]): Promise<NotificationEvent[]> {
  if (events.length === 0) return events;
  const known = await deps.db.selectFrom('notification_events').select('id').where('id', 'in', events.map((e) => e.id)).execute();
  const seen = new Set(known.map((k) => k.id));
  return events.filter((e) => !seen.has(e.id));
}

/**
 * Deliveries recorded but never attempted, older than `stallMs`: their workflow's start failed (Temporal away at
 * the instant a run's hook emitted). Starting them again is idempotent: one that exists is refused by its id.
 */
export async function restartStalledDeliveries(deps: WatcherDeps, start: DeliveryStarter, now: Date, stallMs: number): Promise<number> {
  const stalled = await deps.db
    .selectFrom('notification_deliveries')
    .select(['id', 'idempotency_key', 'team_id'])
    .where('status', '=', 'pending')
    .where(sql<boolean>`jsonb_array_length(attempts) = 0`)
    .where('created_at', '<', new Date(now.getTime() - stallMs))
    .where('created_at', '>', new Date(now.getTime() - NEWS_WINDOW_MS))
    .orderBy('created_at')
    .limit(100)
    .execute();
  let started = 0;
  for (const d of stalled) if (await start({ deliveryId: d.id, key: d.idempotency_key, teamId: d.team_id })) started++;
  return started;
}

export function createNotificationWatcherActivities(deps: WatcherDeps) {
  return {
    /** One look at hosts, locks and stalled deliveries; emits the events found since the last look. */
    async sweepNotificationWatchers(input: { intervalSeconds: number }): Promise<SweepResult> {
      const now = new Date();
      const start = deps.starter(Context.current().client);
      const hosts = await unreachableHostEvents(deps, now);
      const locks = await longHeldLockEvents(deps, now);
      for (const e of [...hosts, ...locks]) await emitNotification(deps.db, start, e);
      // Two sweeps' worth and at least 10 s: a delivery just written has its workflow starting, not lost.
      const restarted = await restartStalledDeliveries(deps, start, now, Math.max(10_000, 2 * input.intervalSeconds * 1000));
      return { hostUnreachable: hosts.length, lockHeldTooLong: locks.length, deliveriesRestarted: restarted };
    },
  };
}
