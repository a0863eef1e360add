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
  /** Where the operation runs: this host unless given (SSH and WinRM hosts bring their own). */
  execute?: OperationExecutor;
}

/** What an executor gets: the caller's signal, the masked log every line goes through, and the secret values. */
export interface OperationContext {
  signal: AbortSignal;
  log: OperationLog;
  secrets: Readonly<Record<string, string>>;
  hostEnvironment: Readonly<Record<string, string | undefined>>;
}

/** Runs an operation somewhere and says what was seen; a failure to check is a failed check, never a rejection. */
export type OperationExecutor = (op: Operation, context: OperationContext) => Promise<Outcome>;

// eslint-disable-next-line no-restricted-syntax -- commands inherit PATH, HOME, LANG and TZ from the host; minimalEnvironment passes on only those.
const agentEnvironment = process.env;

/** The operations as this host runs them: the agent's executor. */
export const localOperations: OperationExecutor = (op, context) => {
  switch (op.type) {
    case 'shell_command':
      return runShellCommand(op, context);
    case 'file_validation':
      return runFileValidation(op, context);
    case 'service_health':
      return runServiceHealth(op, context);
    case 'database_query':
      return runDatabaseQuery(op, context);
  }
};

/**
 * Runs one operation, on this host unless `execute` says otherwise. A failed check, an unreachable service or
 * a cancellation is a result with `ok: false`, never a rejection; after a cancellation the caller's signal says why.
 */
export async function runOperation(op: Operation, options: RunOperationOptions): Promise<OperationResult> {
  const started = performance.now();
  const log = new OperationLog(Object.values(options.secrets), options.onLine);
  const context: OperationContext = { signal: options.signal, log, secrets: options.secrets, hostEnvironment: options.hostEnvironment ?? agentEnvironment };
  let outcome: Outcome;
  try {
    outcome = await (options.execute ?? localOperations)(op, context);
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
