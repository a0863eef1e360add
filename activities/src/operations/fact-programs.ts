import { type FileValidationOperation, type OperationLog, type Outcome, parseFileCheck, type ServiceHealthOperation, type ShellCommandOperation } from '@drydock/core/operations';
import type { HostProgram } from '../transport/program-facts.ts';
import { CONTAINS_READ_LIMIT, type FileView } from './file-validation.ts';
import type { OperationContext } from './run-operation.ts';
import { type HttpExchange, judgeHttp } from './service-health.ts';
import { type CommandEnd, DEFAULT_COMMAND_TIMEOUT_SECONDS, judgeCommand, NOT_STARTED } from './shell-command.ts';

// What the SSH and WinRM operation executors share: programs on the host that report tagged facts.

/** The facts a look-only program reported, in order. */
export interface FactRun {
  facts: [string, string][];
}

/** The first value the program reported under `key`. */
export function fact(run: FactRun, key: string): string | undefined {
  return run.facts.find(([k]) => k === key)?.[1];
}

/** What a program that only reports facts says on stderr is a problem it met: the log keeps it. */
export function complaints(context: OperationContext): (line: { stream: string; line: string }) => void {
  return (line) => {
    if (line.stream === 'stderr') context.log.line(line.line);
  };
}

/** The inputs of the HTTP check program, as data: both transports' programs read the same variables. */
export function httpCheckEnv(http: NonNullable<ServiceHealthOperation['http']>, timeoutSeconds: number): Record<string, string> {
  return {
    DRYDOCK_OP_URL: http.url,
    DRYDOCK_OP_METHOD: http.method ?? 'GET',
    DRYDOCK_OP_TIMEOUT: String(timeoutSeconds),
    DRYDOCK_OP_BODY: http.expect_body_contains === undefined ? '' : '1',
  };
}

/** The distinct needles of a file check's `contains:` checks, in order; a check that does not parse is validateFile's to report. */
export function containsNeedles(op: FileValidationOperation): string[] {
  const needles: string[] = [];
  for (const check of op.checks) {
    try {
      const parsed = parseFileCheck(check);
      if (parsed.kind === 'contains' && !needles.includes(parsed.needle)) needles.push(parsed.needle);
    } catch {
      // validateFile reports a check that does not parse.
    }
  }
  return needles;
}

/** The inputs of the file check program: the path and the needles to look for. */
export function fileCheckEnv(op: FileValidationOperation, needles: readonly string[]): Record<string, string> {
  const env: Record<string, string> = { DRYDOCK_OP_PATH: op.path, DRYDOCK_OP_NEEDLES: String(needles.length) };
  needles.forEach((needle, i) => (env[`DRYDOCK_OP_NEEDLE_${i}`] = needle));
  return env;
}

/** A shell_command's working directory and environment, added to `env` as the command programs read them. */
export function commandEnv(op: ShellCommandOperation, env: Record<string, string> = {}): Record<string, string> {
  if (op.working_directory !== undefined) env.DRYDOCK_OP_CWD = op.working_directory;
  const variables = Object.entries(op.environment ?? {});
  env.DRYDOCK_OP_ENVS = String(variables.length);
  variables.forEach(([name, value], i) => {
    env[`DRYDOCK_OP_ENV_NAME_${i}`] = name;
    env[`DRYDOCK_OP_ENV_VALUE_${i}`] = value;
  });
  return env;
}

/** Why a look-only program gave no facts: cancelled or too slow; null when it ran to its end. */
export function programEnded(run: { exit: { cancelled: boolean; timedOut: boolean } }, what: string, seconds: number): string | null {
  if (run.exit.cancelled) return 'cancelled';
  if (run.exit.timedOut) return `${what} gave no answer within ${seconds} s`;
  return null;
}

/** The bytes a program sent as base64 pieces under `key`. */
export function factBytes(run: FactRun, key: string): Buffer {
  return Buffer.from(
    run.facts
      .filter(([k]) => k === key)
      .map(([, value]) => value)
      .join(''),
    'base64',
  );
}

/** Whether the file check program found `needle` in the first CONTAINS_READ_LIMIT bytes of a file `length` long. */
export function needleSearch(run: FactRun, needles: readonly string[], needle: string, length: number): Awaited<ReturnType<FileView['search']>> {
  const i = needles.indexOf(needle);
  const found = run.facts.find(([key, value]) => key === 'found' && value.startsWith(`${i} `))?.[1];
  if (found === undefined) return { error: 'the host did not say' };
  return { found: found.endsWith(' yes'), complete: length <= CONTAINS_READ_LIMIT, length: Math.min(length, CONTAINS_READ_LIMIT) };
}

/** service_health's HTTP check as `program` on the host: the check's own timeout, plus `marginSeconds` for the program. */
export function httpCheckByProgram<R extends FactRun>(
  http: NonNullable<ServiceHealthOperation['http']>,
  context: OperationContext,
  { program, marginSeconds }: { program: string; marginSeconds: number },
  runProgram: (spec: HostProgram) => Promise<R>,
  read: (run: R, url: string, timeoutSeconds: number) => HttpExchange,
): Promise<Outcome> {
  return judgeHttp(http, context.log, async (timeoutSeconds) => {
    const run = await runProgram({
      program,
      env: httpCheckEnv(http, timeoutSeconds),
      timeoutSeconds: timeoutSeconds + marginSeconds,
      what: 'the HTTP check',
      onOutput: complaints(context),
    });
    return read(run, http.url, timeoutSeconds);
  });
}

/** A check that failed before anything could be judged: logged, and the outcome. */
export function failedCheck(log: OperationLog, name: string, detail: string): Outcome {
  log.line(`FAILED ${name}: ${detail}`);
  return { checks: [{ name, ok: false, detail }], value: null };
}

/** shell_command as `program` on the host: the command's own lines go to the log, facts end once it starts. */
export function commandProgram(op: ShellCommandOperation, context: OperationContext, program: string, env: Record<string, string>): HostProgram {
  return {
    program,
    env,
    timeoutSeconds: op.timeout_seconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS,
    factsEndAt: 'start',
    what: `the command ${op.command[0]}`,
    onOutput: (line) => {
      if (line.stream !== 'system') context.log.line(line.line);
    },
  };
}

/** Judges a shell_command program's run: a refusal it reported before the command started (`own`: a host's own), else the command's end. */
export function judgeCommandRun(op: ShellCommandOperation, run: FactRun & { exit: CommandEnd }, log: OperationLog, own: Record<string, string>): Outcome {
  const refusals: Record<string, string> = { nocwd: NOT_STARTED.noWorkingDirectory(op.working_directory ?? ''), noprogram: NOT_STARTED.noProgram(op.command[0]!), ...own };
  const refusal = run.facts.find(([key]) => key !== 'start')?.[0];
  if (refusal !== undefined && Object.hasOwn(refusals, refusal)) return judgeCommand(op, { notStarted: refusals[refusal]! }, log);
  return judgeCommand(op, run.exit, log);
}
