import { z } from 'zod';
import { orNull } from './nullable.ts';
import { RUN_STATUSES } from '../db/schema.ts';
import { ApprovalViewSchema } from './environments.ts';
import type { OperationResult } from '../operations/operation-result.ts';
import { ARTIFACT_KINDS } from '../run-contract.ts';
import { Slug } from './ids.ts';

// The runs resource: /api/v1/runs, its live log and what a run captured.

const IsoTime = z.iso.datetime({ offset: true });

export const StartRunBodySchema = z
  .strictObject({
    scriptId: Slug.optional().meta({ description: 'The script to run; give this or `actionId`, not both' }),
    actionId: Slug.optional().meta({ description: 'The action template to run; give this or `scriptId`, not both' }),
    version: z
      .string()
      .regex(/^[0-9a-f]{4,64}$/, { error: 'version is a commit SHA or a prefix of one' })
      .optional()
      .meta({
        description:
          'Scripts only: a commit SHA or a prefix of one, 4 to 64 hex characters (a content hash for the Local catalog). Runs that older version instead of the current one: a rollback',
      }),
    hostId: Slug.meta({ description: 'The registered host to run on' }),
    params: z.record(z.string(), z.unknown()).default({}).meta({ description: "The parameters, by name, checked against the manifest's" }),
    overrideBlackout: z
      .boolean()
      .optional()
      .meta({ description: "Run although a blackout window of the host's environment is in force; refused with 400 otherwise. Audited with the window's name" }),
  })
  .refine((b) => (b.scriptId === undefined) !== (b.actionId === undefined), { error: 'give scriptId or actionId, not both', path: ['scriptId'] })
  .refine((b) => b.version === undefined || b.scriptId !== undefined, { error: 'version applies to scripts only', path: ['version'] })
  .meta({ id: 'StartRunBody', example: { scriptId: 'echo-params', hostId: 'local', params: { message: 'hi', count: 2 } } });
export type StartRunBody = z.infer<typeof StartRunBodySchema>;

export const RUN_SORTS = ['created_at', 'duration_ms'] as const;

export const RunListQuerySchema = z.strictObject({
  script: z.string().optional().meta({ description: 'A script or action id, exactly' }),
  host: z.string().optional().meta({ description: 'A host id, exactly' }),
  status: z.enum(RUN_STATUSES).optional().meta({ description: 'A run status, exactly' }),
  initiator: z.string().optional().meta({ description: "A user id (UUID), or else the user's email, exactly" }),
  from: IsoTime.optional().meta({ description: 'Runs created at or after this time (ISO 8601 with an offset, `2026-01-01T00:00:00Z`)' }),
  to: IsoTime.optional().meta({ description: 'Runs created before this time' }),
  sort: z.enum(RUN_SORTS).default('created_at').meta({ description: '`duration_ms` lists finished runs only' }),
  order: z.enum(['asc', 'desc']).default('desc').meta({ description: 'Ties are broken by id, in the same order' }),
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'Runs per page' }),
  cursor: z
    .string()
    .optional()
    .meta({ description: '`nextCursor` of the previous page, sent with the same filters, `sort` and `order` that produced it' }),
});
export type RunListQuery = z.infer<typeof RunListQuerySchema>;

const CheckResultSchema = z.object({
  name: z.string().meta({ description: 'The check, as the manifest names it (`size_gt_mb:5`)' }),
  ok: z.boolean(),
  detail: z.string().meta({ description: 'What was seen' }),
});

export const OperationResultSchema = z
  .object({
    ok: z.boolean().meta({ description: 'Every check passed' }),
    checks: z.array(CheckResultSchema).meta({ description: 'One per check, in order' }),
    value: z
      .union([z.string(), z.number(), z.null()])
      .optional()
      .meta({ description: "The query's first value, the HTTP status, the service's state or the command's exit code" }),
    output: z.array(z.string()).meta({ description: "The operation's log lines; the first 100 and the last 900 when there are more" }),
    durationMs: z.number().meta({ description: 'How long the operation took' }),
  })
  .meta({ id: 'OperationResult', description: "A host operation's structured outcome." }) satisfies z.ZodType<OperationResult>;

