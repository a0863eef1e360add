import { stat } from 'node:fs/promises';
import type { ShellCommandOperation } from '@drydock/core/operations';
import type { OperationLog, Outcome } from '@drydock/core/operations';
import { minimalEnvironment, runInProcessGroup } from './process-group.ts';

export const DEFAULT_COMMAND_TIMEOUT_SECONDS = 300;

function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word);
}

/** Runs the argv as given (no shell), judged by its exit code: 0 passes. */
export async function runShellCommand(
  op: ShellCommandOperation,
  context: { signal: AbortSignal; log: OperationLog; hostEnvironment: Readonly<Record<string, string | undefined>> },
): Promise<Outcome> {
  const { log } = context;
  const [command, ...args] = op.command;
  const timeoutSeconds = op.timeout_seconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS;
  log.line(`$ ${op.command.map(quoteWord).join(' ')}${op.working_directory ? ` (in ${op.working_directory})` : ''}`);
  const fail = (detail: string): Outcome => {
    log.line(detail);
    return { checks: [{ name: 'exit code', ok: false, detail }], value: null };
  };

  if (op.working_directory !== undefined) {
    const dir = await stat(op.working_directory).catch(() => null);
    if (!dir?.isDirectory()) return fail(`working directory ${op.working_directory} does not exist or is not a directory`);
  }
  const end = await runInProcessGroup({
    command: command!,
    args,
    cwd: op.working_directory,
    env: minimalEnvironment(context.hostEnvironment, op.environment),
    timeoutMs: timeoutSeconds * 1000,
    signal: context.signal,
    onLine: (line) => log.line(line),
  });

  if (end.startError) {
    const reason =
      end.startError.code === 'ENOENT'
        ? 'no such program on PATH'
        : end.startError.code === 'EACCES'
          ? 'permission denied (is it executable?)'
          : end.startError.message;
    return fail(`could not start ${command}: ${reason}`);
  }
  if (end.cancelled) return fail('cancelled; process group killed');
  if (end.timedOut) return fail(`timed out after ${timeoutSeconds} s; process group killed`);
  if (end.exitCode === null) return fail(`killed by ${end.signal}`);
  const detail = `exited with code ${end.exitCode}`;
  log.line(detail);
  return { checks: [{ name: 'exit code', ok: end.exitCode === 0, detail: end.exitCode === 0 ? detail : `${detail}, expected 0` }], value: end.exitCode };
}
