import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as hostPath from 'node:path';
import { basename, dirname, join, resolve, win32 } from 'node:path';
import type { AgentScriptJob } from '@drydock/core/run-contract';
import { renderCommand } from '@drydock/core/manifest';
import { type Operation, renderOperation } from '@drydock/core/operations';
import type { AgentSettings } from './agent-config.ts';
import { notEnforcedOnWindows, type ProcessLimits } from './resource-limits.ts';
import { INTERPRETER_COMMAND, resolveCommand } from './script-runner.ts';

/** What this agent lets a job do, checked before anything runs. */
export interface JobPolicy {
  /** Unset: any command. */
  allowedCommands?: string[];
  forbiddenPaths: string[];
  defaultTimeoutSeconds: number;
  maxExecutionSeconds?: number;
  /** Set on the script's processes by prlimit; absent when no process limit is configured. */
  limits?: ProcessLimits & { prlimit: string };
  /** On Windows, the configured limits this agent cannot set, as the line every run's log starts with. */
  notEnforced?: string;
  /** Set to win32 on Windows, where paths have drive letters and backslashes, and ignore case. */
  platform?: NodeJS.Platform;
  sourceOf: AgentSettings['sourceOf'];
}

export function jobPolicy(settings: AgentSettings, prlimit: string | undefined, platform: NodeJS.Platform = process.platform): JobPolicy {
  const { cpuSeconds, memoryMb, maxProcesses } = settings.limits;
  return {
    allowedCommands: settings.allowedCommands,
    forbiddenPaths: settings.forbiddenPaths,
    defaultTimeoutSeconds: settings.defaultTimeoutSeconds,
    maxExecutionSeconds: settings.limits.maxExecutionSeconds,
    limits: prlimit ? { prlimit, cpuSeconds, memoryMb, maxProcesses } : undefined,
    ...(platform === 'win32' ? { notEnforced: notEnforcedOnWindows(settings.limits, settings.sourceOf), platform } : {}),
    sourceOf: settings.sourceOf,
  };
}

/** A job this agent will not run; the message is what the run page shows. */
export class JobRefusedError extends Error {}

/**
 * The job's timeout on this host: its own (or the agent's default_timeout when it carries none),
 * capped by max_execution_seconds, with a line for the log when the agent changed it.
 */
export function jobTimeout(job: AgentScriptJob, policy: JobPolicy): { seconds: number; note?: string } {
  const own = Number.isFinite(job.timeoutSeconds) && job.timeoutSeconds > 0 ? job.timeoutSeconds : undefined;
  const asked = own ?? policy.defaultTimeoutSeconds;
  const max = policy.maxExecutionSeconds;
  if (max !== undefined && max < asked) {
    return {
      seconds: max,
      note: `timeout lowered from ${asked} s to ${max} s by this agent's resource_limits.max_execution_seconds (from ${policy.sourceOf('resource_limits.max_execution_seconds')})`,
    };
  }
  if (own === undefined) return { seconds: asked, note: `the job carries no timeout; this agent's default_timeout of ${asked} s applies` };
  return { seconds: asked };
}

/** `/bin/bash` and `/usr/bin/bash` on a merged /usr are one file; `sh` and `bash` stay two names even where one links to the other. */
async function commandIdentity(file: string): Promise<string> {
  try {
    return join(await realpath(dirname(file)), basename(file));
  } catch {
    return file;
  }
}

/** How paths read where the agent runs: Windows ones have drive letters and backslashes, and ignore case as NTFS does. */
interface PathRules {
  path: typeof hostPath.posix;
  fold: (p: string) => string;
  windows: boolean;
}

function pathRules(platform: NodeJS.Platform | undefined): PathRules {
  return platform === 'win32' ? { path: win32, fold: (p) => p.toLowerCase(), windows: true } : { path: hostPath, fold: (p) => p, windows: false };
}

/** The path with every symlink of its existing part resolved (as the kernel would), the rest taken as written. */
async function realLocation(path: string, { path: p }: PathRules): Promise<string> {
  let head = path;
  const rest: string[] = [];
  for (;;) {
    try {
      return p.resolve(await realpath(head), ...rest);
    } catch {
      const parent = p.dirname(head);
      if (parent === head) return p.resolve(path);
      rest.unshift(p.basename(head));
      head = parent;
    }
  }
}

function within(path: string, root: string, { path: p, fold }: PathRules): boolean {
  const [a, b] = [fold(path), fold(root)];
  return a === b || a.startsWith(b.endsWith(p.sep) ? b : `${b}${p.sep}`);
}

