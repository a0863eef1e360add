import { runDatabaseQuery } from './database-query.ts';
import { runFileValidation } from './file-validation.ts';
import type { Operation } from '@drydock/core/operations';
import { errorMessage, OperationLog, type OperationResult, type Outcome } from '@drydock/core/operations';
import { runServiceHealth } from './service-health.ts';
import { runShellCommand } from './shell-command.ts';

export interface RunOperationOptions {
  signal: AbortSignal;
  /** Secret parameter values by name: database_query reads its password here, and every value is masked in what is returned. */
  secrets: Record<string, string>;
  /** Each output line as it happens, already masked. */
  onLine?: (line: string) => void;
  /** Where a command's PATH, HOME, LANG and TZ come from; the agent's own environment unless given. */
  hostEnvironment?: Readonly<Record<string, string | undefined>>;
}

// eslint-disable-next-line no-restricted-syntax -- commands inherit PATH, HOME, LANG and TZ from the host; minimalEnvironment passes on only those.
const agentEnvironment = process.env;

/**
 * Runs one operation on this host. A failed check, an unreachable service or a cancellation is a result
 * with `ok: false`, never a rejection; after a cancellation the caller's signal says why.
 */
export async function runOperation(op: Operation, options: RunOperationOptions): Promise<OperationResult> {
  const started = performance.now();
  const log = new OperationLog(Object.values(options.secrets), options.onLine);
  const context = { signal: options.signal, log, secrets: options.secrets, hostEnvironment: options.hostEnvironment ?? agentEnvironment };
  let outcome: Outcome;
  try {
    switch (op.type) {
      case 'shell_command':
        outcome = await runShellCommand(op, context);
        break;
      case 'file_validation':
        outcome = await runFileValidation(op, context);
        break;
      case 'service_health':
        outcome = await runServiceHealth(op, context);
        break;
      case 'database_query':
        outcome = await runDatabaseQuery(op, context);
        break;
    }
  } catch (err) {
    const detail = errorMessage(err).split('\n')[0]!;
    log.line(`FAILED ${op.type}: ${detail}`);
    outcome = { checks: [{ name: op.type, ok: false, detail }] };
  }
  const checks = outcome.checks.map((c) => ({ ...c, detail: log.mask(c.detail) }));
  const result: OperationResult = {
    ok: checks.length > 0 && checks.every((c) => c.ok),
    checks,
    output: log.lines(),
    durationMs: Math.round(performance.now() - started),
  };
  if (outcome.value !== undefined) result.value = typeof outcome.value === 'string' ? log.mask(outcome.value) : outcome.value;
  return result;
}
