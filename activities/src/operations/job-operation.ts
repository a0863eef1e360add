import type { AgentScriptJob } from '@drydock/core/run-contract';
import { renderOperation } from '@drydock/core/operations';
import type { OutputLine, ProcessExit } from '../job-execution.ts';
import { type OperationExecutor, runOperation } from './run-operation.ts';

/**
 * A job's host operation as an attempt: parameters rendered into it (secrets handed over separately, never
 * spliced), every check a log line, and an exit code of 0 when every check passed, so success criteria and
 * retries treat it like any script.
 */
export async function runJobOperation(
  job: AgentScriptJob,
  onLine: (line: OutputLine) => void,
  signal: AbortSignal,
  /** Where it runs: this host unless given (an SSH or WinRM host's executor). */
  execute?: OperationExecutor,
): Promise<ProcessExit> {
  const secrets: Record<string, string> = {};
  const plain: AgentScriptJob['params'] = {};
  for (const [name, value] of Object.entries(job.params)) {
    if (job.secretNames.includes(name)) secrets[name] = String(value);
    else plain[name] = value;
  }
  const op = renderOperation(job.operation!, plain);
  const timeout = AbortSignal.timeout(job.timeoutSeconds * 1000);
  const result = await runOperation(op, {
    signal: AbortSignal.any([signal, timeout]),
    secrets,
    onLine: (line) => onLine({ stream: 'stdout', line, ts: new Date() }),
    ...(execute ? { execute } : {}),
  });
  const failed = result.checks.filter((c) => !c.ok);
  return {
    exitCode: signal.aborted || timeout.aborted ? null : result.ok ? 0 : 1,
    signal: signal.aborted || timeout.aborted ? 'SIGTERM' : null,
    timedOut: timeout.aborted && !signal.aborted,
    cancelled: signal.aborted,
    durationMs: result.durationMs,
    stderrTail: failed.map((c) => `${c.name}: ${c.detail}`).join('\n'),
    operation: result,
  };
}
