import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { GitError } from './git-error.ts';

/** What one git process is started with: `git` + `argv`, in exactly `env`. */
export interface GitInvocation {
  argv: string[];
  env: Record<string, string>;
}

/** Settings git and ssh need from the worker's environment; nothing else (no Drydock secrets, no GIT_TRACE) reaches them. */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'TMPDIR',
  'SSH_AUTH_SOCK',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
];

/**
 * Pure. Git reads no user or system config (a credential helper or askpass there could prompt and hang),
 * never prompts, speaks English (so failures can be told apart), and takes pathspecs literally.
 */
export function gitInvocation(input: {
  gitDir?: string;
  args: string[];
  baseEnv: Readonly<Record<string, string | undefined>>;
  extraEnv?: Readonly<Record<string, string>>;
}): GitInvocation {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = input.baseEnv[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, {
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_LITERAL_PATHSPECS: '1',
    GIT_NO_REPLACE_OBJECTS: '1',
    ...input.extraEnv,
  });
  const argv = [
    ...(input.gitDir === undefined ? [] : [`--git-dir=${input.gitDir}`]),
    '-c', 'credential.helper=',
    '-c', 'core.askPass=',
    '-c', 'gc.autoDetach=false',
    '-c', 'maintenance.autoDetach=false',
    ...input.args,
  ];
  return { argv, env };
}

export interface GitRun {
  gitDir?: string;
  args: string[];
  extraEnv?: Readonly<Record<string, string>>;
  /** Cut from stderr before it is returned. */
  secrets?: readonly string[];
  input?: string;
  timeoutMs: number;
}

export interface GitResult {
  exitCode: number | null;
  timedOut: boolean;
  stdout: Buffer;
  /** Redacted of `secrets`. */
  stderr: string;
}

// eslint-disable-next-line no-restricted-syntax -- git and ssh need PATH, HOME and proxy settings; gitInvocation passes on only those.
const workerEnv = process.env;

/** Starts git in its own process group, so `killGroup` also ends the ssh or remote-https helpers it started. */
export function spawnGit(run: Pick<GitRun, 'gitDir' | 'args' | 'extraEnv'>): ChildProcessByStdio<Writable, Readable, Readable> {
  const { argv, env } = gitInvocation({ gitDir: run.gitDir, args: run.args, baseEnv: workerEnv, extraEnv: run.extraEnv });
  return spawn('git', argv, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function runGit(run: GitRun): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawnGit(run);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, Math.max(1, run.timeoutMs));
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new GitError('other', 'git is not installed or not on the PATH') : err);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({
        exitCode,
        timedOut,
        stdout: Buffer.concat(stdout),
        stderr: redact(Buffer.concat(stderr).toString('utf8'), run.secrets ?? []),
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(run.input);
  });
}

export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***');
  return out;
}
