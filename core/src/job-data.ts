import type { AgentScriptJob } from './run-contract.ts';
import { SECRET_MASK } from './secret-mask.ts';

// How a job's values look wherever they leave the script: variable names, masked output, snapshots, files.

/** Variable names whose values never leave the host in a snapshot, whatever they hold. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|KEY|CREDENTIAL/i;

/** The environment variable a parameter reaches the script as. */
export function paramEnvName(name: string): string {
  return `DRYDOCK_PARAM_${name.toUpperCase()}`;
}

/**
 * A line of a multi-line secret shorter than this is not masked on its own: it carries next to nothing of the
 * secret (a brace, `==`), and masking it would blank every such text in the log. The whole value always is.
 */
export const MIN_MASKED_SECRET_LINE = 3;

/** Replaces secret values in text; `longest` is the longest text it replaces, which a reader cutting lines must look past. */
export interface SecretMask {
  (text: string): string;
  readonly longest: number;
}

/**
 * Replaces the values of the job's secret parameters in a line; the longest first, so no part of one survives.
 * Output is split into lines before it is masked, so a multi-line secret (a PEM key) is also masked line by line:
 * each of its lines, trimmed, wherever it appears.
 */
export function secretMasker(job: Pick<AgentScriptJob, 'secretNames' | 'params'>): SecretMask {
  const values = job.secretNames.map((n) => job.params[n]).filter((v): v is string => typeof v === 'string' && v.length > 0);
  const texts = new Set<string>();
  for (const value of values) {
    texts.add(value);
    if (!/[\r\n]/.test(value)) continue;
    for (const line of value.split(/\r?\n|\r/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_MASKED_SECRET_LINE) texts.add(trimmed);
    }
  }
  const secrets = [...texts].sort((a, b) => b.length - a.length);
  const mask = (text: string) => secrets.reduce((out, s) => (out.includes(s) ? out.split(s).join(SECRET_MASK) : out), text);
  return Object.assign(secrets.length === 0 ? (text: string) => text : mask, { longest: secrets[0]?.length ?? 0 });
}

/** The mask of output that carries no job's secrets (host operations' own programs). */
export const NO_SECRETS: SecretMask = Object.assign((text: string) => text, { longest: 0 });

export const STDERR_TAIL_LINES = 20;
/** A failure's stderr tail fits a Temporal failure whatever the script wrote: the run's error quotes it. */
export const MAX_STDERR_TAIL_CHARS = 8_192;

/** The last lines a script wrote to stderr, already masked, for the run's error. */
export function stderrTail(): { add(line: string): void; text(): string } {
  const lines: string[] = [];
  return {
    add(line) {
      lines.push(line);
      if (lines.length > STDERR_TAIL_LINES) lines.shift();
    },
    text() {
      const text = lines.join('\n');
      return text.length > MAX_STDERR_TAIL_CHARS ? `…${text.slice(-MAX_STDERR_TAIL_CHARS)}` : text;
    },
  };
}

/** Longer lines are cut, with a note; the rest of such a line is dropped up to its newline. */
export const MAX_LINE = 16_384;

export interface LineSplitter {
  push(chunk: string): void;
  /** Emits what is left after the last newline. */
  end(): void;
}

/**
 * Splits a process's output into lines without their `\n` / `\r\n`, masks each whole line and only then cuts it
 * at MAX_LINE, so a secret that straddles the cut is masked, not half shown. The same on every transport.
 */
export function lineSplitter(mask: SecretMask, emit: (line: string) => void): LineSplitter {
  let partial = '';
  let dropping = false;
  let ended = false;
  const note = `… [line cut at ${MAX_LINE} characters]`;
  const send = (raw: string) => {
    const masked = mask(raw);
    emit(masked.length > MAX_LINE ? `${masked.slice(0, MAX_LINE)}${note}` : masked);
  };
  return {
    push(chunk) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) {
        if (dropping) dropping = false;
        else send(part.endsWith('\r') ? part.slice(0, -1) : part);
      }
      if (dropping) partial = '';
      else if (partial.length > MAX_LINE + mask.longest) {
        // The line goes on past what is kept. Its last `longest` characters may begin a secret whose end is still
        // to come, so they are not shown: everything before them is whole, and masked.
        const masked = mask(partial);
        emit(`${masked.slice(0, Math.min(MAX_LINE, masked.length - mask.longest))}${note}`);
        partial = '';
        dropping = true;
      }
    },
    end() {
      if (ended) return;
      ended = true;
      if (partial && !dropping) send(partial);
      partial = '';
    },
  };
}

/** The script's variables as a snapshot may show them: secret parameters, secret-looking names and secret values masked. */
export function maskEnvironment(job: Pick<AgentScriptJob, 'secretNames' | 'params'>, env: Record<string, string>): Record<string, string> {
  const secretVars = new Set(job.secretNames.map(paramEnvName));
  const mask = secretMasker(job);
  return Object.fromEntries(
    Object.keys(env)
      .sort()
      .map((name) => [name, SECRET_NAME.test(name) || secretVars.has(name) ? SECRET_MASK : mask(env[name]!)]),
  );
}

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.html': 'text/html; charset=utf-8',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.zip': 'application/zip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.pdf': 'application/pdf',
};

/** The content type a captured file is served with, by its extension. */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot > name.lastIndexOf('/') ? name.slice(dot).toLowerCase() : '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/** One line of a job's output as every executor reports it: the agent, SSH, WinRM and Docker. */
export interface ScriptLine {
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
  ts: Date;
}

/** How a job's process ended, whatever ran it. */
export interface ScriptExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  stderrTail: string;
}

const MB = 1024 * 1024;

/** DRYDOCK_ARTIFACT_MAX_FILE_MB and DRYDOCK_ARTIFACT_MAX_RUN_MB, in bytes. */
export interface CaptureLimits {
  maxFileBytes: number;
  /** All of one attempt's files together, the snapshot included. */
  maxRunBytes: number;
}

/** The defaults of DRYDOCK_ARTIFACT_MAX_FILE_MB and DRYDOCK_ARTIFACT_MAX_RUN_MB. */
export const DEFAULT_CAPTURE_LIMITS: CaptureLimits = { maxFileBytes: 50 * MB, maxRunBytes: 200 * MB };

/** A glob that matches more files than this captures the first ones only, so `**` cannot flood the blob store. */
export const MAX_ARTIFACT_FILES = 1_000;

/** `12 B`, `3.4 kB`, `2.0 MB`: sizes as the log and the limits name them. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MB) return `${(n / 1024).toFixed(1)} kB`;
  const mb = n / MB;
  return Number.isInteger(mb) ? `${mb} MB` : `${mb.toFixed(1)} MB`;
}
