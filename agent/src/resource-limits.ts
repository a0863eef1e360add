import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** The kernel limits set on a script's processes (RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC). */
export interface ProcessLimits {
  cpuSeconds?: number;
  memoryMb?: number;
  maxProcesses?: number;
}

/** Past its CPU limit a process gets SIGXCPU, then SIGKILL this many seconds later if it carries on. */
const CPU_KILL_AFTER_SECONDS = 2;
/** What a shell returns when a command it ran died of SIGXCPU (128 + 24). */
const SHELL_SIGXCPU_EXIT = 152;
const DEFAULT_PRLIMIT = '/usr/bin/prlimit';

export function hasProcessLimits(limits: ProcessLimits): boolean {
  return limits.cpuSeconds !== undefined || limits.memoryMb !== undefined || limits.maxProcesses !== undefined;
}

export function prlimitArgs(limits: ProcessLimits): string[] {
  const args: string[] = [];
  if (limits.cpuSeconds !== undefined) args.push(`--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + CPU_KILL_AFTER_SECONDS}`);
  if (limits.memoryMb !== undefined) args.push(`--as=${limits.memoryMb * 1024 * 1024}`);
  if (limits.maxProcesses !== undefined) args.push(`--nproc=${limits.maxProcesses}`);
  return args;
}

/** The prlimit binary (util-linux), checked by running it: resource limits are never silently skipped. */
export async function locatePrlimit(candidate = DEFAULT_PRLIMIT): Promise<string> {
  try {
    await promisify(execFile)(candidate, ['--version'], { timeout: 5_000 });
    return candidate;
  } catch (err) {
    throw new Error(
      `resource_limits need prlimit from util-linux, and ${candidate} could not be run (${(err as Error).message.split('\n')[0]}); install util-linux (apt-get install util-linux, dnf install util-linux) or remove resource_limits.cpu_seconds, memory_mb and max_processes`,
      { cause: err },
    );
  }
}

type LimitKey = 'resource_limits.cpu_seconds' | 'resource_limits.memory_mb' | 'resource_limits.max_processes';

/**
 * The line a run's log starts with on Windows when process limits are configured: there is no prlimit there,
 * and the agent puts scripts in no job object, so they run without them. Undefined when none is set.
 */
export function notEnforcedOnWindows(limits: ProcessLimits, sourceOf: (key: LimitKey) => string): string | undefined {
  const set: [LimitKey, number | undefined][] = [
    ['resource_limits.cpu_seconds', limits.cpuSeconds],
    ['resource_limits.memory_mb', limits.memoryMb],
    ['resource_limits.max_processes', limits.maxProcesses],
  ];
  const named = set.filter(([, v]) => v !== undefined).map(([key, v]) => `${key} = ${v} (from ${sourceOf(key)})`);
  if (named.length === 0) return undefined;
  return `not enforced on Windows: ${named.join(', ')}; this script runs without ${named.length === 1 ? 'that limit' : 'those limits'}. Only resource_limits.max_execution_seconds applies there; remove the others from this agent's settings to silence this line`;
}

/**
 * System lines that say which limit most likely ended a script, since the kernel's signal or a failed
 * allocation alone does not tell the reader that the agent set a limit.
 */
export function explainExit(
  exit: { exitCode: number | null; signal: string | null; timedOut: boolean; cancelled: boolean; stderrTail: string },
  limits: ProcessLimits,
  sourceOf: (key: LimitKey) => string,
): string[] {
  if (exit.timedOut || exit.cancelled) return [];
  const lines: string[] = [];
  const cpu = limits.cpuSeconds;
  if (cpu !== undefined) {
    const rule = `resource_limits.cpu_seconds = ${cpu}, from ${sourceOf('resource_limits.cpu_seconds')}`;
    if (exit.signal === 'SIGXCPU') lines.push(`the script used up its CPU time limit of ${cpu} s and was killed by SIGXCPU (${rule})`);
    else if (exit.signal === 'SIGKILL') lines.push(`killed by SIGKILL: a script that carries on past its CPU time limit of ${cpu} s gets SIGKILL (${rule}); so does one the kernel's OOM killer picks`);
    else if (exit.exitCode === SHELL_SIGXCPU_EXIT) lines.push(`exit code ${SHELL_SIGXCPU_EXIT} is what a shell returns when a command it ran used up its CPU time limit of ${cpu} s and got SIGXCPU (${rule})`);
  }
  const memory = limits.memoryMb;
  if (memory !== undefined && exit.exitCode !== 0 && /MemoryError|Cannot allocate memory|out of memory|bad_alloc|allocation failed|ENOMEM/i.test(exit.stderrTail)) {
    lines.push(`the script could not get more memory: this agent limits each of its processes to ${memory} MB of address space (resource_limits.memory_mb = ${memory}, from ${sourceOf('resource_limits.memory_mb')})`);
  }
  const nproc = limits.maxProcesses;
  if (nproc !== undefined && exit.exitCode !== 0 && /Resource temporarily unavailable|fork: retry|EAGAIN/i.test(exit.stderrTail)) {
    lines.push(`the script could not start more processes: this agent's user may run at most ${nproc} (resource_limits.max_processes = ${nproc}, from ${sourceOf('resource_limits.max_processes')})`);
  }
  return lines;
}
