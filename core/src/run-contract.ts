import type { Interpreter, ParamValues, SuccessCriteria } from './manifest.ts';
import type { Operation, OperationResult } from './operations/index.ts';
import type { RunStatus } from './db/schema.ts';
import type { ApprovalRequest } from './approval.ts';

/**
 * A secret parameter's value as workflow inputs and jobs carry it: the id of its sealed row in `run_secrets`,
 * never the value. Whoever executes the run (a central worker, or the agent through the API) resolves it, and
 * only for the run the row belongs to.
 */
export interface SecretRef {
  secretRef: string;
}

/** Secret parameters by name, as references. */
export type SecretRefs = Record<string, SecretRef>;

/** Input of scriptRunWorkflow (`run/<runId>`). Params travel encrypted by the payload codec; secret ones only as references. */
export interface ScriptRunInput {
  runId: string;
  teamId: string;
  /** A script synced from a repository, or an action template. */
  source: 'script' | 'action';
  scriptId: string;
  /** The exact version the parameters were validated against: a commit SHA, content hash or action revision. */
  version: string;
  hostId: string;
  /** Every parameter but the secret ones (those are in secretRefs); in runs started before references, the secret ones too. */
  params: ParamValues;
  /** The secret parameters, as references to their sealed values. */
  secretRefs?: SecretRefs;
  initiator: { id: string; name: string };
  /** How long the run waits for the host's agent before it fails as offline. */
  offlineTimeoutMs: number;
  heartbeatTimeoutMs: number;
  /** requires_lock: the run holds its host's execution lock while it runs. Absent in runs requested before locks. */
  lock?: {
    /** How long the lease lasts if the run never gives it back: the run's worst case with room to spare. */
    ttlSeconds: number;
    /** How long the run waits for the lock before it fails, naming who keeps it. */
    waitTimeoutMs: number;
  };
  /** The host's environment is protected: the run waits for another person's decision before anything else. */
  approval?: ApprovalRequest;
  /** A bulk execution's per-host timeout and retries, in place of the manifest's. */
  overrides?: { timeoutSeconds?: number; retries?: number };
}

/** What the agent needs to run one attempt: everything, so the host needs no catalog of its own. */
export interface AgentScriptJob {
  runId: string;
  scriptId: string;
  /** A script file run by an interpreter... */
  interpreter: Interpreter | null;
  /** The script's path in the repository, kept for messages and the temp file's extension. */
  scriptPath: string | null;
  /**
   * The script by identity. Its content never travels in workflow history (a script may be far larger than a
   * payload can be): the agent fetches it from the API, central workers read it from Postgres, and both check
   * it is this one. Absent in jobs of runs started before scripts went by reference.
   */
  script?: ScriptRef | null;
  /** The script's content, once the executor has fetched it; inline in jobs of runs started before references. */
  content?: string | null;
  /** ...or a command template, rendered to argv (never a shell string)... */
  commandTemplate: string | null;
  /** ...or a structured host operation, whose checks become the run's result. */
  operation: Operation | null;
  params: ParamValues;
  /**
   * The secret parameters as references: the executor resolves them into `params` just before the attempt runs,
   * so a job with values never travels through Temporal. Absent in jobs of runs started before references.
   */
  secretRefs?: SecretRefs;
  /** Parameter names that are secrets: passed by environment only, never argv, masked in the log. */
  secretNames: string[];
  timeoutSeconds: number;
  successCriteria: SuccessCriteria;
  /** The manifest's `capture`: what the agent keeps of the attempt once its process has ended. Absent: nothing. */
  capture?: JobCapture;
  /** Which attempt of the run this is, counted by the workflow; absent in jobs whose attempts Temporal counts. */
  attempt?: number;
}

/** Which script a run executes, exactly: its catalog version and the SHA-256 of its content. */
export interface ScriptRef {
  /** The commit SHA (git) or content hash (directory) the run was validated against. */
  version: string;
  path: string;
  sha256: string;
  /** Its content's length in UTF-8 bytes. */
  bytes: number;
}

/** A manifest's `capture`, as the job carries it. */
export interface JobCapture {
  environment_snapshot: boolean;
  /** Globs relative to the run's work directory (the script's cwd). */
  artifacts: string[];
  /** Packages whose version the snapshot records. Absent in jobs of runs started before packages were recorded. */
  packages?: string[];
  /** Services whose state the snapshot records. Absent as packages are. */
  services?: string[];
}

export const PACKAGE_SOURCES = ['dpkg', 'rpm', 'apk', 'windows'] as const;
export type PackageSource = (typeof PACKAGE_SOURCES)[number];
export const SERVICE_MANAGERS = ['systemd', 'windows', 'openrc'] as const;
export type ServiceManager = (typeof SERVICE_MANAGERS)[number];

