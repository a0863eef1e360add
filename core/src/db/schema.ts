import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { BulkOptions, BulkSelector, BulkStatus } from '../bulk.ts';
import type { TeamRole } from '../group-map.ts';
import type { LockLease, LockType } from '../host-lock.ts';
import type { OperationResult } from '../operations/index.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, T, T>;

export const RUN_STATUSES = [
  'waiting_for_approval',
  'queued',
  'waiting_for_lock',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'skipped',
  'rejected',
  'expired',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out', 'skipped', 'rejected', 'expired'];

export const APPROVAL_DECISIONS = ['approved', 'rejected', 'expired'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

/** A request for approval and its decision, on the run or bulk execution that waits for it. */
export interface ApprovalColumns {
  /** The protected environment that asked for approval; null when none did. */
  approval_environment: Nullable<string>;
  approval_expires_at: Nullable<Date>;
  approval_decision: Nullable<ApprovalDecision>;
  approval_by_id: Nullable<string>;
  approval_by_name: Nullable<string>;
  approval_comment: Nullable<string>;
  approval_decided_at: Nullable<Date>;
}

export interface EnvironmentTable {
  team_id: string;
  name: string;
  /** `#rrggbb`. */
  colour: ColumnType<string, string | undefined, string>;
  description: ColumnType<string, string | undefined, string>;
  requires_approval: ColumnType<boolean, boolean | undefined, boolean>;
  /** How long a request for approval waits before the run ends as expired. */
  approval_expiry_seconds: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface TeamTable {
  id: string;
  name: string;
  description: Generated<string>;
  created_at: CreatedAt;
}

/** A team admin's token that registers agents into that team; stored as its SHA-256 only. */
export interface AgentRegistrationTokenTable {
  id: string;
  team_id: string;
  name: string;
  token_hash: string;
  /** The first characters, to tell tokens apart on the page. */
  prefix: string;
  created_by: string;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  uses: Generated<number>;
}

export const TOKEN_SCOPES = ['read', 'run', 'manage'] as const;
/** What an API token may do on top of its owner's role: read (GET), run (runs, bulk, locks), manage (the rest). */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface UserTable {
  id: string;
  /** The team the user was created in; memberships say where they belong and with which role. */
  team_id: string;
  email: string;
  name: string;
  role: TeamRole;
  /** argon2id in PHC form; null: no local password (not set yet, or signs in through a provider). */
  password_hash: ColumnType<string | null, string | null | undefined, string | null>;
  disabled: ColumnType<boolean, boolean | undefined, boolean>;
  failed_attempts: ColumnType<number, number | undefined, number>;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
}

export interface MembershipTable {
  user_id: string;
  team_id: string;
  role: TeamRole;
  created_at: CreatedAt;
}

export interface SessionTable {
  /** SHA-256 of the cookie's value. */
  id_hash: string;
  user_id: string;
  /** The team the session acts in now; switching teams changes it. */
  team_id: string;
  csrf_secret: string;
  created_at: CreatedAt;
  last_seen_at: Timestamp;
  idle_expires_at: Timestamp;
  absolute_expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface ServiceAccountTable {
  id: string;
  team_id: string;
  name: string;
  role: TeamRole;
  created_by: string | null;
  created_at: CreatedAt;
  disabled: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface ApiTokenTable {
  id: string;
  team_id: string;
  user_id: string | null;
  service_account_id: string | null;
  name: string;
  scopes: TokenScope[];
  token_hash: string;
  /** The first characters of the token, so its owner can tell tokens apart. */
  prefix: string;
  created_by: string | null;
  created_at: CreatedAt;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface OneTimeLinkTable {
  id: string;
  kind: 'setup' | 'reset';
  token_hash: string;
  user_id: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: Timestamp | null;
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

export interface RunTable extends ApprovalColumns {
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
  /** A run on one host, or a bulk execution over `selector` with `bulk_options`. */
  target: ColumnType<ScheduleTarget, ScheduleTarget | undefined, ScheduleTarget>;
  /** The host of a run schedule; null for a bulk one. */
  host_id: ColumnType<string | null, string | null | undefined, string | null>;
  selector: ColumnType<BulkSelector | null, BulkSelector | null | undefined, BulkSelector | null>;
  bulk_options: ColumnType<BulkOptions | null, BulkOptions | null | undefined, BulkOptions | null>;
  params: Json<Record<string, string | number | boolean | string[]>>;
  /** The spec as the user gave it (ScheduleSpecInput). */
  spec: Json<Record<string, unknown>>;
  time_zone: string;
  created_by_id: string;
  created_by_name: string;
  created_at: CreatedAt;
}

export type ScheduleTarget = 'run' | 'bulk';

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
  bulk_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** With `workflow_id`, the firing's execution: two firings in one second share the workflow id. */
  workflow_run_id: ColumnType<string | null, string | null | undefined, string | null>;
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

export interface BulkExecutionTable extends ApprovalColumns {
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
  /** Set on an execution a schedule's firing started. */
  schedule_id: ColumnType<string | null, string | null | undefined, string | null>;
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
  /** The request that caused the row (`x-request-id`), to find it in the API's log. */
  request_id: ColumnType<string | null, string | null | undefined, never>;
  created_at: CreatedAt;
  /** The chain (migration 018): set by the database's trigger on insert, never by the writer; bigint as text. */
  team_seq: ColumnType<string, never, never>;
  prev_hash: ColumnType<string | null, never, never>;
  hash: ColumnType<string, never, never>;
}

export interface ExternalIdentityTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: CreatedAt;
  last_sign_in_at: ColumnType<Date, Date | undefined, Date>;
}

export interface OidcSignInTable {
  /** SHA-256 of the sign-in cookie's value. */
  id_hash: string;
  state: string;
  nonce: string;
  code_verifier: string;
  expires_at: Date;
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

export type NotificationChannelKind = 'email' | 'slack' | 'teams' | 'webhook';

/** A team's channel; `sealed` holds its secrets (webhook URLs, signing secret, SMTP password) and is never shown. */
export interface NotificationChannelTable {
  id: string;
  team_id: string;
  name: string;
  kind: NotificationChannelKind;
  config: Json<Record<string, unknown>>;
  sealed: string | null;
  target: string;
  created_by_name: string;
  created_at: CreatedAt;
}

/** Which events (and for which scripts, environments, tags; empty matches all) go to which channels. */
export interface NotificationRuleTable {
  id: string;
  team_id: string;
  name: string;
  events: string[];
  scripts: ColumnType<string[], string[] | undefined, string[]>;
  environments: ColumnType<string[], string[] | undefined, string[]>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  channel_ids: string[];
  created_by_name: string;
  created_at: CreatedAt;
}

/** A user's choice for events of their own runs: muted (left out of emails) or subscribed (an email of their own). */
export interface NotificationPreferenceTable {
  user_id: string;
  team_id: string;
  event: string;
  mode: 'mute' | 'subscribe';
}

export interface NotificationEventTable {
  id: string;
  team_id: string;
  kind: string;
  notification: Json<Record<string, unknown>>;
  run_id: string | null;
  created_at: CreatedAt;
}

export interface DeliveryAttemptRecord {
  attempt: number;
  outcome: 'delivered' | 'retryable' | 'permanent';
  message: string;
  status?: number;
  responseExcerpt?: string;
  startedAt: string;
  durationMs: number;
}

export interface NotificationDeliveryTable {
  id: string;
  team_id: string;
  event_id: string;
  channel_id: string | null;
  user_id: string | null;
  channel_name: string;
  channel_kind: NotificationChannelKind;
  recipients: string[] | null;
  idempotency_key: string;
  status: ColumnType<'pending' | 'retrying' | 'delivered' | 'failed', 'pending' | 'retrying' | 'delivered' | 'failed' | undefined, 'pending' | 'retrying' | 'delivered' | 'failed'>;
  attempts: ColumnType<DeliveryAttemptRecord[], string | undefined, string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A secret parameter's value for one run (or every run of a bulk execution), sealed until the run ends. */
export interface RunSecretTable {
  id: string;
  team_id: string;
  run_id: string | null;
  bulk_id: string | null;
  name: string;
  /** The value sealed by the SecretBox; null when the value is a Vault reference. */
  value_enc: string | null;
  /** `vault:<mount>/<path>#<key>`, resolved when the run executes; null when the value is sealed here. */
  vault_ref: string | null;
  created_at: CreatedAt;
  /** When the sweep deletes the row of a run that never ended. */
  expires_at: Date;
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
  memberships: MembershipTable;
  sessions: SessionTable;
  service_accounts: ServiceAccountTable;
  api_tokens: ApiTokenTable;
  one_time_links: OneTimeLinkTable;
  hosts: HostTable;
  agents: AgentTable;
  agent_registration_tokens: AgentRegistrationTokenTable;
  runs: RunTable;
  bulk_executions: BulkExecutionTable;
  host_slots: HostSlotTable;
  run_logs: RunLogTable;
  run_artifacts: RunArtifactTable;
  audit_log: AuditTable;
  external_identities: ExternalIdentityTable;
  oidc_sign_ins: OidcSignInTable;
  host_locks: HostLockTable;
  webhook_deliveries: WebhookDeliveryTable;
  run_secrets: RunSecretTable;
  environments: EnvironmentTable;
  schedules: ScheduleTable;
  schedule_firings: ScheduleFiringTable;
  blackout_windows: BlackoutWindowTable;
  notification_channels: NotificationChannelTable;
  notification_rules: NotificationRuleTable;
  notification_preferences: NotificationPreferenceTable;
  notification_events: NotificationEventTable;
  notification_deliveries: NotificationDeliveryTable;
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
export type Environment = Selectable<EnvironmentTable>;
export type Session = Selectable<SessionTable>;
export type ApiToken = Selectable<ApiTokenTable>;
export type ScriptRepository = Selectable<ScriptRepositoryTable>;
export type ScriptVersion = Selectable<ScriptVersionTable>;
