import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { BulkOptions, BulkSelector, BulkStatus } from '../bulk.ts';
import type { LockLease, LockType } from '../host-lock.ts';
import type { OperationResult } from '../operations/index.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, T, T>;

export const RUN_STATUSES = ['queued', 'waiting_for_lock', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out', 'skipped'];

export interface TeamTable {
  id: string;
  name: string;
  created_at: CreatedAt;
}

export interface UserTable {
  id: string;
  team_id: string;
  email: string;
  name: string;
  role: 'admin' | 'operator' | 'viewer';
  created_at: CreatedAt;
}

export interface HostTable {
  id: string;
  team_id: string;
  name: string;
  transport: 'agent' | 'ssh' | 'winrm' | 'docker';
  /** SSH, WinRM and Docker hosts: jobs at once; null means DRYDOCK_AGENTLESS_MAX_CONCURRENT_JOBS. */
  max_concurrent_jobs: ColumnType<number | null, number | null | undefined, number | null>;
  auth_method: ColumnType<'basic' | 'ntlm' | null, 'basic' | 'ntlm' | null | undefined, 'basic' | 'ntlm' | null>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  address: ColumnType<string | null, string | null | undefined, string | null>;
  port: ColumnType<number | null, number | null | undefined, number | null>;
  username: ColumnType<string | null, string | null | undefined, string | null>;
  credential_id: ColumnType<string | null, string | null | undefined, string | null>;
  jump_host_id: ColumnType<string | null, string | null | undefined, string | null>;
  host_key: ColumnType<string | null, string | null | undefined, string | null>;
  environment: ColumnType<string | null, string | null | undefined, string | null>;
  host_group: ColumnType<string | null, string | null | undefined, string | null>;
  os: string | null;
  agent_version: string | null;
  last_seen_at: Timestamp | null;
  /** SSH, WinRM and Docker hosts: why the last contact failed at the transport level; null once one succeeds. */
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  last_error_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Host metrics from the agent's latest heartbeat. */
  load1: Metric;
  load5: Metric;
  load15: Metric;
  mem_total_mb: Metric;
  mem_used_mb: Metric;
  disk_total_mb: Metric;
  disk_used_mb: Metric;
  uptime_seconds: Metric;
  running_jobs: Metric;
  created_at: CreatedAt;
}

type Metric = ColumnType<number | null, number | null | undefined, number | null>;
export const AGENT_REVOKED_REASONS = ['replaced', 'rotated', 'revoked'] as const;
/** replaced: the host registered again; rotated: a new token took its place; revoked: an admin locked the agent out. */
export type AgentRevokedReason = (typeof AGENT_REVOKED_REASONS)[number];

export interface AgentTable {
  id: string;
  team_id: string;
  host_id: string;
  token_hash: string;
  created_at: CreatedAt;
  last_seen_at: Timestamp | null;
  revoked_at: Timestamp | null;
  revoked_reason: ColumnType<AgentRevokedReason | null, AgentRevokedReason | null | undefined, AgentRevokedReason | null>;
}

export interface RunTable {
  id: string;
  team_id: string;
  script_id: string;
  script_name: string;
  script_version: string;
  host_id: string;
  status: RunStatus;
  initiator_id: string;
  initiator_name: string;
  params: Json<Record<string, string | number | boolean | string[]>>;
  exit_code: number | null;
  error: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  workflow_id: string;
  workflow_run_id: string | null;
  source: ColumnType<'script' | 'action', 'script' | 'action' | undefined, 'script' | 'action'>;
  result: ColumnType<OperationResult | null, OperationResult | null | undefined, OperationResult | null>;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  duration_ms: number | null;
  /** Set on the runs of a bulk execution: which one, the host's place in its order and its wave. */
  bulk_id: ColumnType<string | null, string | null | undefined, string | null>;
  bulk_position: ColumnType<number | null, number | null | undefined, number | null>;
  bulk_wave: ColumnType<number | null, number | null | undefined, number | null>;
  /** Set on a run a schedule's firing started. */
  schedule_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ScheduleTable {
  id: string;
  team_id: string;
  name: string;
  source: 'script' | 'action';
  script_id: string;
  host_id: string;
  params: Json<Record<string, string | number | boolean | string[]>>;
  /** The spec as the user gave it (ScheduleSpecInput). */
  spec: Json<Record<string, unknown>>;
  time_zone: string;
  created_by_id: string;
  created_by_name: string;
  created_at: CreatedAt;
}

export type FiringOutcome = 'started' | 'skipped' | 'failed';

export interface ScheduleFiringTable {
  id: string;
  schedule_id: string;
  team_id: string;
  workflow_id: string;
  scheduled_at: Timestamp;
  fired_at: CreatedAt;
  outcome: FiringOutcome;
  reason: string | null;
  blackout_name: string | null;
  run_id: string | null;
}

export interface BlackoutWindowTable {
  id: string;
  team_id: string;
  name: string;
  environment: string;
  definition: Json<Record<string, unknown>>;
  created_by_name: string;
  created_at: CreatedAt;
}

export interface HostSlotTable {
  host_id: string;
  slot: number;
  holder: string;
  expires_at: Timestamp;
}

export interface BulkExecutionTable {
  id: string;
  team_id: string;
  source: 'script' | 'action';
  script_id: string;
  script_name: string;
  script_version: string;
  status: BulkStatus;
  stop_reason: string | null;
  selector: Json<BulkSelector>;
  options: Json<BulkOptions>;
  params: Json<Record<string, string | number | boolean | string[]>>;
  initiator_id: string;
  initiator_name: string;
  total: number;
  waves: Json<number[]>;
  current_wave: ColumnType<number, number | undefined, number>;
  rerun_of: string | null;
  workflow_id: string;
  workflow_run_id: string | null;
  created_at: CreatedAt;
  finished_at: Timestamp | null;
}

export interface RunLogTable {
  run_id: string;
  attempt: number;
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  ts: Timestamp;
  line: string;
}

export interface RunArtifactTable {
  id: string;
  run_id: string;
  attempt: number;
  name: string;
  kind: 'artifact' | 'environment';
  /** bigint: the driver returns it as text. */
  size: ColumnType<string, number, number>;
  sha256: string;
  content_type: string;
  blob_key: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface AuditTable {
  id: Generated<string>;
  team_id: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  resource: string | null;
  ip: string | null;
  user_agent: string | null;
  result: number;
  detail: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
}

export interface CredentialTable {
  id: string;
  team_id: string;
  name: string;
  kind: 'https_token' | 'ssh_key' | 'password';
  username: string | null;
  secret_enc: string;
  created_at: CreatedAt;
}

export type RepositoryStatus = 'new' | 'syncing' | 'ok' | 'failed';

export interface ScriptRepositoryTable {
  id: string;
  team_id: string;
  name: string;
  kind: 'git' | 'directory';
  url: string;
  branch: string;
  path: ColumnType<string, string | undefined, string>;
  provider: ColumnType<'github' | 'gitlab' | 'bitbucket' | 'generic', 'github' | 'gitlab' | 'bitbucket' | 'generic' | undefined, 'github' | 'gitlab' | 'bitbucket' | 'generic'>;
  credential_id: string | null;
  webhook_secret_enc: string | null;
  sync_interval_seconds: number;
  status: ColumnType<RepositoryStatus, RepositoryStatus | undefined, RepositoryStatus>;
  head: string | null;
  last_sync_at: Timestamp | null;
  last_sync_error: string | null;
  created_at: CreatedAt;
}

export interface RepositorySyncTable {
  id: string;
  repository_id: string;
  reason: string;
  workflow_id: string;
  status: 'running' | 'ok' | 'failed';
  head: string | null;
  added: ColumnType<number, number | undefined, number>;
  updated: ColumnType<number, number | undefined, number>;
  removed: ColumnType<number, number | undefined, number>;
  problems: ColumnType<number, number | undefined, number>;
  error: string | null;
  started_at: CreatedAt;
  finished_at: Timestamp | null;
}

export interface CatalogScriptTable {
  team_id: string;
  id: string;
  repository_id: string;
  version: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  file: string;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ScriptVersionTable {
  team_id: string;
  script_id: string;
  version: string;
  repository_id: string;
  manifest: Json<Record<string, unknown>>;
  script_content: string | null;
  file: string;
  author: string;
  committed_at: Timestamp;
  message: string;
  changes: Json<string[]>;
  created_at: CreatedAt;
}

export interface CatalogProblemTable {
  repository_id: string;
  file: string;
  line: number | null;
  message: string;
  head: string | null;
}

export interface ActionTemplateTable {
  team_id: string;
  id: string;
  manifest: Json<Record<string, unknown>>;
  revision: ColumnType<number, number | undefined, number>;
  created_by: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** hostLockWorkflow's state as of its last change; Temporal decides, this row shows. */
export interface HostLockTable {
  host_id: string;
  lock_type: LockType | null;
  holder: Json<LockLease | null>;
  queue: Json<LockLease[]>;
  acquired_at: Timestamp | null;
  expires_at: Timestamp | null;
  changed_at: Timestamp;
  version: number;
}

/** A push webhook delivery already taken (by the provider's delivery id), so a replay of it is ignored. */
export interface WebhookDeliveryTable {
  repository_id: string;
  delivery_id: string;
  provider: string;
  received_at: CreatedAt;
}

export interface Database {
  credentials: CredentialTable;
  script_repositories: ScriptRepositoryTable;
  repository_syncs: RepositorySyncTable;
  catalog_scripts: CatalogScriptTable;
  script_versions: ScriptVersionTable;
  catalog_problems: CatalogProblemTable;
  action_templates: ActionTemplateTable;
  teams: TeamTable;
  users: UserTable;
  hosts: HostTable;
  agents: AgentTable;
  runs: RunTable;
  bulk_executions: BulkExecutionTable;
  host_slots: HostSlotTable;
  run_logs: RunLogTable;
  run_artifacts: RunArtifactTable;
  audit_log: AuditTable;
  host_locks: HostLockTable;
  webhook_deliveries: WebhookDeliveryTable;
  schedules: ScheduleTable;
  schedule_firings: ScheduleFiringTable;
  blackout_windows: BlackoutWindowTable;
}

export type Schedule = Selectable<ScheduleTable>;
export type ScheduleFiring = Selectable<ScheduleFiringTable>;
export type BlackoutWindowRow = Selectable<BlackoutWindowTable>;

export type Run = Selectable<RunTable>;
export type BulkExecution = Selectable<BulkExecutionTable>;
export type NewRun = Insertable<RunTable>;
export type RunUpdate = Updateable<RunTable>;
export type RunLog = Selectable<RunLogTable>;
export type RunArtifact = Selectable<RunArtifactTable>;
export type Host = Selectable<HostTable>;
export type User = Selectable<UserTable>;
export type ScriptRepository = Selectable<ScriptRepositoryTable>;
export type ScriptVersion = Selectable<ScriptVersionTable>;
