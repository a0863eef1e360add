import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { renderCommand } from '@drydock/core/manifest';
import {
  type AgentScriptJob,
  type AgentScriptResult,
  type AttemptOutcome,
  SCRIPT_FAILED,
  SCRIPT_TIMED_OUT,
  SECRET_UNAVAILABLE,
  type ScriptFailureDetails,
  type ScriptRef,
} from '@drydock/core/run-contract';
import type { OperationResult } from '@drydock/core/operations';
import { unmetCriteria } from '@drydock/core/success-criteria';
import { secretMasker } from '@drydock/core/job-data';

export interface OutputLine {
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
  ts: Date;
}

/** How a script's process ended, whatever ran it: the local agent, SSH, or later WinRM and Docker. */
export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  stderrTail: string;
  /** Set when the job was a host operation: its checks and value. */
  operation?: OperationResult;
}

/** Where an attempt's numbered log lines go: the API (agents) or Postgres directly (central worker). */
export interface LogSink {
  push(line: { seq: number; stream: OutputLine['stream']; line: string; ts: string }): void;
  /** Resolves once every line is stored. */
  close(): Promise<void>;
}

/** A script reference in words, for messages. */
export function describeScript(ref: ScriptRef): string {
  return `script ${ref.path} at ${ref.version.slice(0, 12)} (${ref.bytes} bytes)`;
}

/** Why fetched content is not the script a job names, or null when it is: executors run exactly what the run was validated against. */
export function scriptMismatch(ref: ScriptRef, content: string): string | null {
  const sha256 = createHash('sha256').update(content, 'utf8').digest('hex');
  return sha256 === ref.sha256 ? null : `${describeScript(ref)} is not what the run was started with: its content has SHA-256 ${sha256}, not ${ref.sha256}`;
}

function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word);
}

export interface AttemptOptions {
  job: AgentScriptJob;
  hostId: string;
  sink: LogSink;
  /** Runs the job; `job` is the one with its secrets resolved, when resolveSecrets gave it. */
  run: (onLine: (line: OutputLine) => void, signal: AbortSignal, job: AgentScriptJob) => Promise<ProcessExit>;
  /**
   * Gives the job its secret parameters' values just before it runs (an agent asks the API), so they are masked
   * in the log and never pass through Temporal. A rejection fails the attempt with its message; one with
   * `retryable: true` lets the run's retries try again.
   */
  resolveSecrets?: (job: AgentScriptJob, signal: AbortSignal) => Promise<AgentScriptJob>;
  via?: string;
  heartbeatIntervalMs?: number;
  /**
   * What the job's manifest asks to capture, taken once its process has ended (unless cancelled) and before
   * the log closes, so heartbeats go on meanwhile. It reports by system lines and never fails the attempt;
   * `job` is the one the script ran with (its secrets resolved).
   */
  capture?: (exit: ProcessExit, log: (line: string) => void, signal: AbortSignal, job: AgentScriptJob) => Promise<void>;
  /** The attempt's number; Temporal's own count when the workflow does not pass one. */
  attempt?: number;
  /** Stops the script; the activity's cancellation unless the caller decides when an attempt is given up. */
  signal?: AbortSignal;
  /** Told the outcome as soon as it is known, before the log is closed: an agent keeps it on disk. */
  onOutcome?: (outcome: AttemptOutcome) => Promise<void>;
}

/**
 * One attempt of a job inside an activity, the same on every transport: numbered log lines, heartbeats
 * (which also carry cancellation), the success criteria judged on the output, and the Temporal failure
 * types the workflow turns into a run's outcome.
 */
export async function executeJob(options: AttemptOptions): Promise<AgentScriptResult> {
  return settleAttempt(await runAttempt(options));
}

/** The attempt's outcome as the activity reports it to Temporal: a result, or the failure the workflow reads. */
export async function settleAttempt(outcome: AttemptOutcome): Promise<AgentScriptResult> {
  if (outcome.state === 'succeeded') return outcome.result;
  if (outcome.state === 'cancelled') {
    const ctx = Context.current();
    // Rethrow the SDK's own cancellation so Temporal records the activity as cancelled.
    if (ctx.cancellationSignal.aborted) throw await ctx.cancelled.catch((e: unknown) => e);
    throw new CancelledFailure('cancelled');
  }
  const { type, message, nonRetryable, details } = outcome.failure;
  throw ApplicationFailure.create({ type, message, nonRetryable, details: details ? [details] : undefined });
}

