import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type AgentActivities,
  type AgentScriptJob,
  type AgentScriptResult,
  SCRIPT_FAILED,
  SCRIPT_TIMED_OUT,
  type ScriptFailureDetails,
} from '@drydock/core/run-contract';
import { type LogShipperOptions, RunLogStream } from './log-shipper.ts';
import { runScriptProcess } from './script-runner.ts';

export interface AgentActivityDeps {
  hostId: string;
  workDir: string;
  shipper: LogShipperOptions;
  heartbeatIntervalMs?: number;
}

export function createAgentActivities(deps: AgentActivityDeps): AgentActivities {
  return {
    async runScript(job: AgentScriptJob): Promise<AgentScriptResult> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const log = new RunLogStream(deps.shipper, job.runId, attempt);
      let seq = 0;
      const push = (stream: 'stdout' | 'stderr' | 'system', line: string, ts = new Date()) =>
        log.push({ seq: seq++, stream, line, ts: ts.toISOString() });

      push('system', `attempt ${attempt} on host ${deps.hostId}: ${job.interpreter} ${job.scriptPath}`);
      const heartbeat = setInterval(() => ctx.heartbeat({ attempt, seq }), deps.heartbeatIntervalMs ?? 1_000);
      let exit;
      try {
        exit = await runScriptProcess({
          job,
          workDir: join(deps.workDir, `${job.runId}-${attempt}`),
          extraEnv: {
            DRYDOCK_RUN_ID: job.runId,
            DRYDOCK_SCRIPT_ID: job.scriptId,
            DRYDOCK_HOST_ID: deps.hostId,
            DRYDOCK_ATTEMPT: String(attempt),
          },
          onLine: (l) => push(l.stream, l.line, l.ts),
          signal: ctx.cancellationSignal,
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        push('system', message);
        await log.close().catch(() => {});
        clearInterval(heartbeat);
        throw ApplicationFailure.nonRetryable(message, 'AgentError');
      }

      const seconds = (exit.durationMs / 1000).toFixed(1);
      const summary = exit.cancelled
        ? `cancelled after ${seconds} s; process group killed`
        : exit.timedOut
          ? `timed out after ${job.timeoutSeconds} s; process group killed`
          : exit.exitCode === null
            ? `killed by ${exit.signal} after ${seconds} s`
            : `exited with code ${exit.exitCode} after ${seconds} s`;
      push('system', summary);
      // Heartbeats go on while the last lines are delivered, so a slow API is not mistaken for a dead agent.
      try {
        await log.close();
      } finally {
        clearInterval(heartbeat);
      }

      if (exit.cancelled) {
        // Rethrow the SDK's own cancellation so Temporal records the activity as cancelled.
        throw await ctx.cancelled.catch((e: unknown) => e);
      }
      const details: ScriptFailureDetails = {
        exitCode: exit.exitCode,
        durationMs: exit.durationMs,
        stderrTail: exit.stderrTail,
        timedOut: exit.timedOut,
        attempt,
      };
      if (exit.timedOut) {
        throw ApplicationFailure.create({ type: SCRIPT_TIMED_OUT, message: `timed out after ${job.timeoutSeconds} s`, details: [details] });
      }
      if (exit.exitCode !== 0) {
        const message = exit.exitCode === null ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
        throw ApplicationFailure.create({ type: SCRIPT_FAILED, message, details: [details] });
      }
      return { attempt, exitCode: 0, durationMs: exit.durationMs, stderrTail: exit.stderrTail };
    },
  };
}