/** One package the manifest names, as the host's package manager knows it. */
export interface PackageFact {
  name: string;
  /** The installed version; null when it is not installed or could not be asked (`error` says why). */
  version: string | null;
  /** The package manager that answered; null when the host has none Drydock reads. */
  source: PackageSource | null;
  error?: string;
}

/** One service the manifest names, as the host's service manager sees it. */
export interface ServiceFact {
  name: string;
  /** systemd's ActiveState (active, inactive, failed, …), OpenRC's status, Windows' Status (Running, Stopped, …); null when unknown (`error` says why). */
  state: string | null;
  manager: ServiceManager | null;
  error?: string;
}

export const ARTIFACT_KINDS = ['artifact', 'environment'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];
/** The name an attempt's environment snapshot is stored under; no artifact may take it. */
export const ENVIRONMENT_SNAPSHOT_NAME = 'drydock-environment.json';

export type { RunArtifactView } from './api/runs.ts';

/** The environment snapshot an agent takes of a host after an attempt (JSON, kind `environment`). */
export interface EnvironmentSnapshot {
  capturedAt: string;
  host: {
    hostname: string;
    os: { type: string; platform: string; release: string; version: string; arch: string; machine: string };
    /** /etc/os-release, as its keys say it (NAME, VERSION_ID, PRETTY_NAME, …); null where there is none. */
    distribution: Record<string, string> | null;
    uptimeSeconds: number;
    loadAverage: [number, number, number];
    cpus: { count: number; model: string | null };
    memory: { totalMb: number; freeMb: number };
  };
  /** The filesystem of the run's work directory. */
  disk: { path: string; totalMb: number; freeMb: number; usedMb: number } | null;
  /** The interpreter that ran the script and what `<command> --version` answered. */
  interpreter: { name: string; command: string; version: string | null } | null;
  /** The variables the script ran with; secrets and secret-looking names masked. */
  environment: Record<string, string>;
  agent: { version: string; node: string };
  /** The packages `capture.packages` names, in its order. Absent in snapshots taken before packages were recorded. */
  packages?: PackageFact[];
  /** The services `capture.services` names, in its order. Absent as packages are. */
  services?: ServiceFact[];
}

/** The snapshot of a `runner: docker` attempt: the container it ran in, not a host. */
export interface ContainerSnapshot {
  capturedAt: string;
  container: {
    image: string;
    imageId: string;
    /** The image's USER; empty for root. */
    user: string;
    /** The image's /etc/os-release; null when it has none. */
    distribution: Record<string, string> | null;
    engine: { version: string | null; apiVersion: string | null; os: string | null; arch: string | null; kernel: string | null };
    network: boolean;
    readOnly: boolean;
    limits: { memoryMb: number | null; cpus: number | null; pids: number | null };
  };
  environment: Record<string, string>;
  packages?: PackageFact[];
  services?: ServiceFact[];
}

/** What an attempt's `drydock-environment.json` holds: a host's snapshot, or a container's. */
export type RunSnapshot = EnvironmentSnapshot | ContainerSnapshot;

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
/** The failure type of an attempt whose secret parameters could not be had; its message names the parameter and reference, never a value. */
export const SECRET_UNAVAILABLE = 'SecretUnavailable';
export const SCRIPT_TIMED_OUT = 'ScriptTimedOut';
/** The failure type a failed or timed-out run's workflow ends with; its first detail is the RunOutcome. */
export const RUN_FAILED = 'RunFailed';

/** How one attempt ended on its host, as data: what the activity reports, and what the agent keeps on disk until Temporal has it. */
export type AttemptOutcome =
  | { state: 'succeeded'; result: AgentScriptResult }
  | { state: 'failed'; failure: { type: string; message: string; nonRetryable: boolean; details?: ScriptFailureDetails } }
  | { state: 'cancelled' };

/** The agent's answer to "what became of attempt N?": its outcome, or unknown when no process of this agent saw it end. */
export type AttemptRecovery = AttemptOutcome | { state: 'unknown'; reason: string };

/** Activities served by an agent on `agent-<hostId>`; the agent implements them, workflows call them. */
export interface AgentActivities {
  runScript(job: AgentScriptJob): Promise<AgentScriptResult>;
  /**
   * Asked when Temporal lost sight of an attempt (no heartbeat for a while): the attempt's log lines are
   * delivered first, then its outcome is told, waiting for it while it still runs in this agent.
   */
  recoverAttempt(attempt: { runId: string; attempt: number }): Promise<AttemptRecovery>;
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
