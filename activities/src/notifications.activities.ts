import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import type { Db, DeliveryAttemptRecord, SecretBox } from '@drydock/core';
import { type ChannelServerSettings, openChannel } from './notify/channel-store.ts';
import { deliveryFailure, type DeliveryResult, idempotencyKey } from './notify/delivery.ts';
import { type DeliveryStarter, emitNotification, type NotificationDeliveryInput, type NotificationEvent } from './notify/events.ts';
import { ChannelUnavailableError } from './notify/notification-channels.ts';
import { type NotificationKind, NotificationSchema } from './notify/notification.ts';

// The notification feature's side of the central worker: the delivery activity (one attempt per call, each
// recorded) and the notifier the run, bulk and schedule activities call where their events happen.

export interface NotificationDeps {
  db: Db;
  secrets: SecretBox;
  server: ChannelServerSettings;
  /** Where messages link to: the run page and Temporal Web. */
  links: { publicUrl: string; temporalUiUrl: string; namespace: string };
  /** The delivery starter for a Temporal client (the activity's own, or the API's). */
  starter: (client: Client) => DeliveryStarter;
}

function temporalUrl(links: NotificationDeps['links'], workflowId: string, runId?: string | null): string {
  const base = `${links.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

const RUN_EVENTS: Partial<Record<string, { kind: NotificationKind; severity: 'critical' | 'warning' | 'success'; verb: string }>> = {
  failed: { kind: 'run_failed', severity: 'critical', verb: 'failed' },
  timed_out: { kind: 'run_timed_out', severity: 'warning', verb: 'timed out' },
  succeeded: { kind: 'run_succeeded', severity: 'success', verb: 'succeeded' },
};

/** The event a run's end is, if it is one (failed, timed out, succeeded); runs of a bulk execution speak through it. */
export async function runEndedEvent(db: Db, links: NotificationDeps['links'], runId: string): Promise<NotificationEvent | undefined> {
  const run = await db
    .selectFrom('runs')
    .leftJoin('hosts', 'hosts.id', 'runs.host_id')
    .select(['runs.id', 'runs.team_id', 'runs.status', 'runs.script_id', 'runs.script_name', 'runs.host_id', 'runs.exit_code', 'runs.error', 'runs.initiator_id', 'runs.initiator_name', 'runs.workflow_id', 'runs.workflow_run_id', 'runs.bulk_id', 'runs.finished_at', 'hosts.name as host_name', 'hosts.environment', 'hosts.tags'])
    .where('runs.id', '=', runId)
    .executeTakeFirst();
  const what = run ? RUN_EVENTS[run.status] : undefined;
  if (!run || !what || run.bulk_id !== null) return undefined;
  const scriptTags = await db.selectFrom('catalog_scripts').select('tags').where('team_id', '=', run.team_id).where('id', '=', run.script_id).executeTakeFirst();
  const host = run.host_name ?? run.host_id;
  const summary = [run.exit_code !== null ? `Exit code ${run.exit_code}.` : '', run.error ?? ''].filter(Boolean).join(' ');
  return {
    id: `${what.kind}.${run.id}`,
    teamId: run.team_id,
    runId: run.id,
    scriptId: run.script_id,
    environment: run.environment,
    tags: [...(run.tags ?? []), ...(scriptTags?.tags ?? [])],
    ownerId: run.initiator_id,
    notification: {
      kind: what.kind,
      severity: what.severity,
      title: `${run.script_name} ${what.verb} on ${host}`,
      summary,
      facts: [
        { label: 'Script', value: run.script_id },
        { label: 'Host', value: host },
        ...(run.environment ? [{ label: 'Environment', value: run.environment }] : []),
        ...(run.exit_code !== null ? [{ label: 'Exit code', value: String(run.exit_code) }] : []),
        { label: 'Started by', value: run.initiator_name },
      ],
      links: [
        { label: 'Open run', url: `${links.publicUrl}/runs/${run.id}` },
        { label: 'Temporal Web', url: temporalUrl(links, run.workflow_id, run.workflow_run_id) },
      ],
      occurredAt: (run.finished_at ?? new Date()).toISOString(),
    },
  };
}

/** A bulk execution's end: finished, or stopped by its failure threshold. */
export async function bulkEndedEvent(db: Db, links: NotificationDeps['links'], bulkId: string): Promise<NotificationEvent | undefined> {
  const bulk = await db.selectFrom('bulk_executions').selectAll().where('id', '=', bulkId).executeTakeFirst();
  if (!bulk || !bulk.finished_at) return undefined;
  const stopped = /failure threshold/.test(bulk.stop_reason ?? '');
  const counts = await db.selectFrom('runs').select(['status', sql<number>`count(*)::int`.as('n')]).where('bulk_id', '=', bulkId).groupBy('status').execute();
  const kind: NotificationKind = stopped ? 'bulk_stopped_by_threshold' : 'bulk_finished';
  return {
    id: `${kind}.${bulk.id}`,
    teamId: bulk.team_id,
    scriptId: bulk.script_id,
    ownerId: bulk.initiator_id,
    notification: {
      kind,
      severity: stopped ? 'critical' : counts.some((c) => c.status === 'failed' || c.status === 'timed_out') ? 'warning' : 'success',
      title: `Bulk ${bulk.script_name} on ${bulk.total} hosts ${stopped ? 'stopped by its failure threshold' : `ended ${bulk.status}`}`,
      summary: bulk.stop_reason ?? '',
      facts: [{ label: 'Script', value: bulk.script_id }, ...counts.map((c) => ({ label: c.status, value: String(c.n) })), { label: 'Started by', value: bulk.initiator_name }],
      links: [
        { label: 'Open bulk execution', url: `${links.publicUrl}/bulk/${bulk.id}` },
        { label: 'Temporal Web', url: temporalUrl(links, bulk.workflow_id, bulk.workflow_run_id) },
      ],
      occurredAt: bulk.finished_at.toISOString(),
    },
  };
}

/** A schedule's firing skipped by a blackout window. */
export async function firingSkippedEvent(db: Db, links: NotificationDeps['links'], firingWorkflowId: string, firingRunId?: string): Promise<NotificationEvent | undefined> {
  const firing = await db
    .selectFrom('schedule_firings')
    .innerJoin('schedules', 'schedules.id', 'schedule_firings.schedule_id')
    .leftJoin('hosts', 'hosts.id', 'schedules.host_id')
    .select(['schedule_firings.id', 'schedule_firings.team_id', 'schedule_firings.outcome', 'schedule_firings.reason', 'schedule_firings.blackout_name', 'schedule_firings.fired_at', 'schedules.id as schedule_id', 'schedules.name', 'schedules.script_id', 'schedules.created_by_id', 'hosts.environment', 'hosts.tags'])
    .where('schedule_firings.workflow_id', '=', firingWorkflowId)
    // Two firings in one second share the workflow id; the run id tells them apart.
    .$if(firingRunId !== undefined, (q) => q.where('schedule_firings.workflow_run_id', '=', firingRunId!))
    .executeTakeFirst();
  if (!firing || firing.outcome !== 'skipped') return undefined;
  return {
    id: `schedule_firing_skipped.${firing.id}`,
    teamId: firing.team_id,
    scriptId: firing.script_id,
    environment: firing.environment,
    tags: firing.tags ?? [],
    ownerId: firing.created_by_id,
    notification: {
      kind: 'schedule_firing_skipped',
      severity: 'info',
      title: `Schedule ${firing.name} skipped a firing (blackout ${firing.blackout_name ?? ''})`,
      summary: firing.reason ?? '',
      facts: [{ label: 'Script', value: firing.script_id }, ...(firing.environment ? [{ label: 'Environment', value: firing.environment }] : [])],
      links: [
        { label: 'Open schedule', url: `${links.publicUrl}/schedules/${firing.schedule_id}` },
        { label: 'Temporal Web', url: temporalUrl(links, firingWorkflowId) },
      ],
      occurredAt: firing.fired_at.toISOString(),
    },
  };
}

/** A run or bulk execution waiting for someone's approval. */
export async function approvalRequestedEvent(db: Db, links: NotificationDeps['links'], runId: string): Promise<NotificationEvent | undefined> {
  const run = await db
    .selectFrom('runs')
    .leftJoin('hosts', 'hosts.id', 'runs.host_id')
    .select(['runs.id', 'runs.team_id', 'runs.status', 'runs.script_id', 'runs.script_name', 'runs.host_id', 'runs.initiator_name', 'runs.workflow_id', 'runs.created_at', 'hosts.environment', 'hosts.tags'])
    .where('runs.id', '=', runId)
    .executeTakeFirst();
  if (!run || run.status !== 'waiting_for_approval') return undefined;
  return {
    id: `approval_requested.${run.id}`,
    teamId: run.team_id,
    runId: run.id,
    scriptId: run.script_id,
    environment: run.environment,
    tags: run.tags ?? [],
    notification: {
      kind: 'approval_requested',
      severity: 'warning',
      title: `${run.initiator_name} asks to run ${run.script_name} on ${run.host_id}`,
      summary: run.environment ? `The environment ${run.environment} needs an approval before the run starts.` : '',
      facts: [{ label: 'Script', value: run.script_id }, { label: 'Host', value: run.host_id }, { label: 'Requested by', value: run.initiator_name }],
      links: [
        { label: 'Open run', url: `${links.publicUrl}/runs/${run.id}` },
        { label: 'Temporal Web', url: temporalUrl(links, run.workflow_id) },
      ],
      occurredAt: run.created_at.toISOString(),
    },
  };
}

/** The calls the run, bulk and schedule activities make where their events happen; each is one line at the hook. */
export interface Notifier {
  runEnded(runId: string): Promise<void>;
  bulkEnded(bulkId: string): Promise<void>;
  firingSkipped(firingWorkflowId: string, firingRunId?: string): Promise<void>;
}

/** A notifier for activity code: it starts delivery workflows with the activity's own Temporal client. */
export function activityNotifier(deps: NotificationDeps): Notifier {
  // The hooks run inside the run's own (local) activities: a failure to notify is logged, never retried into the run.
  const emit = async (what: string, event: () => Promise<NotificationEvent | undefined>) => {
    try {
      const e = await event();
      if (e) await emitNotification(deps.db, deps.starter(Context.current().client), e);
    } catch (err) {
      console.error(`[worker] could not notify about ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    runEnded: (runId) => emit(`run ${runId}`, () => runEndedEvent(deps.db, deps.links, runId)),
    bulkEnded: (bulkId) => emit(`bulk execution ${bulkId}`, () => bulkEndedEvent(deps.db, deps.links, bulkId)),
    firingSkipped: (id, runId) => emit(`firing ${id}`, () => firingSkippedEvent(deps.db, deps.links, id, runId)),
  };
}

