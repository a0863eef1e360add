import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { runAttempt, settleAttempt } from '@drydock/activities/job-execution';
import type { AgentActivities, AgentScriptJob, AgentScriptResult, AttemptOutcome, AttemptRecovery } from '@drydock/core/run-contract';
import { runJobOperation } from '@drydock/activities/operations';
import type { AttemptJournal } from './attempt-journal.ts';
import { checkJob, type JobPolicy, jobTimeout } from './job-policy.ts';
import { explainExit } from './resource-limits.ts';
import { type ArtifactUpload, captureAttempt, type CaptureLimits } from './capture.ts';
import { runScriptProcess, scriptEnvironment } from './script-runner.ts';
import { jobScript, type ScriptFetch } from './script-fetch.ts';
import type { SecretFetch } from './secret-fetch.ts';

/** Capture gives up after this long, well within the minute the workflow leaves an attempt past its timeout. */
const CAPTURE_BUDGET_MS = 45_000;

export interface AgentActivityDeps {
  hostId: string;
  workDir: string;
  /** Each attempt's log lines and outcome, kept on disk until the API and Temporal have them. */
  journal: AttemptJournal;
  policy: JobPolicy;
  /** Counts the jobs running now, for the heartbeat. */
  jobs?: { running: number };
  heartbeatIntervalMs?: number;
  /** Where a job's script comes from when the job carries its reference (the API). */
  fetchScript?: ScriptFetch;
  /** Where a job's secret parameters come from when it carries references (the API); held in memory for the attempt only. */
  fetchSecrets?: SecretFetch;
  /** Where captured files go (the API) and how much may go; without it, jobs that ask for capture run and say nothing was captured. */
  capture?: { upload: ArtifactUpload; limits: CaptureLimits };
}

function resolveSecrets(fetchSecrets: SecretFetch | undefined, job: AgentScriptJob, signal: AbortSignal): Promise<AgentScriptJob> {
  if (!fetchSecrets) return Promise.reject(new Error(`this agent cannot fetch the secret parameters of run ${job.runId}: it was started without the API's address`));
  return fetchSecrets(job, signal);
}

/** An attempt running in this process, whichever activity (the run, or Temporal asking after it) waits for it. */
interface RunningAttempt {
  done: Promise<AttemptOutcome>;
  stop(): void;
}

/**
 * The reasons Temporal gives up on an activity while its host is still at work: it could not hear the
 * heartbeats (an outage) and timed the attempt out. The script goes on; the workflow asks recoverAttempt.
 */
function temporalLostSight(ctx: Context): boolean {
  const details = ctx.cancellationDetails;
  if (details) return (details.notFound || details.timedOut) && !details.cancelRequested && !details.workerShutdown && !details.reset && !details.paused;
  const reason = (ctx.cancellationSignal.reason as Error | undefined)?.message;
  return reason === 'NOT_FOUND' || reason === 'TIMED_OUT';
}

