import { z } from 'zod';
import { EnvironmentName } from './api/environments.ts';
import type { RunStatus } from './db/schema.ts';
import type { ParamValues } from './manifest.ts';
import type { SecretRefs } from './run-contract.ts';
import type { ApprovalRequest } from './approval.ts';

// Bulk executions: one script or action on many hosts, `bulk/<id>` fanning out to `bulk/<id>/<hostId>`.

/** More hosts than this in one execution is refused; Temporal and the grid are sized for it. */
export const MAX_BULK_HOSTS = 5_000;

// Both cases spelled out: a regex flag does not reach the OpenAPI document.
const Slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'an id of letters, digits, ".", "_" and "-"' });

/** Which hosts: named ones, or every host matching all the given labels. At least one of them. */
export const BulkSelectorSchema = z
  .strictObject({
    hostIds: z.array(Slug).min(1).max(MAX_BULK_HOSTS).optional(),
    environment: EnvironmentName.optional(),
    group: z.string().min(1).max(100).optional(),
    /** Hosts carrying every one of these tags. */
    tags: z.array(z.string().min(1).max(64)).max(20).optional(),
  })
  .refine((s) => s.hostIds !== undefined || s.environment !== undefined || s.group !== undefined || (s.tags?.length ?? 0) > 0, {
    error: 'choose hosts: name them (hostIds) or select them by environment, group or tags',
    path: ['hostIds'],
  });
export type BulkSelector = z.infer<typeof BulkSelectorSchema>;

/** "10" hosts or "10%" of them. */
export const CountOrPercent = z.union([
  z.number().int().min(1),
  z
    .string()
    .regex(/^(\d{1,3})%$/, { error: 'a number of hosts, or a percentage such as "10%"' })
    .refine((v) => Number(v.slice(0, -1)) >= 1 && Number(v.slice(0, -1)) <= 100, { error: 'a percentage from 1% to 100%' }),
]);
export type CountOrPercentValue = z.infer<typeof CountOrPercent>;

export const BulkOptionsSchema = z.strictObject({
  /** Hosts running at the same time. */
  maxParallel: z.number().int().min(1).max(1_000).default(50),
  /** Rolling waves: the next wave starts when the previous one has finished. Absent: one wave of every host. */
  batchSize: CountOrPercent.optional(),
  /** A first wave of this many hosts, alone, before the others (or before the first batch). */
  canary: CountOrPercent.optional(),
  /** Stop starting hosts once this many (or this share of all hosts) have failed; the rest are skipped. */
  failureThreshold: CountOrPercent.optional(),
  /** Per host, instead of the manifest's timeout and retries. */
  timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  /** Take each host's execution lock while it runs (always, when the manifest says requires_lock). */
  takeLocks: z.boolean().default(false),
});
export type BulkOptions = z.infer<typeof BulkOptionsSchema>;

export const StartBulkBodySchema = z
  .strictObject({
    scriptId: Slug.optional(),
    actionId: Slug.optional(),
    version: z.string().regex(/^[0-9a-f]{4,64}$/, { error: 'version is a commit SHA or a prefix of one' }).optional(),
    selector: BulkSelectorSchema,
    params: z.record(z.string(), z.unknown()).default({}),
    options: BulkOptionsSchema.prefault({}),
  })
  .refine((b) => (b.scriptId === undefined) !== (b.actionId === undefined), { error: 'give scriptId or actionId, not both', path: ['scriptId'] });
export type StartBulkBody = z.infer<typeof StartBulkBodySchema>;

/** What a host is doing in a bulk execution, as the grid shows it. */
export const BULK_HOST_STATES = ['pending', 'waiting_for_lock', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type BulkHostState = (typeof BULK_HOST_STATES)[number];

/** A host's run status as a grid state: queued is pending, timed out counts as failed. */
export function bulkHostState(status: RunStatus): BulkHostState {
  switch (status) {
    case 'queued':
    case 'waiting_for_approval':
      return 'pending';
    // The execution was never approved: its hosts did not start.
    case 'rejected':
    case 'expired':
      return 'skipped';
    case 'timed_out':
      return 'failed';
    default:
      return status;
  }
}

export const BULK_STATUSES = ['waiting_for_approval', 'running', 'paused', 'stopping', 'succeeded', 'failed', 'cancelled', 'rejected', 'expired'] as const;
export type BulkStatus = (typeof BULK_STATUSES)[number];
export const FINAL_BULK_STATUSES: readonly BulkStatus[] = ['succeeded', 'failed', 'cancelled', 'rejected', 'expired'];

export type BulkCounts = Record<BulkHostState, number>;

export function emptyCounts(): BulkCounts {
  return { pending: 0, waiting_for_lock: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
}

// Their views, as the API answers them, are zod schemas in api/bulk.ts.
export type { BulkHostView, BulkPreview, BulkView } from './api/bulk.ts';

/** Splits `total` hosts into waves: the canary alone first, then batches; one wave of all without either. */
export function planWaves(total: number, options: Pick<BulkOptions, 'batchSize' | 'canary'>): number[] {
  if (total === 0) return [];
  const resolve = (v: CountOrPercentValue) => (typeof v === 'number' ? v : Math.max(1, Math.ceil((total * Number(v.slice(0, -1))) / 100)));
  const waves: number[] = [];
  let left = total;
  if (options.canary !== undefined) {
    const canary = Math.min(resolve(options.canary), left);
    waves.push(canary);
    left -= canary;
  }
  const batch = options.batchSize === undefined ? left : resolve(options.batchSize);
  while (left > 0) {
    const size = Math.min(batch, left);
    waves.push(size);
    left -= size;
  }
  return waves;
}

/** The number of failed hosts at which no new host starts, or null without a threshold. */
export function failureLimit(total: number, threshold: CountOrPercentValue | undefined): number | null {
  if (threshold === undefined) return null;
  return typeof threshold === 'number' ? threshold : Math.max(1, Math.ceil((total * Number(threshold.slice(0, -1))) / 100));
}

/** Where a bulk execution stands; carried across continue-as-new. */
export interface BulkProgress {
  /** Position of the next host to start. */
  next: number;
  wave: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  paused: boolean;
  /** Set once no more hosts will start: the failure threshold was reached. */
  stopReason: string | null;
}

/** Input of bulkExecutionWorkflow (`bulk/<bulkId>`). Params travel encrypted by the payload codec; secret ones only as references. */
export interface BulkExecutionInput {
  bulkId: string;
  teamId: string;
  source: 'script' | 'action';
  scriptId: string;
  version: string;
  params: ParamValues;
  /** The secret parameters, as references to values sealed for the execution: every host's run resolves the same ones. */
  secretRefs?: SecretRefs;
  initiator: { id: string; name: string };
  /** In the order they start; each host's run row is written before the workflow starts. */
  hosts: { hostId: string; runId: string }[];
  waves: number[];
  options: BulkOptions;
  /** Failed hosts at which no more hosts start (the options' threshold resolved against the host count); null: none. */
  failureLimit: number | null;
  offlineTimeoutMs: number;
  heartbeatTimeoutMs: number;
  /** Every host's run holds that host's execution lock (takeLocks, or a requires_lock manifest). */
  lock?: { ttlSeconds: number; waitTimeoutMs: number };
  /** Hosts in a protected environment: the whole execution waits for one decision before any host starts. */
  approval?: ApprovalRequest;
  /** Hosts started before the workflow continues as new (DRYDOCK_BULK_HOSTS_PER_RUN); default 500. */
  hostsPerRun?: number;
  /** Present when the workflow continued as new. */
  progress?: BulkProgress;
}