function attemptRecord(r: DeliveryResult): DeliveryAttemptRecord {
  return {
    attempt: r.attempt,
    outcome: r.outcome,
    message: r.message,
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(r.responseExcerpt !== undefined ? { responseExcerpt: r.responseExcerpt } : {}),
    startedAt: r.startedAt,
    durationMs: r.durationMs,
  };
}

/** Appends an attempt to a delivery's log and sets its status from it. */
export async function recordAttempt(db: Db, deliveryId: string, result: DeliveryResult): Promise<void> {
  const status = result.outcome === 'delivered' ? 'delivered' : result.outcome === 'retryable' ? 'retrying' : 'failed';
  await db
    .updateTable('notification_deliveries')
    .set({ status, attempts: sql`attempts || ${JSON.stringify([attemptRecord(result)])}::text::jsonb` as unknown as string, updated_at: new Date() })
    .where('id', '=', deliveryId)
    .execute();
}

/** One attempt of one delivery: the activity the delivery workflow retries with backoff until it is delivered or refused for good. */
export async function attemptDelivery(deps: Pick<NotificationDeps, 'db' | 'secrets' | 'server'>, deliveryId: string, attempt: number): Promise<DeliveryResult> {
  const { db } = deps;
  const delivery = await db
    .selectFrom('notification_deliveries')
    .innerJoin('notification_events', 'notification_events.id', 'notification_deliveries.event_id')
    .leftJoin('notification_channels', 'notification_channels.id', 'notification_deliveries.channel_id')
    .select([
      'notification_deliveries.id',
      'notification_deliveries.event_id',
      'notification_deliveries.channel_id',
      'notification_deliveries.user_id',
      'notification_deliveries.channel_kind',
      'notification_deliveries.recipients',
      'notification_deliveries.idempotency_key',
      'notification_events.notification',
      'notification_channels.kind',
      'notification_channels.config',
      'notification_channels.sealed',
    ])
    .where('notification_deliveries.id', '=', deliveryId)
    .executeTakeFirst();
  if (!delivery) throw ApplicationFailure.nonRetryable(`notification delivery ${deliveryId} no longer exists`, 'NotFound');
  const notification = NotificationSchema.parse(delivery.notification);
  const started = new Date();
  const key = idempotencyKey(delivery.event_id, delivery.channel_id ?? `user-${delivery.user_id}`);
  const refused = (message: string): DeliveryResult => ({ channel: delivery.channel_kind, target: '', idempotencyKey: key, attempt, outcome: 'permanent', reason: 'rejected', message, startedAt: started.toISOString(), durationMs: 0 });
  let result: DeliveryResult;
  try {
    const stored = delivery.kind ? { kind: delivery.kind, config: delivery.config ?? {}, sealed: delivery.sealed } : delivery.user_id ? { kind: 'email' as const, config: { to: delivery.recipients ?? [] }, sealed: null } : undefined;
    result = stored
      ? await openChannel(stored, deps.secrets, deps.server, delivery.recipients ?? undefined).send(notification, { idempotencyKey: key, attempt })
      : refused('the channel was deleted before this notification could be sent');
  } catch (err) {
    if (!(err instanceof ChannelUnavailableError)) throw err;
    result = refused(err.message);
  }
  await recordAttempt(db, delivery.id, result);
  return result;
}

export function createNotificationActivities(deps: Pick<NotificationDeps, 'db' | 'secrets' | 'server'>) {
  return {
    /** Sends once; a failed attempt throws (non-retryable when permanent), so the workflow's retry policy is the backoff. */
    async deliverNotification(input: NotificationDeliveryInput): Promise<void> {
      const result = await attemptDelivery(deps, input.deliveryId, Context.current().info.attempt);
      const failure = deliveryFailure(result);
      if (failure) throw failure;
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
