import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { executeJob, type LogSink } from '@drydock/activities/job-execution';
import type { AgentActivities, AgentScriptJob, AgentScriptResult } from '@drydock/core/run-contract';
import { runJobOperation } from '@drydock/activities/operations';
import { checkJob, type JobPolicy, jobTimeout } from './job-policy.ts';
import { explainExit } from './resource-limits.ts';
import { runScriptProcess } from './script-runner.ts';

export interface AgentActivityDeps {
  hostId: string;
  workDir: string;
  /** Where an attempt's log lines go: the API, through a RunLogStream, in the agent. */
  logSink: (runId: string, attempt: number) => LogSink;
  policy: JobPolicy;
  /** Counts the jobs running now, for the heartbeat. */
  jobs?: { running: number };
  heartbeatIntervalMs?: number;
}

export function createAgentActivities(deps: AgentActivityDeps): AgentActivities {
  return {
    async runScript(asked: AgentScriptJob): Promise<AgentScriptResult> {
      const attempt = Context.current().info.attempt;
      const timeout = jobTimeout(asked, deps.policy);
      const job = { ...asked, timeoutSeconds: timeout.seconds };
      const workDir = join(deps.workDir, `${job.runId}-${attempt}`);
      if (deps.jobs) deps.jobs.running++;
      try {
        return await executeJob({
          job,
          hostId: deps.hostId,
          sink: deps.logSink(job.runId, attempt),
          heartbeatIntervalMs: deps.heartbeatIntervalMs,
          run: async (onLine, signal) => {
            if (timeout.note) onLine({ stream: 'system', line: timeout.note, ts: new Date() });
            // Thrown here, a refusal is a non-retryable failure whose message the log and the run page show.
            await checkJob(job, deps.policy, workDir);
            // A host operation runs in the agent itself (files, HTTP, databases); its shell commands spawn without a shell.
            if (job.operation) return runJobOperation(job, onLine, signal);
            const exit = await runScriptProcess({
              job,
              workDir,
              extraEnv: { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: deps.hostId, DRYDOCK_ATTEMPT: String(attempt) },
              onLine,
              signal,
              limits: deps.policy.limits,
            });
            if (deps.policy.limits) {
              for (const line of explainExit(exit, deps.policy.limits, deps.policy.sourceOf)) onLine({ stream: 'system', line, ts: new Date() });
            }
            return exit;
          },
        });
      } finally {
        if (deps.jobs) deps.jobs.running--;
      }
    },
  };
}
