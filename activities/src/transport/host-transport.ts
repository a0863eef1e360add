import type { Db, SecretBox } from '@drydock/core';
import type { CaptureLimits, ScriptLine } from '@drydock/core/job-data';
import type { ContainerOptions } from '@drydock/core/manifest';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import type { StoreCaptured } from '../central-capture.ts';
import type { ProcessExit } from '../job-execution.ts';
import type { VaultClient } from '../vault/index.ts';

/**
 * One way a central worker reaches a host without an agent (SSH, WinRM, a Docker engine). The activity body
 * (agentless.activities.ts) is the same for all: it reads the host, takes a slot, logs, captures and notes
 * contact; a transport only opens an attempt, runs the job and takes what the manifest asks to capture.
 * Its errors are HostTransportErrors, whose `unreachable` says when the host is to blame.
 */
export interface HostTransport {
  /** The hosts.transport value it serves. */
  readonly kind: 'ssh' | 'winrm' | 'docker';
  /** Reads the host's definition and credential; nothing is contacted yet. Bad definitions are non-retryable failures. */
  open(context: AttemptContext): Promise<TransportAttempt>;
}

/** A container a `runner: docker` job asks for. */
export type ContainerRequest = { image: string } & ContainerOptions;

export interface AttemptContext {
  db: Db;
  secrets: SecretBox;
  /** Resolves credentials stored as vault: references; absent when no Vault is configured. */
  vault?: VaultClient | undefined;
  hostId: string;
  /** The job with its script's content. */
  job: AgentScriptJob;
  attempt: number;
  /** The run's DRYDOCK_* variables beyond the parameters (run, script, host, attempt). */
  extraEnv: Record<string, string>;
  /** The per-file and per-run limits of what is captured; the defaults when the worker has no blob store. */
  captureLimits: CaptureLimits;
  container: ContainerRequest | undefined;
  /** Pins a host's identity (host key, certificate fingerprint) on first use; one already pinned is never replaced. */
  pin(hostId: string, identity: string | null): Promise<void>;
  /** The host answered: its last contact is now, and an earlier failure no longer stands. */
  reached(): Promise<void>;
}

export interface CaptureContext {
  limits: CaptureLimits;
  store: StoreCaptured;
  log: (line: string) => void;
  signal: AbortSignal;
  /** The DRYDOCK_* variables the script had, for the environment snapshot (masked there). */
  scriptEnv: Record<string, string>;
}

/** One attempt on one host: run once, then capture (unless cancelled), then always closed. */
export interface TransportAttempt {
  /** How the run's log names the way in: "over SSH (deploy@10.0.0.5:22)". */
  readonly via: string;
  /** Runs the job, or its host operation, streaming lines; pins the host's identity when it first answers. */
  run(onLine: (line: ScriptLine) => void, signal: AbortSignal): Promise<ProcessExit>;
  /** Takes the environment snapshot and artifacts the job asks for; reports by log lines, never throws for a file. */
  capture(context: CaptureContext): Promise<void>;
  /** Releases what `run` opened; never throws. */
  close(): Promise<void>;
}