/** The words of a value that name a file: whole, and split where a shell or an option would split it. */
function pathWords(value: string, { windows }: PathRules): string[] {
  const words = new Set<string>();
  // On Windows a drive letter's colon is part of the path (C:\Windows), and a backslash makes one too.
  const looksLikePath = windows
    ? (w: string) => /[/\\]/.test(w) || /^[A-Za-z]:/.test(w) || w === '~' || w === '..'
    : (w: string) => w.includes('/') || w === '~' || w === '..';
  if (looksLikePath(value.trim())) words.add(value.trim());
  for (const w of value.split(windows ? /[\s=,;"'`()<>|&{}[\]]+/ : /[\s=,;:"'`()<>|&{}[\]]+/)) if (looksLikePath(w)) words.add(w);
  return [...words];
}

/** A host operation with the job's values filled in, to see what it will touch; undefined if it cannot be filled (it will fail as it runs). */
function renderedOperation(job: AgentScriptJob): Operation | undefined {
  try {
    return job.operation ? renderOperation(job.operation, job.params) : undefined;
  } catch {
    return undefined;
  }
}

/** The words of a job that are not its parameters: a command template's, or a host operation's command, directory and path. */
function jobWords(job: AgentScriptJob): { label: (i: number) => string; words: string[] } {
  if (job.commandTemplate !== null) return { label: (i) => `word ${i + 1} of the command template`, words: renderCommand(job.commandTemplate, job.params) };
  const op = renderedOperation(job);
  if (op?.type === 'shell_command') {
    const words = [...op.command, ...(op.working_directory ? [op.working_directory] : [])];
    return { label: (i) => (i < op.command.length ? `word ${i + 1} of the shell_command` : 'the working_directory of the shell_command'), words };
  }
  if (op?.type === 'file_validation') return { label: () => 'the path of the file_validation', words: [op.path] };
  return { label: () => '', words: [] };
}

async function checkCommand(job: AgentScriptJob, policy: JobPolicy, workDir: string): Promise<void> {
  const allowed = policy.allowedCommands;
  if (!allowed) return;
  let what: string;
  let word: string;
  let file: string | undefined;
  if (job.operation) {
    // Only a shell_command starts a program; the other operations run inside the agent.
    const op = renderedOperation(job);
    if (op?.type !== 'shell_command') return;
    what = 'the shell_command operation';
    word = op.command[0] ?? '';
    file = await resolveCommand(word, op.working_directory ?? workDir);
  } else if (job.commandTemplate !== null) {
    what = 'the command template';
    word = renderCommand(job.commandTemplate, job.params)[0] ?? '';
    file = await resolveCommand(word, workDir);
  } else {
    what = `script ${job.scriptPath ?? job.scriptId}`;
    const interpreter = job.interpreter === null ? undefined : INTERPRETER_COMMAND[job.interpreter];
    // An interpreter this agent does not know fails as it starts, with its own message.
    if (!interpreter) return;
    word = interpreter.name;
    file = interpreter.command.includes('/') ? interpreter.command : await resolveCommand(interpreter.command, workDir);
  }
  const identity = file ? await commandIdentity(file) : undefined;
  for (const entry of allowed) {
    if (!entry.includes('/')) {
      // A bare name allows what that name finds on PATH, and only that: not another file of the same name.
      if (!word.includes('/') && word === entry) return;
      const found = await resolveCommand(entry, workDir);
      if (identity && found && (await commandIdentity(found)) === identity) return;
    } else if (identity && (await commandIdentity(resolve(entry))) === identity) {
      return;
    }
  }
  const where = word.includes('/') && file ? ` (${file})` : '';
  throw new JobRefusedError(
    `refused: ${what} runs ${word || 'no command'}${where}, which is not in this agent's allowed_commands (${allowed.join(', ')}; from ${policy.sourceOf('allowed_commands')}); run it on a host that allows ${word || 'it'}, or ask this host's operator to add it`,
  );
}

async function checkPaths(job: AgentScriptJob, policy: JobPolicy, workDir: string): Promise<void> {
  if (policy.forbiddenPaths.length === 0) return;
  const rules = pathRules(policy.platform);
  const { path } = rules;
  const roots = await Promise.all(policy.forbiddenPaths.map(async (entry) => ({ entry, forms: [path.resolve(entry), await realLocation(entry, rules)] })));
  const home = homedir();
  const homeRelative = rules.windows ? /^~[/\\]/ : /^~\//;
  const locate = async (word: string) => {
    const expanded = word === '~' ? home : homeRelative.test(word) ? `${home}${word.slice(1)}` : word;
    // Lexically and through symlinks: `..` after a symlink climbs from the link's target, as the kernel does.
    const forms = [path.resolve(workDir, expanded), await realLocation(path.isAbsolute(expanded) ? expanded : `${workDir}${path.sep}${expanded}`, rules)];
    const root = roots.find((r) => forms.some((f) => r.forms.some((rf) => within(f, rf, rules))));
    return root ? { root: root.entry, resolved: forms.find((f) => root.forms.some((rf) => within(f, rf, rules)))! } : undefined;
  };
  const rule = `forbidden_paths, from ${policy.sourceOf('forbidden_paths')}`;

  for (const [name, value] of Object.entries(job.params)) {
    const values = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    for (const v of values) {
      for (const word of pathWords(v, rules)) {
        const hit = await locate(word);
        if (!hit) continue;
        if (job.secretNames.includes(name)) {
          throw new JobRefusedError(`refused: secret parameter "${name}" names a path under ${hit.root}, which this agent forbids (${rule}); nothing ran`);
        }
        const shown = hit.resolved === word ? word : `${word}, which resolves to ${hit.resolved}`;
        throw new JobRefusedError(`refused: parameter "${name}" names ${shown}, under ${hit.root}, which this agent forbids (${rule}); nothing ran`);
      }
    }
  }
  const { label, words } = jobWords(job);
  for (const [i, w] of words.entries()) {
    for (const word of pathWords(w, rules)) {
      const hit = await locate(word);
      if (!hit) continue;
      const shown = hit.resolved === word ? word : `${word}, which resolves to ${hit.resolved}`;
      throw new JobRefusedError(`refused: ${label(i)} names ${shown}, under ${hit.root}, which this agent forbids (${rule}); nothing ran`);
    }
  }
}

/**
 * Refuses a job this host's policy does not allow, before anything is written or started: a command outside
 * allowed_commands, or a parameter, command word or operation path that names a path under forbidden_paths.
 */
export async function checkJob(job: AgentScriptJob, policy: JobPolicy, workDir: string): Promise<void> {
  await checkCommand(job, policy, workDir);
  await checkPaths(job, policy, workDir);
}
