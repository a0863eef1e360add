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
import { renderCommand, type SuccessCriteria } from '@drydock/core/manifest';
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

      const what = job.commandTemplate !== null ? renderCommand(job.commandTemplate, job.params).map(quoteWord).join(' ') : `${job.interpreter} ${job.scriptPath}`;
      push('system', `attempt ${attempt} on host ${deps.hostId}: ${what}`);
      const criteria = job.successCriteria;
      const missing = new Set(criteria.output_contains);
      const forbidden: string[] = [];
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
          onLine: (l) => {
            push(l.stream, l.line, l.ts);
            for (const needle of missing) if (l.line.includes(needle)) missing.delete(needle);
            for (const needle of criteria.output_not_contains) if (l.line.includes(needle) && !forbidden.includes(needle)) forbidden.push(needle);
          },
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
      const unmet = unmetCriteria(criteria, exit.exitCode, exit.durationMs, [...missing], forbidden);
      if (exit.exitCode === null) {
        throw ApplicationFailure.create({ type: SCRIPT_FAILED, message: `killed by ${exit.signal}`, details: [details] });
      }
      if (unmet.length > 0) {
        const expected = criteria.exit_codes.join(', ');
        const message = criteria.exit_codes.includes(exit.exitCode)
          ? `exited with code ${exit.exitCode}, but the success criteria were not met: ${unmet.join('; ')}`
          : `exited with code ${exit.exitCode}${expected === '0' ? '' : ` (success means ${expected})`}${unmet.length > 1 ? `; also ${unmet.slice(1).join('; ')}` : ''}`;
        throw ApplicationFailure.create({ type: SCRIPT_FAILED, message, details: [details] });
      }
      return { attempt, exitCode: exit.exitCode, durationMs: exit.durationMs, stderrTail: exit.stderrTail };
    },
  };
}

function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word);
}

/** What of the manifest's success criteria a finished process did not meet, in words; the exit code first. */
export function unmetCriteria(criteria: SuccessCriteria, exitCode: number | null, durationMs: number, missing: string[], forbidden: string[]): string[] {
  const out: string[] = [];
  if (exitCode !== null && !criteria.exit_codes.includes(exitCode)) out.push(`exit code ${exitCode} is not one of ${criteria.exit_codes.join(', ')}`);
  for (const needle of missing) out.push(`output never contained ${JSON.stringify(needle)}`);
  for (const needle of forbidden) out.push(`output contained ${JSON.stringify(needle)}`);
  if (criteria.max_execution_time !== undefined && durationMs > criteria.max_execution_time * 1000) {
    out.push(`took ${(durationMs / 1000).toFixed(1)} s, more than the ${criteria.max_execution_time} s allowed`);
  }
  return out;
}
