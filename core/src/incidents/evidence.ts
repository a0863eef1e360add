import { z } from 'zod';
import { BULK_STATUSES } from '../bulk.ts';
import { RUN_STATUSES } from '../db/schema.ts';
import { LOCK_TYPES } from '../host-lock.ts';

// What an incident's evidence is: one typed union, stored as it is by the incident workflow, read by the rule engine,
// and handed to the LLM as data. Every piece has an id the hypotheses cite and a source that says where it came from.

const Instant = z.iso.datetime({ offset: true });
const Text = (max: number) => z.string().max(max);
const Labels = z.record(z.string().max(256), z.string().max(2_000));

/** Ids are short and plain, so a hypothesis citing one cannot smuggle text through it. */
export const EvidenceIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$/, {
  error: 'an evidence id is 1 to 80 letters, digits, dots, underscores, colons or dashes, starting with a letter or digit',
});

export const EVIDENCE_SYSTEMS = ['drydock', 'prometheus', 'alertmanager', 'pagerduty', 'cicd'] as const;

export const EvidenceSourceSchema = z.strictObject({
  /** The system the evidence was read from. */
  system: z.enum(EVIDENCE_SYSTEMS),
  /** What was read there: a run id, a PromQL query, a deployment id, an alert fingerprint. */
  ref: Text(2_000),
  /** Where a person can see it. */
  url: z.url().optional(),
});
export type EvidenceSource = z.infer<typeof EvidenceSourceSchema>;

const Base = {
  id: EvidenceIdSchema,
  source: EvidenceSourceSchema,
  /** When Drydock gathered it. */
  collectedAt: Instant,
};

export const AlertEvidenceSchema = z.strictObject({
  ...Base,
  kind: z.literal('alert'),
  name: Text(256),
  status: z.enum(['firing', 'resolved']),
  startsAt: Instant,
  endsAt: Instant.optional(),
  labels: Labels,
  annotations: Labels,
  fingerprint: Text(64).optional(),
  /** The PromQL expression of the rule that fired, when the alert says it. */
  expression: Text(4_000).optional(),
});

export const RunEvidenceSchema = z.strictObject({
  ...Base,
  kind: z.literal('run'),
  runId: Text(64),
  scriptId: Text(200),
  host: Text(253),
  status: z.enum(RUN_STATUSES),
  startedAt: Instant,
  finishedAt: Instant.optional(),
  exitCode: z.number().int().optional(),
  initiator: Text(320).optional(),
  /** The bulk execution it belonged to, if any. */
  bulkExecutionId: Text(64).optional(),
});

export const BulkExecutionEvidenceSchema = z.strictObject({
  ...Base,
  kind: z.literal('bulk_execution'),
  executionId: Text(64),
  scriptId: Text(200),
  status: z.enum(BULK_STATUSES),
  hosts: z.array(Text(253)).max(2_000),
  failedHosts: z.array(Text(253)).max(2_000),
  startedAt: Instant,
  finishedAt: Instant.optional(),
  initiator: Text(320).optional(),
});

export const DeploymentEvidenceSchema = z.strictObject({
  ...Base,
  kind: z.literal('deployment'),
  deploymentId: Text(200),
  service: Text(200),
  environment: Text(200).optional(),
  version: Text(200).optional(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  startedAt: Instant,
  finishedAt: Instant.optional(),
  hosts: z.array(Text(253)).max(2_000).default([]),
});

export const LockChangeEvidenceSchema = z.strictObject({
  ...Base,
  kind: z.literal('lock_change'),
  host: Text(253),
  change: z.enum(['acquired', 'extended', 'released', 'expired', 'force_released']),
  lockType: z.enum(LOCK_TYPES),
  leaseId: Text(200),
  /** Who holds it: a script and its initiator, or a person. */
  holder: Text(500),
  at: Instant,
  /** When the holder said it would be done when it took the lock; later extensions do not move it. */
  expectedReleaseAt: Instant.optional(),
});

export const HostStatusEvidenceSchema = z.strictObject({
  ...Base,
  kind: z.literal('host_status'),
  host: Text(253),
  /** At `collectedAt`. `offline`: Drydock has given up on it; `unknown`: never seen. */
  status: z.enum(['online', 'offline', 'unknown']),
  lastHeartbeatAt: Instant.nullable(),
  /** How often its agent heartbeats; absent for agentless hosts. */
  heartbeatIntervalSeconds: z.number().positive().optional(),
  disks: z.array(z.strictObject({ mount: Text(500), usedPercent: z.number().min(0).max(100) })).max(100).default([]),
  memoryUsedPercent: z.number().min(0).max(100).optional(),
  load1: z.number().min(0).optional(),
});

/** What a query measures, so the rule engine can read a series without guessing from its name. */
export const SERIES_MEASURES = ['disk_used_percent', 'memory_used_percent', 'cpu_used_percent', 'error_rate', 'latency_seconds', 'other'] as const;

export const PrometheusSeriesEvidenceSchema = z.strictObject({
  ...Base,
  kind: z.literal('prometheus_series'),
  query: Text(4_000),
  measure: z.enum(SERIES_MEASURES).default('other'),
  start: Instant,
  end: Instant,
  series: z
    .array(
      z.strictObject({
        labels: Labels,
        /** `[unix milliseconds, value]`, the value as Prometheus writes it (`"NaN"` and `"+Inf"` included). */
        samples: z.array(z.tuple([z.number(), z.string().max(64)])).max(2_000),
      }),
    )
    .max(200),
  /** Set when the query could not be answered: the evidence is missing, and says why. */
  missing: z.strictObject({ reason: Text(64), message: Text(1_000) }).optional(),
});

export const LogErrorsEvidenceSchema = z.strictObject({
  ...Base,
  kind: z.literal('log_errors'),
  runId: Text(64),
  host: Text(253),
  lines: z.array(z.strictObject({ seq: z.number().int().min(0), text: Text(4_000), at: Instant.optional() })).min(1).max(500),
});

export const EvidenceSchema = z.discriminatedUnion('kind', [
  AlertEvidenceSchema,
  RunEvidenceSchema,
  BulkExecutionEvidenceSchema,
  DeploymentEvidenceSchema,
  LockChangeEvidenceSchema,
  HostStatusEvidenceSchema,
  PrometheusSeriesEvidenceSchema,
  LogErrorsEvidenceSchema,
]);
export type Evidence = z.infer<typeof EvidenceSchema>;
export type EvidenceKind = Evidence['kind'];
export type EvidenceOf<K extends EvidenceKind> = Extract<Evidence, { kind: K }>;

/** A list of evidence whose ids are unique: hypotheses cite them by id. */
export const EvidenceListSchema = z.array(EvidenceSchema).superRefine((list, ctx) => {
  const seen = new Map<string, number>();
  list.forEach((e, i) => {
    const first = seen.get(e.id);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `evidence id "${e.id}" is used twice (first at ${first})` });
    else seen.set(e.id, i);
  });
});

/** What the hypotheses are about: the incident's scope and when it started. */
export const IncidentContextSchema = z.strictObject({
  title: Text(500),
  services: z.array(Text(200)).max(100).default([]),
  hosts: z.array(Text(253)).max(2_000).default([]),
  environment: Text(200).optional(),
  /** When the alert started: "before the alert" is measured from here. */
  startedAt: Instant,
});
export type IncidentContext = z.infer<typeof IncidentContextSchema>;