/** Runs one attempt and says how it ended, as data; only a bug throws. */
export async function runAttempt(options: AttemptOptions): Promise<AttemptOutcome> {
  const { sink } = options;
  let job = options.job;
  const ctx = Context.current();
  const attempt = options.attempt ?? ctx.info.attempt;
  const signal = options.signal ?? ctx.cancellationSignal;
  let seq = 0;
  let mask = secretMasker(job);
  // PostgreSQL text cannot hold a NUL, and the API refuses one: a script that prints one gets ␀ in its log.
  const push = (stream: OutputLine['stream'], line: string, ts = new Date()) => sink.push({ seq: seq++, stream, line: line.replaceAll('\0', '\u2400'), ts: ts.toISOString() });

  const what =
    job.operation !== null
      ? `operation ${job.operation.type}`
      : job.commandTemplate !== null
        ? renderCommand(job.commandTemplate, job.params).map(quoteWord).join(' ')
        : `${job.interpreter} ${job.scriptPath}`;
  push('system', `attempt ${attempt} on host ${options.hostId}${options.via ? ` ${options.via}` : ''}: ${what}`);
  const criteria = job.successCriteria;
  const missing = new Set(criteria.output_contains);
  const forbidden: string[] = [];
  const heartbeat = setInterval(() => ctx.heartbeat({ attempt, seq }), options.heartbeatIntervalMs ?? 1_000);
  // Heartbeats go on while the last lines are delivered, so a slow log store is not mistaken for a dead host.
  const finish = async (outcome: AttemptOutcome): Promise<AttemptOutcome> => {
    try {
      await options.onOutcome?.(outcome);
      await sink.close();
    } finally {
      clearInterval(heartbeat);
    }
    return outcome;
  };

  if (options.resolveSecrets) {
    try {
      job = await options.resolveSecrets(job, signal);
    } catch (err) {
      if (signal.aborted) return finish({ state: 'cancelled' });
      const message = err instanceof Error ? err.message : String(err);
      push('system', message);
      const retryable = (err as { retryable?: unknown }).retryable === true;
      return finish({ state: 'failed', failure: { type: SECRET_UNAVAILABLE, message, nonRetryable: !retryable } });
    }
    mask = secretMasker(job);
  }

  let exit: ProcessExit;
  try {
    exit = await options.run((l) => {
      push(l.stream, l.line, l.ts);
      for (const needle of missing) if (l.line.includes(needle)) missing.delete(needle);
      for (const needle of criteria.output_not_contains) if (l.line.includes(needle) && !forbidden.includes(needle)) forbidden.push(needle);
    }, signal, job);
  } catch (err) {
    // A failure message travels to the run record and Temporal: it must not carry a secret a transport echoed.
    const message = mask(err instanceof Error ? err.message : String(err));
    push('system', message);
    return finish({ state: 'failed', failure: { type: 'TransportError', message, nonRetryable: true } });
  }

  const seconds = (exit.durationMs / 1000).toFixed(1);
  push(
    'system',
    exit.cancelled
      ? `cancelled after ${seconds} s; process group killed`
      : exit.timedOut
        ? `timed out after ${job.timeoutSeconds} s; process group killed`
        : exit.exitCode === null
          ? `killed by ${exit.signal} after ${seconds} s`
          : `exited with code ${exit.exitCode} after ${seconds} s`,
  );
  const wanted = job.capture !== undefined && (job.capture.environment_snapshot || job.capture.artifacts.length > 0);
  if (wanted && !exit.cancelled) {
    if (options.capture) {
      await options.capture(exit, (line) => push('system', line), signal, job).catch((err: unknown) => {
        push('system', mask(`capture failed: ${err instanceof Error ? err.message : String(err)}`));
      });
    } else {
      push('system', `nothing captured: runs${options.via ? ` ${options.via}` : ' on this transport'} cannot capture environment snapshots or artifacts yet`);
    }
  }
  return finish(judgeExit(job, exit, attempt, [...missing], forbidden));
}

function judgeExit(job: AgentScriptJob, exit: ProcessExit, attempt: number, missing: string[], forbidden: string[]): AttemptOutcome {
  if (exit.cancelled) return { state: 'cancelled' };
  const criteria = job.successCriteria;
  const details: ScriptFailureDetails = {
    exitCode: exit.exitCode,
    durationMs: exit.durationMs,
    stderrTail: exit.stderrTail,
    timedOut: exit.timedOut,
    attempt,
    ...(exit.operation ? { operation: exit.operation } : {}),
  };
  const failed = (type: string, message: string): AttemptOutcome => ({ state: 'failed', failure: { type, message, nonRetryable: false, details } });
  if (exit.timedOut) return failed(SCRIPT_TIMED_OUT, `timed out after ${job.timeoutSeconds} s`);
  if (exit.exitCode === null) return failed(SCRIPT_FAILED, `killed by ${exit.signal}`);
  if (exit.operation && !exit.operation.ok) {
    const names = exit.operation.checks.filter((c) => !c.ok).map((c) => c.name);
    return failed(SCRIPT_FAILED, `checks failed: ${names.join(', ')}`);
  }
  const unmet = unmetCriteria(criteria, exit.exitCode, exit.durationMs, missing, forbidden);
  if (unmet.length > 0) {
    const expected = criteria.exit_codes.join(', ');
    const message = criteria.exit_codes.includes(exit.exitCode)
      ? `exited with code ${exit.exitCode}, but the success criteria were not met: ${unmet.join('; ')}`
      : `exited with code ${exit.exitCode}${expected === '0' ? '' : ` (success means ${expected})`}${unmet.length > 1 ? `; also ${unmet.slice(1).join('; ')}` : ''}`;
    return failed(SCRIPT_FAILED, message);
  }
  return {
    state: 'succeeded',
    result: { attempt, exitCode: exit.exitCode, durationMs: exit.durationMs, stderrTail: exit.stderrTail, ...(exit.operation ? { operation: exit.operation } : {}) },
  };
}
