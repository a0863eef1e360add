import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { executeJob, type LogSink } from '@drydock/activities/job-execution';
import type { AgentActivities, AgentScriptJob, AgentScriptResult } from '@drydock/core/run-contract';
import { runJobOperation } from '@drydock/activities/operations';
import { checkJob, type JobPolicy, jobTimeout } from './job-policy.ts';
import { explainExit } from './resource-limits.ts';
import { type ArtifactUpload, captureAttempt, type CaptureLimits } from './capture.ts';
import { runScriptProcess, scriptEnvironment } from './script-runner.ts';
import { jobScript, type ScriptFetch } from './script-fetch.ts';

/** Capture gives up after this long, well within the minute the workflow leaves an attempt past its timeout. */
const CAPTURE_BUDGET_MS = 45_000;

export interface AgentActivityDeps {
  hostId: string;
  workDir: string;
  /** Where an attempt's log lines go: the API, through a RunLogStream, in the agent. */
  logSink: (runId: string, attempt: number) => LogSink;
  policy: JobPolicy;
  /** Counts the jobs running now, for the heartbeat. */
  jobs?: { running: number };
  heartbeatIntervalMs?: number;
  /** Where a job's script comes from when the job carries its reference (the API). */
  fetchScript?: ScriptFetch;
  /** Where captured files go (the API) and how much may go; without it, jobs that ask for capture run and say nothing was captured. */
  capture?: { upload: ArtifactUpload; limits: CaptureLimits };
}

export function createAgentActivities(deps: AgentActivityDeps): AgentActivities {
  return {
    async runScript(asked: AgentScriptJob): Promise<AgentScriptResult> {
      const attempt = Context.current().info.attempt;
      const timeout = jobTimeout(asked, deps.policy);
      const job = { ...asked, timeoutSeconds: timeout.seconds };
      const workDir = join(deps.workDir, `${job.runId}-${attempt}`);
      const extraEnv = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: deps.hostId, DRYDOCK_ATTEMPT: String(attempt) };
      const wanted = job.capture && (job.capture.environment_snapshot || job.capture.artifacts.length > 0) ? job.capture : undefined;
      if (deps.jobs) deps.jobs.running++;
      try {
        return await executeJob({
          job,
          hostId: deps.hostId,
          sink: deps.logSink(job.runId, attempt),
          heartbeatIntervalMs: deps.heartbeatIntervalMs,
          capture: wanted
            ? async (_exit, log, cancelled) => {
                if (!deps.capture) {
                  log('nothing captured: this agent was started without an artifact uploader');
                  return;
                }
                const signal = AbortSignal.any([cancelled, AbortSignal.timeout(CAPTURE_BUDGET_MS)]);
                await captureAttempt({
                  job,
                  capture: wanted,
                  attempt,
                  workDir: job.operation ? null : workDir,
                  env: scriptEnvironment(job, extraEnv),
                  ...deps.capture,
                  log,
                  signal,
                });
              }
            : undefined,
          run: async (onLine, signal) => {
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
        if (wanted) await rm(workDir, { recursive: true, force: true }).catch(() => {});
        if (deps.jobs) deps.jobs.running--;
      }
    },
  };
}
