import { spawn } from 'node:child_process';
import { lineSplitter, NO_SECRETS } from '@drydock/core/job-data';
import type { Readable } from 'node:stream';

export interface ProcessRun {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  signal: AbortSignal;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ProcessEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the program could not be started at all (ENOENT: not on PATH; EACCES: not executable). */
  startError: NodeJS.ErrnoException | null;
}

const KILL_GRACE_MS = 2_000;
const WINDOWS = process.platform === 'win32';

/** These, from the host's environment, are all a command inherits; the operation's own environment goes over them. */
export const INHERITED_ENV = WINDOWS ? ['PATH', 'HOME', 'LANG', 'TZ', 'SystemRoot', 'PATHEXT', 'TEMP', 'TMP'] : ['PATH', 'HOME', 'LANG', 'TZ'];

export function minimalEnvironment(host: Readonly<Record<string, string | undefined>>, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = host[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs argv without a shell in a process group of its own, so timeout, cancellation and the end of the main
 * process kill everything it started, and reports its output line by line.
 */
export async function runInProcessGroup(run: ProcessRun): Promise<ProcessEnd> {
  const child = spawn(run.command, [...run.args], {
    cwd: run.cwd,
    env: run.env,
    detached: !WINDOWS,
    windowsHide: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let timedOut = false;
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;

  const killGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      if (WINDOWS) spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true, stdio: 'ignore' }).on('error', () => {});
      else process.kill(-child.pid, sig);
    } catch {
      // the group has already gone
    }
  };
  const stop = () => {
    killGroup('SIGTERM');
    killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, run.timeoutMs);
  const onAbort = () => {
    cancelled = true;
    stop();
  };
  if (run.signal.aborted) onAbort();
  else run.signal.addEventListener('abort', onAbort, { once: true });

  const drained = Promise.all([readLines(child.stdout, (l) => run.onLine(l, 'stdout')), readLines(child.stderr, (l) => run.onLine(l, 'stderr'))]);
  const first = await new Promise<{ code: number | null; sig: NodeJS.Signals | null } | Error>((resolve) => {
    child.once('error', resolve);
    child.once('exit', (code, sig) => resolve({ code, sig }));
  });
  clearTimeout(timer);
  run.signal.removeEventListener('abort', onAbort);
  if (first instanceof Error) {
    clearTimeout(killTimer);
    child.stdout.destroy();
    child.stderr.destroy();
    return { exitCode: null, signal: null, timedOut, cancelled, startError: first };
  }
  // Background children would hold the pipes open: the command is over, so the whole group ends now.
  killGroup('SIGKILL');
  clearTimeout(killTimer);
  await drained;
  return { exitCode: first.code, signal: first.sig, timedOut, cancelled, startError: null };
}

function readLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  // An operation's command carries no secret: the manifest refuses secrets in it.
  const lines = lineSplitter(NO_SECRETS, onLine);
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => lines.push(chunk));
  return new Promise((resolve) => {
    const done = () => {
      lines.end();
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
  });
}
