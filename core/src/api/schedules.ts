import { z } from 'zod';
import { orNull } from './nullable.ts';
import { Slug } from './ids.ts';
import { ScheduleSpecInputSchema } from '../schedule-spec.ts';
import { BulkOptionsSchema, BulkSelectorSchema } from '../bulk.ts';

// The schedules resource: /api/v1/schedules. The spec's rules live in schedule-spec.ts, beside its mapping to Temporal.

const IsoTime = z.iso.datetime({ offset: true });

export const CreateScheduleBodySchema = z
  .strictObject({
    name: z.string().trim().min(1, { error: 'name the schedule' }).max(100).meta({ description: 'Unique in the team' }),
    scriptId: Slug.optional().meta({ description: 'The script each firing runs; give this or `actionId`, not both' }),
    actionId: Slug.optional().meta({ description: 'The action template each firing runs; give this or `scriptId`, not both' }),
    hostId: Slug.optional().meta({ description: 'The registered host each firing runs on; give this or `selector`, not both' }),
    selector: BulkSelectorSchema.optional().meta({
      description: 'Each firing starts a bulk execution over the hosts this selects at the time it fires (by ids, environment, group or tags); give this or `hostId`',
    }),
    options: BulkOptionsSchema.optional().meta({ description: "A bulk schedule's execution options: parallelism, waves, canary, failure threshold, per-host timeout and retries, locks" }),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .meta({ description: "Fixed for every firing, checked against the manifest's as a manual run's are; a secret parameter only as a Vault reference (`vault:<mount>/<path>#<key>`), resolved when each firing's run executes, never a value" }),
    spec: ScheduleSpecInputSchema.meta({
      description:
        'When it fires: `cron` (5 fields, or 6 with a year last), `calendars` (fields in cron syntax) and `intervals` (`every`, `offset` as `1h30m`), read in `timeZone` (IANA); `startAt`/`endAt`, `jitter`, `overlap` (`skip`, `buffer_one`, `cancel_other`, `allow_all`), `catchupWindow`, `pauseOnFailure`',
    }),
    paused: z.boolean().default(false).meta({ description: 'Create it paused' }),
    note: z.string().max(500).optional().meta({ description: 'Shown beside its state, e.g. why it is paused' }),
  })
  .refine((b) => (b.scriptId === undefined) !== (b.actionId === undefined), { error: 'give scriptId or actionId, not both', path: ['scriptId'] })
  .refine((b) => (b.hostId === undefined) !== (b.selector === undefined), { error: 'give hostId (a run on one host) or selector (a bulk execution), not both', path: ['hostId'] })
  .refine((b) => b.options === undefined || b.selector !== undefined, { error: 'options are for a bulk schedule: give a selector too, or leave options out', path: ['options'] })
  .meta({
    id: 'CreateScheduleBody',
    example: { name: 'nightly echo', scriptId: 'echo-params', hostId: 'local', params: { message: 'hi' }, spec: { cron: ['30 2 * * *'], timeZone: 'Europe/Berlin' } },
  });
export type CreateScheduleBody = z.infer<typeof CreateScheduleBodySchema>;

export const SCHEDULE_TARGETS = ['run', 'bulk'] as const;

export const FIRING_OUTCOMES = ['started', 'skipped', 'failed'] as const;

export const ScheduleFiringViewSchema = z
  .object({
    id: z.string(),
    scheduledAt: IsoTime.meta({ description: 'The time the spec (or a trigger or backfill) fired it for' }),
    firedAt: IsoTime.meta({ description: 'When the firing ran' }),
    outcome: z.enum(FIRING_OUTCOMES).meta({ description: '`started` a run; `skipped` inside a blackout window; `failed` before a run could start (`reason` says why)' }),
    reason: z.string().nullable(),
    blackoutName: z.string().nullable().meta({ description: 'The blackout window a skipped firing fell in' }),
    runId: z.string().nullable(),
    runStatus: z.string().nullable().meta({ description: "The run's status now" }),
    bulkId: z.string().nullable().meta({ description: 'The bulk execution a firing of a bulk schedule started' }),
    bulkStatus: z.string().nullable().meta({ description: "The bulk execution's status now" }),
  })
  .meta({ id: 'ScheduleFiringView' });
export type ScheduleFiringView = z.infer<typeof ScheduleFiringViewSchema>;

export const ScheduleViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    source: z.enum(['script', 'action']),
    scriptId: z.string(),
    target: z.enum(SCHEDULE_TARGETS).meta({ description: '`run`: a run on `hostId`; `bulk`: a bulk execution over `selector` with `options`' }),
    hostId: z.string().nullable(),
    selector: BulkSelectorSchema.nullable(),
    options: BulkOptionsSchema.nullable(),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
    spec: z.record(z.string(), z.unknown()).meta({ description: 'The spec as given, with defaults applied' }),
    timeZone: z.string(),
    paused: z.boolean(),
    note: z.string().meta({ description: "Temporal's note on the schedule's state" }),
    nextFireTimes: z.array(IsoTime).meta({ description: 'The next (up to) ten fire times, as instants; the page shows them in the schedule\'s zone and the viewer\'s' }),
    createdBy: z.string(),
    createdAt: IsoTime,
    workflowId: z.string().meta({ description: 'The Temporal Schedule id, `schedule/<id>`' }),
    temporalUrl: z.url().meta({ description: 'The schedule in Temporal Web' }),
  })
  .meta({ id: 'ScheduleView', description: 'A schedule with its state and next fire times as Temporal has them now.' });
export type ScheduleView = z.infer<typeof ScheduleViewSchema>;

export const ScheduleListSchema = z
  .object({
    schedules: z.array(
      z.object({
        id: z.uuid(),
        name: z.string(),
        source: z.enum(['script', 'action']),
        scriptId: z.string(),
        target: z.enum(SCHEDULE_TARGETS),
        hostId: z.string().nullable(),
        selector: BulkSelectorSchema.nullable(),
        timeZone: z.string(),
        createdAt: IsoTime,
        lastFiring: orNull(ScheduleFiringViewSchema),
      }),
    ),
  })
  .meta({ id: 'ScheduleList' });

export const ScheduleFiringListSchema = z.object({ firings: z.array(ScheduleFiringViewSchema).meta({ description: 'Newest first, up to 100' }) }).meta({ id: 'ScheduleFiringList' });

export const SchedulePauseBodySchema = z
  .strictObject({ note: z.string().trim().min(1, { error: 'say why it is paused: the note is shown with the schedule' }).max(500) })
  .meta({ id: 'SchedulePauseBody' });
export const ScheduleUnpauseBodySchema = z.strictObject({ note: z.string().trim().max(500).optional() }).meta({ id: 'ScheduleUnpauseBody' });

export const ScheduleBackfillBodySchema = z
  .strictObject({
    start: IsoTime.meta({ description: 'The first instant of the past range' }),
    end: IsoTime.meta({ description: 'The last instant of the range' }),
  })
  .refine((b) => Date.parse(b.end) > Date.parse(b.start), { error: 'the range ends before it starts; give an end after the start', path: ['end'] })
  .meta({ id: 'ScheduleBackfillBody' });

export const ScheduleActionDoneSchema = z.object({ scheduleId: z.string(), done: z.string() }).meta({ id: 'ScheduleActionDone' });