export const RunViewSchema = z
  .object({
    id: z.uuid().meta({ description: 'UUIDv7' }),
    source: z.enum(['script', 'action']).meta({ description: 'What `scriptId` names' }),
    scriptId: z.string(),
    scriptName: z.string(),
    scriptVersion: z.string().meta({ description: 'The exact version the run executes: a full commit SHA, a content hash, or an action revision' }),
    hostId: z.string(),
    status: z.enum(RUN_STATUSES).meta({
      description:
        "`waiting_for_approval`: its host's environment is protected and nobody has decided yet; `waiting_for_lock`: a `requires_lock` run queued behind its host's lock; `rejected` and `expired`: the request for approval was refused or went unanswered, and nothing ran",
    }),
    initiator: z.object({ id: z.string(), name: z.string().meta({ description: "The user's email" }) }),
    params: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]))
      .meta({ description: 'The validated values with defaults applied; secrets are `"••••••"`, a host list is an array' }),
    exitCode: z.number().int().nullable().meta({ description: 'The real exit code, also when `success_criteria` accept a non-zero one' }),
    error: z.string().nullable().meta({ description: 'What went wrong' }),
    attempts: z.number().int().meta({ description: 'Attempts made; 0 until the run ends' }),
    createdAt: IsoTime,
    startedAt: IsoTime.nullable(),
    finishedAt: IsoTime.nullable(),
    durationMs: z.number().nullable().meta({ description: 'From start (or creation) to finish' }),
    workflowId: z.string().meta({ description: '`run/<id>`' }),
    scheduleId: z.uuid().nullable().meta({ description: 'The schedule whose firing started the run; `null` for a run started by hand or by a bulk execution' }),
    temporalUrl: z.url().meta({ description: 'The workflow in Temporal Web' }),
    approval: ApprovalViewSchema.nullable(),
    result: orNull(OperationResultSchema).meta({
      description:
        "A host operation's outcome, when it succeeded or its checks failed; `null` for scripts and command templates, and for an operation that timed out, was cancelled or could not start",
    }),
  })
  .meta({ id: 'RunView', description: 'One run, from every run route.' });
export type RunView = z.infer<typeof RunViewSchema>;

export const RunPageSchema = z
  .object({
    runs: z.array(RunViewSchema),
    nextCursor: z.string().nullable().meta({ description: 'The `cursor` of the next page; `null` on the last page' }),
    total: z.number().int().meta({ description: 'Every run that matches the filters, whatever the cursor' }),
  })
  .meta({ id: 'RunPage' });
export type RunPage = z.infer<typeof RunPageSchema>;

export const LogLineViewSchema = z
  .object({
    attempt: z.number().int(),
    seq: z.number().int().meta({ description: 'From 0 in each attempt; lines are ordered by `(attempt, seq)`' }),
    stream: z.enum(['stdout', 'stderr', 'system']),
    ts: IsoTime,
    line: z.string(),
  })
  .meta({ id: 'LogLineView', description: 'One line of a run log.' });
export type LogLineView = z.infer<typeof LogLineViewSchema>;

export const RunLinesSchema = z.object({ lines: z.array(LogLineViewSchema) }).meta({ id: 'RunLines' });

export const RunArtifactViewSchema = z
  .object({
    id: z.uuid(),
    runId: z.uuid(),
    attempt: z.number().int().meta({ description: 'The attempt that captured it' }),
    name: z
      .string()
      .meta({ description: "The file's path relative to the script's working directory (`out/report.txt`), or `drydock-environment.json` for the environment snapshot" }),
    kind: z.enum(ARTIFACT_KINDS).meta({ description: '`environment` for the snapshot' }),
    size: z.number().int().meta({ description: 'Bytes' }),
    sha256: z.string().meta({ description: 'SHA-256 of the bytes, hex' }),
    contentType: z.string().meta({ description: 'What a download is served as' }),
    createdAt: IsoTime.meta({ description: 'When it was stored' }),
    downloadUrl: z.string().meta({ description: '`/api/v1/runs/<runId>/artifacts/<id>`, a path on the same origin' }),
  })
  .meta({ id: 'RunArtifactView', description: 'One file a run captured.' });
export type RunArtifactView = z.infer<typeof RunArtifactViewSchema>;

export const RunArtifactListSchema = z
  .object({ artifacts: z.array(RunArtifactViewSchema).meta({ description: "By attempt, each attempt's environment snapshot first, then by name" }) })
  .meta({ id: 'RunArtifactList' });
