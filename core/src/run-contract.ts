import type { Interpreter, ParamValues, SuccessCriteria } from './manifest.ts';
import type { Operation, OperationResult } from './operations/index.ts';
import type { RunStatus } from './db/schema.ts';

/** Input of scriptRunWorkflow (`run/<runId>`). Params travel encrypted by the payload codec. */
export interface ScriptRunInput {
  runId: string;
  teamId: string;
  /** A script synced from a repository, or an action template. */
  source: 'script' | 'action';
  scriptId: string;
  /** The exact version the parameters were validated against: a commit SHA, content hash or action revision. */
  version: string;
  hostId: string;
  params: ParamValues;
  initiator: { id: string; name: string };
  /** How long the run waits for the host's agent before it fails as offline. */
  offlineTimeoutMs: number;
  heartbeatTimeoutMs: number;
}

/** What the agent needs to run one attempt: everything, so the host needs no catalog of its own. */
export interface AgentScriptJob {
  runId: string;
  scriptId: string;
  /** A script file run by an interpreter... */
  interpreter: Interpreter | null;
  /** The script's path in the repository, kept for messages and the temp file's extension. */
  scriptPath: string | null;
  content: string | null;
  /** ...or a command template, rendered to argv (never a shell string)... */
  commandTemplate: string | null;
  /** ...or a structured host operation, whose checks become the run's result. */
  operation: Operation | null;
  params: ParamValues;
  /** Parameter names that are secrets: passed by environment only, never argv, masked in the log. */
  secretNames: string[];
  timeoutSeconds: number;
  successCriteria: SuccessCriteria;
}

export interface AgentScriptResult {
  attempt: number;
  exitCode: number;
  durationMs: number;
  stderrTail: string;
  operation?: OperationResult;
}

/** Details attached to the ScriptFailed / ScriptTimedOut application failures the agent raises. */
export interface ScriptFailureDetails {
  exitCode: number | null;
  durationMs: number;
  stderrTail: string;
  timedOut: boolean;
  attempt: number;
  operation?: OperationResult;
}

export interface RunOutcome {
  status: RunStatus;
  exitCode: number | null;
  error: string | null;
  attempts: number;
  /** A host operation's checks and value, for the run record. */
  result?: OperationResult | null;
}

export const SCRIPT_FAILED = 'ScriptFailed';
export const SCRIPT_TIMED_OUT = 'ScriptTimedOut';

/** Activities served by an agent on `agent-<hostId>`; the agent implements them, workflows call them. */
export interface AgentActivities {
  runScript(job: AgentScriptJob): Promise<AgentScriptResult>;
}

/**
 * What an agent sends with `POST /api/v1/agent/heartbeat`. Every field is optional, so an older agent that
 * sends only its tags (or nothing) still counts as alive.
 */
export interface AgentHeartbeat {
  tags?: string[];
  /** Load average over 1, 5 and 15 minutes. */
  load?: { one: number; five: number; fifteen: number };
  memory?: { totalMb: number; usedMb: number };
  /** The filesystem of the agent's temp directory, where scripts run. */
  disk?: { totalMb: number; usedMb: number };
  uptimeSeconds?: number;
  os?: { type: string; release: string; platform: string };
  agentVersion?: string;
  runningJobs?: number;
}
