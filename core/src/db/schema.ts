import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, T, T>;

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];

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
  transport: 'agent';
  os: string | null;
  agent_version: string | null;
  last_seen_at: Timestamp | null;
  created_at: CreatedAt;
}

export interface AgentTable {
  id: string;
  team_id: string;
  host_id: string;
  token_hash: string;
  created_at: CreatedAt;
  last_seen_at: Timestamp | null;
  revoked_at: Timestamp | null;
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
  params: Json<Record<string, string | number | boolean>>;
  exit_code: number | null;
  error: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  workflow_id: string;
  workflow_run_id: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  duration_ms: number | null;
}

export interface RunLogTable {
  run_id: string;
  attempt: number;
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  ts: Timestamp;
  line: string;
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

export interface Database {
  teams: TeamTable;
  users: UserTable;
  hosts: HostTable;
  agents: AgentTable;
  runs: RunTable;
  run_logs: RunLogTable;
  audit_log: AuditTable;
}

export type Run = Selectable<RunTable>;
export type NewRun = Insertable<RunTable>;
export type RunUpdate = Updateable<RunTable>;
export type RunLog = Selectable<RunLogTable>;
export type Host = Selectable<HostTable>;
export type User = Selectable<UserTable>;
