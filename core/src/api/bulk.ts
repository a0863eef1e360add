import { z } from 'zod';
import { ApprovalViewSchema } from './environments.ts';
import { BULK_HOST_STATES, BULK_STATUSES, BulkOptionsSchema, BulkSelectorSchema } from '../bulk.ts';
import { HOST_TRANSPORTS } from './hosts.ts';

// The bulk resource: /api/v1/bulk. The start body (StartBulkBodySchema) is in bulk.ts, beside the execution's rules.

const IsoTime = z.iso.datetime({ offset: true });

export const BulkPreviewBodySchema = z
  .strictObject({
    scriptId: z.string().min(1).optional(),
    actionId: z.string().min(1).optional(),
    version: z.string().regex(/^[0-9a-f]{4,64}$/, { error: 'version is a commit SHA or a prefix of one' }).optional(),
    selector: BulkSelectorSchema,
    options: BulkOptionsSchema.prefault({}),
  })
  .refine((b) => (b.scriptId === undefined) !== (b.actionId === undefined), { error: 'give scriptId or actionId, not both', path: ['scriptId'] })
  .meta({ id: 'BulkPreviewBody' });

export const BulkListQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'Executions, newest first' }) });
export const RerunFailedBodySchema = z
  .strictObject({
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .meta({ description: 'Secret parameters again (they are never stored); other values given here replace the stored ones' }),
  })
  .meta({ id: 'RerunFailedBody' });

const BulkCountsSchema = z.object(Object.fromEntries(BULK_HOST_STATES.map((s) => [s, z.number().int()])) as Record<(typeof BULK_HOST_STATES)[number], z.ZodNumber>);

export const BulkViewSchema = z
  .object({
    id: z.uuid(),
    source: z.enum(['script', 'action']),
    scriptId: z.string(),
    scriptName: z.string(),
    scriptVersion: z.string(),
    status: z.enum(BULK_STATUSES).meta({
      description:
        '`stopping`: the failure threshold was reached and the running hosts are finishing; `failed`: some host failed, or the threshold stopped it',
    }),
    stopReason: z.string().nullable().meta({ description: 'Why it stopped early, when it did: the failure threshold, a cancel' }),
    selector: BulkSelectorSchema,
    options: BulkOptionsSchema,
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).meta({ description: 'Secrets masked' }),
    initiator: z.object({ id: z.string(), name: z.string() }),
    total: z.number().int().meta({ description: 'Hosts in the execution' }),
    counts: BulkCountsSchema.meta({ description: 'Hosts per state; `failed` includes timed out' }),
    waves: z.array(z.number().int()).meta({ description: "The waves' sizes, in order; the canary first when there is one" }),
    currentWave: z.number().int(),
    createdAt: IsoTime,
    finishedAt: IsoTime.nullable(),
    elapsedMs: z.number(),
    etaMs: z
      .number()
      .nullable()
      .meta({ description: 'Elapsed time per finished host times the hosts left; `null` until one finished, or while paused' }),
    rerunOf: z.uuid().nullable().meta({ description: 'The execution whose failed hosts this one runs again' }),
    approval: ApprovalViewSchema.nullable().meta({ description: 'One request for the whole execution when a selected host is in a protected environment' }),
    workflowId: z.string().meta({ description: '`bulk/<id>`' }),
    temporalUrl: z.url(),
  })
  .meta({ id: 'BulkView', description: 'One bulk execution: its status, counts per host state, waves and timing.' });
export type BulkView = z.infer<typeof BulkViewSchema>;

export const BulkHostViewSchema = z
  .object({
    hostId: z.string(),
    position: z.number().int().meta({ description: 'Start order' }),
    wave: z.number().int(),
    state: z.enum(BULK_HOST_STATES),
    runId: z.uuid().meta({ description: "The host's own run, with its run page, log and artifacts" }),
    exitCode: z.number().int().nullable(),
    error: z.string().nullable(),
    startedAt: IsoTime.nullable(),
    finishedAt: IsoTime.nullable(),
    durationMs: z.number().nullable(),
  })
  .meta({ id: 'BulkHostView', description: 'One host of a bulk execution: one cell of the grid.' });
export type BulkHostView = z.infer<typeof BulkHostViewSchema>;

export const BulkPreviewSchema = z
  .object({
    hosts: z
      .array(
        z.object({
          id: z.string(),
          name: z.string(),
          transport: z.enum(HOST_TRANSPORTS),
          environment: z.string().nullable(),
          group: z.string().nullable(),
          online: z.boolean(),
        }),
      )
      .meta({ description: 'The hosts it would run on, in start order' }),
    excluded: z
      .array(z.object({ id: z.string(), reason: z.string() }))
      .meta({ description: 'Selected hosts that cannot run it, and why (`host local lacks the tags this script needs: fleet`, `not a registered host`)' }),
    waves: z.array(z.number().int()).meta({ description: "The waves' sizes" }),
  })
  .meta({ id: 'BulkPreview', description: 'What an execution would do; nothing starts.' });
export type BulkPreview = z.infer<typeof BulkPreviewSchema>;

export const BulkListSchema = z.object({ executions: z.array(BulkViewSchema).meta({ description: 'Newest first' }) }).meta({ id: 'BulkList' });
export const BulkHostListSchema = z.object({ hosts: z.array(BulkHostViewSchema).meta({ description: 'In start order' }) }).meta({ id: 'BulkHostList' });
