import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { access, chmod, constants, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve, win32 } from 'node:path';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import type { Interpreter, ParamValue } from '@drydock/core/manifest';
import { renderCommand } from '@drydock/core/manifest';
import { lineSplitter, paramEnvName, secretMasker, stderrTail } from '@drydock/core/job-data';

export { paramEnvName, secretMasker };
import { type ProcessLimits, prlimitArgs } from './resource-limits.ts';

import type { ScriptExit, ScriptLine } from '@drydock/core/job-data';

export type { ScriptExit, ScriptLine };

/** Starts a process as child_process.spawn does; tests pass their own to see what would be started and ended. */
export type Spawner = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

type InterpreterCommand = { name: string; command: string; args: string[]; extension: string };

/** `name` is the command as an operator lists it in allowed_commands; `command` is what is started. */
const POSIX_INTERPRETERS: Record<Interpreter, InterpreterCommand> = {
  bash: { name: 'bash', command: 'bash', args: [], extension: '.sh' },
  sh: { name: 'sh', command: 'sh', args: [], extension: '.sh' },
  python: { name: 'python3', command: 'python3', args: [], extension: '.py' },
  powershell: { name: 'pwsh', command: 'pwsh', args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'], extension: '.ps1' },
  node: { name: 'node', command: process.execPath, args: [], extension: '.mjs' },
};

/** Windows PowerShell 5.1 ships with every Windows; its default execution policy would refuse the unsigned script file. */
const WINDOWS_INTERPRETERS: Record<Interpreter, InterpreterCommand> = {
  bash: { name: 'bash', command: 'bash', args: [], extension: '.sh' },
  sh: { name: 'sh', command: 'sh', args: [], extension: '.sh' },
  python: { name: 'python', command: 'python', args: [], extension: '.py' },
  powershell: {
    name: 'powershell',
    command: 'powershell.exe',
    args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File'],
    extension: '.ps1',
  },
  node: { name: 'node', command: process.execPath, args: [], extension: '.mjs' },
};

export function interpreterCommands(platform: NodeJS.Platform = process.platform): Record<Interpreter, InterpreterCommand> {
  return platform === 'win32' ? WINDOWS_INTERPRETERS : POSIX_INTERPRETERS;
}

/** The interpreters of the platform this agent runs on. */
export const INTERPRETER_COMMAND = interpreterCommands();

/** The agent's own environment stays out of scripts (it holds the agent's token); only these pass through. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];
/** Windows programs need more of it: without SystemRoot, PowerShell and .NET fail before the script runs. */
const WINDOWS_INHERITED_ENV = [
  'PATH', 'PATHEXT', 'SystemRoot', 'SystemDrive', 'windir', 'ComSpec', 'TEMP', 'TMP', 'USERPROFILE', 'USERNAME', 'USERDOMAIN',
  'COMPUTERNAME', 'APPDATA', 'LOCALAPPDATA', 'ProgramData', 'ProgramFiles', 'ProgramFiles(x86)', 'ProgramW6432', 'CommonProgramFiles',
  'PSModulePath', 'NUMBER_OF_PROCESSORS', 'PROCESSOR_ARCHITECTURE', 'OS', 'TZ', 'LANG',
];
const KILL_GRACE_MS = 3_000;

/** Where a command word leads, as the script's spawn would find it: on the agent's PATH, or a path from `cwd`. */
export async function resolveCommand(word: string, cwd: string): Promise<string | undefined> {
  const executable = async (file: string) => {
    try {
      await access(file, constants.X_OK);
      return (await stat(file)).isFile();
    } catch {
      return false;
    }
  };
  if (word === '') return undefined;
  if (word.includes('/')) {
    const file = resolve(cwd, word);
    return (await executable(file)) ? file : undefined;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const file = resolve(cwd, dir || '.', word);
    if (await executable(file)) return file;
  }
  return undefined;
}


function asText(value: ParamValue): string {
  return Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : String(value);
}

/**
 * Parameters go in as data: environment variables for all; for a script, `--name=value` argv for the
 * non-secret ones; for a command template, the words it renders to. No shell ever parses a value.
 */
export function scriptInvocation(
  job: AgentScriptJob,
  scriptFile: string,
  base: NodeJS.ProcessEnv,
  extra: Record<string, string>,
  platform: NodeJS.Platform = process.platform,
) {
  const env = scriptEnvironment(job, extra, base, platform);
  if (job.commandTemplate !== null) {
    const [command, ...argv] = renderCommand(job.commandTemplate, job.params);
    return { command: command!, argv, env };
  }
  const interpreter = interpreterCommands(platform)[job.interpreter!];
  const argv: string[] = [...interpreter.args, scriptFile];
  for (const [name, value] of Object.entries(job.params)) {
    if (!job.secretNames.includes(name)) argv.push(`--${name}=${asText(value)}`);
  }
  return { command: interpreter.command, argv, env };
}

/** The variables a job's script runs with: a few of the agent's own, the run's, and every parameter. */
export function scriptEnvironment(
  job: AgentScriptJob,
  extra: Record<string, string>,
  base: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (platform === 'win32') {
    // Windows variable names ignore case: the agent's may be spelt Path or SYSTEMROOT.
    const byName = new Map(Object.entries(base).map(([k, v]) => [k.toUpperCase(), v]));
    for (const key of WINDOWS_INHERITED_ENV) {
      const value = byName.get(key.toUpperCase());
      if (value !== undefined) env[key] = value;
    }
  } else {
    for (const key of INHERITED_ENV) if (base[key] !== undefined) env[key] = base[key]!;
  }
  Object.assign(env, extra);
  for (const [name, value] of Object.entries(job.params)) env[paramEnvName(name)] = asText(value);
  return env;
}

const PGID_FILE = '.drydock-pgid';

/**
 * At agent start: an attempt directory whose agent process is gone belongs to a run whose agent died. Its
 * script's process group is killed (Temporal retries or fails the attempt; nothing should still run for it)
 * and the directory removed. Directories of a live agent (another agent process sharing the directory) are
 * left alone. Returns what was cleaned, for the log.
 */
export async function reapOrphans(
  workRoot: string,
  { platform = process.platform, spawn: spawner = spawn }: { platform?: NodeJS.Platform; spawn?: Spawner } = {},
): Promise<{ dir: string; pgid: number | null; killed: boolean }[]> {
  const out: { dir: string; pgid: number | null; killed: boolean }[] = [];
  const entries = await readdir(workRoot, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(workRoot, entry.name);
    const raw = await readFile(join(dir, PGID_FILE), 'utf8').catch(() => undefined);
    const match = (platform === 'win32' ? /^(\d+) (\d+) (\S+)$/ : /^(\d+) (\d+)$/).exec(raw?.trim() ?? '');
    if (!match) continue;
    const [owner, pgid] = [Number(match[1]), Number(match[2])];
    if (owner !== process.pid && processAlive(owner)) continue;
    let killed = false;
    if (platform === 'win32') {
      // Windows soon gives a dead process's id to another: end it only while it is still the script's program.
      killed = await taskkill(spawner, ['/T', '/F', '/FI', `IMAGENAME eq ${match[3]}`, '/PID', String(pgid)]);
    } else {
      try {
        process.kill(-pgid, 'SIGKILL');
        killed = true;
      } catch {
        // the group is already gone
      }
    }
    await rm(dir, { recursive: true, force: true });
    out.push({ dir, pgid, killed });
  }
  return out;
}

/**
 * Runs `taskkill` with `args`; resolves whether it ended something. `/T` ends the tree, found from each
 * process's parent id: Windows has no process groups.
 */
export function taskkill(spawner: Spawner, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const killer = spawner('taskkill', args, { windowsHide: true, stdio: 'ignore' });
    killer.once('error', () => resolve(false));
    killer.once('exit', (code) => resolve(code === 0));
  });
}

