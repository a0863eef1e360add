import { stat } from 'node:fs/promises';
import type { ShellCommandOperation } from '@drydock/core/operations';
import type { OperationLog, Outcome } from '@drydock/core/operations';
import { minimalEnvironment, runInProcessGroup } from './process-group.ts';

export const DEFAULT_COMMAND_TIMEOUT_SECONDS = 300;

function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word);
}

/** The log line that says what runs: `$ argv… (in dir)`. */
export function commandLine(op: ShellCommandOperation): string {
  return `$ ${op.command.map(quoteWord).join(' ')}${op.working_directory ? ` (in ${op.working_directory})` : ''}`;
}

/** How a command ended, wherever it ran; `notStarted` says why it never did. */
export type CommandEnd = { exitCode: number | null; signal: string | null; timedOut: boolean; cancelled: boolean } | { notStarted: string };

/** Why a command could not start, in the words every transport uses. */
export const NOT_STARTED = {
  noWorkingDirectory: (dir: string) => `working directory ${dir} does not exist or is not a directory`,
  noProgram: (command: string) => `could not start ${command}: no such program on PATH`,
  notExecutable: (command: string) => `could not start ${command}: permission denied (is it executable?)`,
};

/** A command's end judged by its exit code: 0 passes. */
export function judgeCommand(op: ShellCommandOperation, end: CommandEnd, log: OperationLog): Outcome {
  const timeoutSeconds = op.timeout_seconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS;
  const fail = (detail: string): Outcome => {
    log.line(detail);
    return { checks: [{ name: 'exit code', ok: false, detail }], value: null };
  };
  if ('notStarted' in end) return fail(end.notStarted);
  if (end.cancelled) return fail('cancelled; process group killed');
  if (end.timedOut) return fail(`timed out after ${timeoutSeconds} s; process group killed`);
  if (end.exitCode === null) return fail(`killed by ${end.signal}`);
  const detail = `exited with code ${end.exitCode}`;
  log.line(detail);
  return { checks: [{ name: 'exit code', ok: end.exitCode === 0, detail: end.exitCode === 0 ? detail : `${detail}, expected 0` }], value: end.exitCode };
}

/** Runs the argv as given (no shell), judged by its exit code: 0 passes. */
export async function runShellCommand(
  op: ShellCommandOperation,
  context: { signal: AbortSignal; log: OperationLog; hostEnvironment: Readonly<Record<string, string | undefined>> },
): Promise<Outcome> {
  const { log } = context;
  const [command, ...args] = op.command;
  const timeoutSeconds = op.timeout_seconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS;
  log.line(commandLine(op));
  if (op.working_directory !== undefined) {
    const dir = await stat(op.working_directory).catch(() => null);
    if (!dir?.isDirectory()) return judgeCommand(op, { notStarted: NOT_STARTED.noWorkingDirectory(op.working_directory) }, log);
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
    const code = end.startError.code;
    const notStarted =
      code === 'ENOENT' ? NOT_STARTED.noProgram(command!) : code === 'EACCES' ? NOT_STARTED.notExecutable(command!) : `could not start ${command}: ${end.startError.message}`;
    return judgeCommand(op, { notStarted }, log);
  }
  return judgeCommand(op, end, log);
}