/** Heartbeats `ctx` while `work` runs: an activity that waits for another's attempt must look alive. */
async function heartbeating<T>(ctx: Context, intervalMs: number, work: Promise<T>): Promise<T> {
  const timer = setInterval(() => ctx.heartbeat(), intervalMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

export function createAgentActivities(deps: AgentActivityDeps): AgentActivities {
  const running = new Map<string, RunningAttempt>();
  /** Attempts the workflow was told this agent never started: their task, should it still come, is refused. */
  const abandoned = new Set<string>();
  const beat = deps.heartbeatIntervalMs ?? 1_000;
  const appearing = async (key: string, withinMs: number, signal: AbortSignal): Promise<RunningAttempt | undefined> => {
    const until = Date.now() + withinMs;
    while (!running.has(key) && Date.now() < until && !signal.aborted) await new Promise((r) => setTimeout(r, 100));
    return running.get(key);
  };

  const start = (asked: AgentScriptJob, attempt: number): RunningAttempt => {
    const timeout = jobTimeout(asked, deps.policy);
    const job = { ...asked, timeoutSeconds: timeout.seconds };
    const workDir = join(deps.workDir, `${job.runId}-${attempt}`);
    const extraEnv = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: deps.hostId, DRYDOCK_ATTEMPT: String(attempt) };
    const wanted = job.capture && (job.capture.environment_snapshot || job.capture.artifacts.length > 0) ? job.capture : undefined;
    const stopped = new AbortController();
    const done = (async (): Promise<AttemptOutcome> => {
      if (deps.jobs) deps.jobs.running++;
      try {
        const journaled = await deps.journal.begin(job.runId, attempt);
        return await runAttempt({
          job,
          hostId: deps.hostId,
          attempt,
          signal: stopped.signal,
          sink: journaled.sink,
          onOutcome: async (outcome) => {
            // The script and capture are done: the work directory goes now, not once the API has taken the log.
            await rm(workDir, { recursive: true, force: true }).catch(() => {});
            await journaled.recordOutcome(outcome);
          },
          heartbeatIntervalMs: deps.heartbeatIntervalMs,
          resolveSecrets: job.secretRefs && Object.keys(job.secretRefs).length > 0 ? (asking, signal) => resolveSecrets(deps.fetchSecrets, asking, signal) : undefined,
          capture: wanted
            ? async (_exit, log, cancelled, resolved) => {
                if (!deps.capture) {
                  log('nothing captured: this agent was started without an artifact uploader');
                  return;
                }
                const signal = AbortSignal.any([cancelled, AbortSignal.timeout(CAPTURE_BUDGET_MS)]);
                // The job with its secrets resolved: the snapshot shows the variables the script had, secrets masked.
                await captureAttempt({
                  job: resolved,
                  capture: wanted,
                  attempt,
                  workDir: job.operation ? null : workDir,
                  env: scriptEnvironment(resolved, extraEnv),
                  ...deps.capture,
                  log,
                  signal,
                });
              }
            : undefined,
          run: async (onLine, signal, job) => {
            if (timeout.note) onLine({ stream: 'system', line: timeout.note, ts: new Date() });
            // Said in every run's log, not only the agent's: whoever reads the run must not assume the limits held.
            if (deps.policy.notEnforced && !job.operation) onLine({ stream: 'system', line: deps.policy.notEnforced, ts: new Date() });
            // Thrown here, a refusal is a non-retryable failure whose message the log and the run page show.
            await checkJob(job, deps.policy, workDir);
            // A host operation runs in the agent itself (files, HTTP, databases); its shell commands spawn without a shell.
            if (job.operation) return runJobOperation(job, onLine, signal);
            const content = await jobScript(job, deps.fetchScript, signal);
            const exit = await runScriptProcess({
              job: { ...job, content },
              workDir,
              extraEnv,
              onLine,
              signal,
              limits: deps.policy.limits,
              // Capture reads the work directory after the process ends; it is removed below, once the attempt is over.
              keepWorkDir: wanted !== undefined,
            });
            if (deps.policy.limits) {
              for (const line of explainExit(exit, deps.policy.limits, deps.policy.sourceOf)) onLine({ stream: 'system', line, ts: new Date() });
            }
            return exit;
          },
        });
      } finally {
        // However the attempt ended (refused, not started, failed, captured), nothing of it stays in the work directory.
        await rm(workDir, { recursive: true, force: true }).catch(() => {});
        if (deps.jobs) deps.jobs.running--;
      }
    })();
    return { done, stop: () => stopped.abort() };
  };

  return {
    async runScript(job: AgentScriptJob): Promise<AgentScriptResult> {
      const ctx = Context.current();
      const attempt = job.attempt ?? ctx.info.attempt;
      const key = `${job.runId}/${attempt}`;
      if (abandoned.has(key)) {
        throw ApplicationFailure.nonRetryable(`attempt ${attempt} of run ${job.runId} reached this agent after the run gave it up; it was not started`, 'TransportError');
      }
      const attemptRun = start(job, attempt);
      running.set(key, attemptRun);
      const onCancel = () => {
        if (!temporalLostSight(ctx)) attemptRun.stop();
      };
      ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
      try {
        return await settleAttempt(await attemptRun.done);
      } finally {
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
        if (running.get(key) === attemptRun) running.delete(key);
      }
    },

    async recoverAttempt({ runId, attempt }): Promise<AttemptRecovery> {
      const ctx = Context.current();
      const key = `${runId}/${attempt}`;
      let attemptRun = running.get(key);
      if (!attemptRun && !(await deps.journal.read(runId, attempt)).record) {
        // The task may have reached this process without having started yet (a busy agent): it gets the heartbeat timeout to show up.
        attemptRun = await heartbeating(ctx, beat, appearing(key, ctx.info.heartbeatTimeoutMs ?? 10_000, ctx.cancellationSignal));
      }
      if (attemptRun) {
        // Still running here: Temporal lost sight of it during an outage. Wait for it, as its run would have.
        const onCancel = () => {
          if (!temporalLostSight(ctx)) attemptRun.stop();
        };
        ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
        try {
          const outcome = await heartbeating(ctx, beat, attemptRun.done);
          // Cancelled by this question's own cancel: Temporal records it as cancelled, as it would the run's.
          if (outcome.state === 'cancelled' && ctx.cancellationSignal.aborted) await settleAttempt(outcome);
          return outcome;
        } finally {
          ctx.cancellationSignal.removeEventListener('abort', onCancel);
        }
      }
      const { record, outcome } = await deps.journal.read(runId, attempt);
      if (outcome) {
        // It ended, but Temporal did not hear it: its lines go first, so the run's log is whole once the run is final.
        await heartbeating(ctx, beat, deps.journal.deliver(runId, attempt));
        return outcome;
      }
      if (!record) {
        // The workflow goes on without it: should its task still arrive here, it must not start the script now.
        abandoned.add(key);
        return { state: 'unknown', reason: `this agent has no record of attempt ${attempt} of run ${runId}` };
      }
      // The agent process that ran it is gone, and its script with it (each start ends what a dead predecessor left running).
      const reason = `the agent process that ran attempt ${attempt} (pid ${record.pid}) ended before the attempt did`;
      await heartbeating(ctx, beat, deps.journal.deliver(runId, attempt, { stream: 'system', line: `${reason}; its script was ended`, ts: new Date().toISOString() }));
      const verdict: AttemptRecovery = { state: 'unknown', reason };
      await deps.journal.recordVerdict(runId, attempt, verdict);
      return verdict;
    },
  };
}