/** What Windows calls a program in the process list (IMAGENAME): its file name, with .exe when the command left it out. */
export function imageName(command: string): string {
  const base = win32.basename(command);
  return win32.extname(base) ? base : `${base}.exe`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface RunScriptOptions {
  job: AgentScriptJob;
  workDir: string;
  extraEnv: Record<string, string>;
  onLine: (line: ScriptLine) => void;
  signal: AbortSignal;
  /** Limits the kernel enforces on the script's processes, set by `prlimit` before it starts the script. */
  limits?: ProcessLimits & { prlimit: string };
  /** Leave the work directory once the process has ended, for the caller to capture from and then remove. */
  keepWorkDir?: boolean;
  /** Where the agent runs: Windows has no process groups, so its scripts are ended by `taskkill /T`. */
  platform?: NodeJS.Platform;
  spawn?: Spawner;
}

/** On Windows, how long output may stay open after the script exited: a process it left behind may hold the pipes. */
const WINDOWS_DRAIN_MS = 2_000;

/**
 * Runs a script in its own process group (on Windows: as the root of a process tree), so cancel and timeout
 * kill everything it started, and streams its output line by line with secret values masked.
 */
export async function runScriptProcess(options: RunScriptOptions): Promise<ScriptExit> {
  const { job, onLine, signal } = options;
  const platform = options.platform ?? process.platform;
  const windows = platform === 'win32';
  const spawner = options.spawn ?? spawn;
  const interpreters = interpreterCommands(platform);
  if (job.commandTemplate === null && (job.interpreter === null || !Object.hasOwn(interpreters, job.interpreter))) {
    throw new Error(`interpreter ${String(job.interpreter)} is not one this agent runs (${Object.keys(interpreters).join(', ')}); upgrade the agent`);
  }
  await mkdir(options.workDir, { recursive: true, mode: 0o700 });
  const scriptFile = join(options.workDir, `script${job.interpreter ? interpreters[job.interpreter].extension : ''}`);
  if (job.commandTemplate === null) {
    await writeFile(scriptFile, job.content ?? '', { mode: 0o700 });
    await chmod(scriptFile, 0o700);
  }

  const { command, argv, env } = scriptInvocation(job, scriptFile, process.env, options.extraEnv, platform);
  const mask = secretMasker(job);
  const tail = stderrTail();
  const started = Date.now();
  let timedOut = false;
  let cancelled = false;

  const limitArgs = options.limits ? prlimitArgs(options.limits) : [];
  let spawned: { command: string; argv: string[] } = { command, argv };
  if (limitArgs.length > 0) {
    // prlimit sets the limits on itself and then execs the script's command: same pid, same process group.
    const resolved = await resolveCommand(command, options.workDir);
    if (!resolved) {
      await rm(options.workDir, { recursive: true, force: true });
      throw new Error(`could not start ${command} for ${job.scriptPath ?? 'the command template'}: not found on PATH (ENOENT)`);
    }
    spawned = { command: options.limits!.prlimit, argv: [...limitArgs, '--', resolved, ...argv] };
  }
  // detached on Windows would give the script a console window of its own, not a process group.
  const child = windows
    ? spawner(spawned.command, spawned.argv, { cwd: options.workDir, env, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawner(spawned.command, spawned.argv, { cwd: options.workDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // If the agent dies, its next start finds this and ends the group it left behind.
  // Synchronously: an await here would let a fast script's exit event fire before anyone listens for it.
  if (child.pid) {
    try {
      writeFileSync(join(options.workDir, PGID_FILE), windows ? `${process.pid} ${child.pid} ${imageName(spawned.command)}` : `${process.pid} ${child.pid}`);
    } catch {
      // without the file, only a crash of this agent would leave the group behind
    }
  }
  let treeKilled = false;
  const killGroup = (sig: NodeJS.Signals) => {
    if (windows) {
      // taskkill /F is already the hardest stop there is: once is enough.
      if (child.pid && !treeKilled) void taskkill(spawner, ['/T', '/F', '/PID', String(child.pid)]);
      treeKilled = true;
      return;
    }
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // the group is already gone
    }
  };
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    // Windows has no SIGTERM for a console program: the tree is ended at once.
    killGroup('SIGTERM');
    if (!windows) killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };

  const timeout = setTimeout(() => {
    timedOut = true;
    stop();
  }, job.timeoutSeconds * 1000);
  const onAbort = () => {
    cancelled = true;
    stop();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  const pipe = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr') => {
    const lines = lineSplitter(mask, (line) => {
      if (name === 'stderr') {
        tail.add(line);
      }
      onLine({ stream: name, line, ts: new Date() });
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => lines.push(chunk));
    return new Promise<void>((resolve) =>
      stream.once('end', () => {
        lines.end();
        resolve();
      }),
    );
  };

  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exit = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, sig) => resolve({ code, sig })),
  );
  // stdio is ['ignore', 'pipe', 'pipe']: both streams are there.
  const drained = Promise.all([pipe(child.stdout!, 'stdout'), pipe(child.stderr!, 'stderr')]);
  const first = await Promise.race([exit, spawnError]);
  clearTimeout(timeout);
  signal.removeEventListener('abort', onAbort);
  if (first instanceof Error) {
    await rm(options.workDir, { recursive: true, force: true });
    throw new Error(`could not start ${command} for ${job.scriptPath ?? 'the command template'}: ${first.message}`);
  }
  clearTimeout(killTimer);
  if (windows) {
    // The tree is known only while its root runs: what the script left behind is out of reach now.
    let late: NodeJS.Timeout | undefined;
    const timedOutDrain = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => (late = setTimeout(() => resolve(true), WINDOWS_DRAIN_MS))),
    ]);
    clearTimeout(late);
    if (timedOutDrain) {
      child.stdout?.destroy();
      child.stderr?.destroy();
      onLine({
        stream: 'system',
        line: `the script exited, but a process it started still holds its output open and may still be running: on Windows the agent ends a script's processes only while the script runs`,
        ts: new Date(),
      });
    }
  } else {
    // Background children of the script would keep the pipes open: the run is over, so end the whole group.
    killGroup('SIGKILL');
    await drained;
  }
  if (!options.keepWorkDir) await rm(options.workDir, { recursive: true, force: true });

  return {
    exitCode: first.code,
    signal: first.sig,
    timedOut,
    cancelled,
    durationMs: Date.now() - started,
    stderrTail: tail.text(),
  };
}
