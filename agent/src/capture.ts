import { execFile } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { readdir, readFile, realpath, stat, statfs } from 'node:fs/promises';
import { arch, cpus, freemem, hostname, loadavg, machine, release, totalmem, type, uptime, version } from 'node:os';
import { join, sep } from 'node:path';
import type { Config } from '@drydock/core';
import { type AgentScriptJob, type ArtifactKind, type EnvironmentSnapshot, ENVIRONMENT_SNAPSHOT_NAME, type JobCapture } from '@drydock/core/run-contract';
import { type CaptureLimits, contentTypeOf, formatBytes, MAX_ARTIFACT_FILES, maskEnvironment } from '@drydock/core/job-data';
import { artifactMatchers } from '@drydock/core/artifact-glob';
import { hostInventory, type InventoryHost } from './host-inventory.ts';
import { AGENT_VERSION } from './identity.ts';
import { INTERPRETER_COMMAND } from './script-runner.ts';

export { type CaptureLimits, contentTypeOf, formatBytes, MAX_ARTIFACT_FILES, maskEnvironment };

const VERSION_TIMEOUT_MS = 5_000;
const MB = 1024 * 1024;


export function captureLimits(config: Pick<Config, 'DRYDOCK_ARTIFACT_MAX_FILE_MB' | 'DRYDOCK_ARTIFACT_MAX_RUN_MB'>): CaptureLimits {
  return { maxFileBytes: Math.floor(config.DRYDOCK_ARTIFACT_MAX_FILE_MB * MB), maxRunBytes: Math.floor(config.DRYDOCK_ARTIFACT_MAX_RUN_MB * MB) };
}

/** One file on its way to the API. */
export interface ArtifactFile {
  name: string;
  kind: ArtifactKind;
  contentType: string;
  size: number;
  body: Blob;
}

export type UploadOutcome = { ok: true; size: number; sha256: string } | { ok: false; message: string };
export type ArtifactUpload = (runId: string, attempt: number, file: ArtifactFile, signal: AbortSignal) => Promise<UploadOutcome>;


async function distribution(): Promise<Record<string, string> | null> {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) continue;
    const out: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match) out[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, '$2');
    }
    return out;
  }
  return null;
}

async function diskOf(path: string): Promise<EnvironmentSnapshot['disk']> {
  try {
    const fs = await statfs(path);
    const toMb = (blocks: number) => Math.round((blocks * fs.bsize) / MB);
    return { path, totalMb: toMb(fs.blocks), freeMb: toMb(fs.bavail), usedMb: toMb(fs.blocks - fs.bfree) };
  } catch {
    return null;
  }
}

/** `<command> --version`, first line: what the interpreter says it is, or null if it will not say. */
function commandVersion(command: string, env: Record<string, string>, cwd: string | undefined): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, ['--version'], { env, cwd, timeout: VERSION_TIMEOUT_MS, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      const first = `${stdout}\n${stderr}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? null;
      resolve(err && !first ? null : first && first.slice(0, 200));
    });
  });
}

export interface SnapshotOptions {
  /** The packages and services the manifest names. */
  capture?: Pick<JobCapture, 'packages' | 'services'>;
  signal?: AbortSignal;
  host?: InventoryHost;
}

/**
 * What the host looked like when the attempt ended: OS, load, memory, the work directory's disk, the interpreter,
 * the variables, and the packages and services the manifest names.
 */
export async function environmentSnapshot(job: AgentScriptJob, workDir: string | null, env: Record<string, string>, options: SnapshotOptions = {}): Promise<EnvironmentSnapshot> {
  const interpreter = job.interpreter !== null && Object.hasOwn(INTERPRETER_COMMAND, job.interpreter) ? INTERPRETER_COMMAND[job.interpreter] : null;
  const [distro, disk, interpreterVersion, inventory] = await Promise.all([
    distribution(),
    workDir ? diskOf(workDir) : Promise.resolve(null),
    interpreter ? commandVersion(interpreter.command, env, workDir ?? undefined) : Promise.resolve(null),
    hostInventory(options.capture ?? {}, env, options.signal ?? new AbortController().signal, options.host),
  ]);
  const [one, five, fifteen] = loadavg();
  const cpuList = cpus();
  return {
    capturedAt: new Date().toISOString(),
    host: {
      hostname: hostname(),
      os: { type: type(), platform: process.platform, release: release(), version: version(), arch: arch(), machine: machine() },
      distribution: distro,
      uptimeSeconds: Math.round(uptime()),
      loadAverage: [one ?? 0, five ?? 0, fifteen ?? 0],
      cpus: { count: cpuList.length, model: cpuList[0]?.model ?? null },
      memory: { totalMb: Math.round(totalmem() / MB), freeMb: Math.round(freemem() / MB) },
    },
    disk,
    interpreter: interpreter ? { name: interpreter.name, command: interpreter.command, version: interpreterVersion } : null,
    environment: maskEnvironment(job, env),
    agent: { version: AGENT_VERSION, node: process.version },
    ...inventory,
  };
}

function isInside(root: string, path: string): boolean {
  return path.startsWith(root + sep);
}

/** The work directory is listed this far and no further, so a script that leaves a million files cannot stall capture. */
const MAX_WALK_ENTRIES = 10_000;

/**
 * Every entry but directories under the work directory, as names relative to it. A symlinked directory is
 * never walked (it may lead anywhere on the host, `/` included) nor listed; a symlink to a file is listed.
 */
async function listWorkDir(root: string, log: (line: string) => void): Promise<string[]> {
  const names: string[] = [];
  const pending = [''];
  let seen = 0;
  while (pending.length > 0) {
    const dir = pending.shift()!;
    const entries = await readdir(dir === '' ? root : join(root, dir), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (++seen > MAX_WALK_ENTRIES) {
        log(`the run's work directory holds more than ${MAX_WALK_ENTRIES} entries; only the first ${MAX_WALK_ENTRIES} were looked at`);
        return names;
      }
      const name = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) pending.push(name);
      else if (!(entry.isSymbolicLink() && (await stat(join(root, name)).then((s) => s.isDirectory(), () => false)))) names.push(name);
    }
  }
  return names;
}

export interface FoundArtifact {
  /** Relative to the work directory, with `/` separators. */
  name: string;
  /** Where its bytes are, every symlink resolved (inside the work directory). */
  file: string;
  size: number;
}

/**
 * The regular files the globs match, relative to the work directory. A match whose real path leaves the work
 * directory (a symlink to /etc/passwd) is refused, and so is anything that is not a regular file (a FIFO would
 * block the reader forever); each refusal is a line for the run's log.
 */
export async function findArtifacts(workDir: string, globs: readonly string[], log: (line: string) => void): Promise<FoundArtifact[]> {
  const root = await realpath(workDir);
  const names = new Set<string>();
  let truncated = false;
  const matchers = artifactMatchers(globs, log);
  const listed = matchers.length > 0 ? await listWorkDir(root, log) : [];
  for (const { glob: pattern, matches } of matchers) {
    let matched = 0;
    // A path without wildcards is looked up as written, through symlinks too, so a refusal below can say where it leads.
    const literal = /[*?[{\\]/.test(pattern) ? null : pattern.split('/').filter((p) => p !== '' && p !== '.').join('/');
    const candidates = literal !== null && (await stat(join(root, literal)).then((s) => !s.isDirectory(), () => false)) ? [literal] : listed;
    for (const name of candidates) {
      if (!matches(name)) continue;
      matched++;
      if (names.size >= MAX_ARTIFACT_FILES && !names.has(name)) {
        truncated = true;
        break;
      }
      names.add(name);
    }
    if (matched === 0) log(`artifact glob ${pattern} matched no file`);
  }
  if (truncated) log(`the artifact globs match more than ${MAX_ARTIFACT_FILES} files; only the first ${MAX_ARTIFACT_FILES} are considered`);

  const found: FoundArtifact[] = [];
  for (const name of [...names].sort()) {
    if (name === ENVIRONMENT_SNAPSHOT_NAME) {
      log(`artifact ${name} not captured: the name is reserved for the environment snapshot`);
      continue;
    }
    let file: string;
    try {
      file = await realpath(join(root, name));
    } catch {
      log(`artifact ${name} not captured: it is a symlink to nothing`);
      continue;
    }
    if (!isInside(root, file)) {
      log(`artifact ${name} not captured: it leads outside the run's work directory (a symlink to ${file})`);
      continue;
    }
    const info = await stat(file);
    if (!info.isFile()) {
      log(`artifact ${name} not captured: it is not a regular file`);
      continue;
    }
    found.push({ name, file, size: info.size });
  }
  return found;
}

export interface CaptureAttemptOptions {
  job: AgentScriptJob;
  capture: JobCapture;
  attempt: number;
  /** The script's cwd; null for a host operation, which has none. */
  workDir: string | null;
  /** The variables the script ran with. */
  env: Record<string, string>;
  limits: CaptureLimits;
  upload: ArtifactUpload;
  log: (line: string) => void;
  signal: AbortSignal;
}

/**
 * Takes what the manifest asks for after an attempt (the environment snapshot, then the matching files, in name
 * order) and sends it to the API, within the per-file and per-attempt limits. Reports by log lines; never throws
 * for a file it could not keep.
 */
export async function captureAttempt(o: CaptureAttemptOptions): Promise<void> {
  const { job, limits, log } = o;
  let total = 0;
  let captured = 0;

  const send = async (file: ArtifactFile, what: string): Promise<void> => {
    if (file.size > limits.maxFileBytes) {
      log(`${what} not captured: ${formatBytes(file.size)} is over the per-file limit of ${formatBytes(limits.maxFileBytes)} (DRYDOCK_ARTIFACT_MAX_FILE_MB)`);
      return;
    }
    if (total + file.size > limits.maxRunBytes) {
      log(
        `${what} not captured: ${formatBytes(file.size)} more would bring this attempt's captures to ${formatBytes(total + file.size)}, over the per-run limit of ${formatBytes(limits.maxRunBytes)} (DRYDOCK_ARTIFACT_MAX_RUN_MB)`,
      );
      return;
    }
    const outcome = await o.upload(job.runId, o.attempt, file, o.signal);
    if (!outcome.ok) {
      log(`${what} not captured: ${outcome.message}`);
      return;
    }
    total += outcome.size;
    captured++;
    log(`captured ${what} (${formatBytes(outcome.size)}, sha256 ${outcome.sha256.slice(0, 12)})`);
  };

  if (o.capture.environment_snapshot) {
    const snapshot = await environmentSnapshot(job, o.workDir, o.env, { capture: o.capture, signal: o.signal });
    const bytes = new TextEncoder().encode(`${JSON.stringify(snapshot, null, 2)}\n`);
    await send({ name: ENVIRONMENT_SNAPSHOT_NAME, kind: 'environment', contentType: 'application/json', size: bytes.byteLength, body: new Blob([bytes]) }, 'environment snapshot');
  }
  if (o.capture.artifacts.length > 0) {
    if (o.workDir === null) {
      log('no artifacts captured: a host operation has no work directory to take files from');
    } else {
      for (const found of await findArtifacts(o.workDir, o.capture.artifacts, log)) {
        if (o.signal.aborted) {
          log(`capture stopped before ${found.name}: ${String(o.signal.reason instanceof Error ? o.signal.reason.message : o.signal.reason)}`);
          break;
        }
        let body: Blob;
        try {
          body = await openAsBlob(found.file);
        } catch (err) {
          log(`artifact ${found.name} not captured: ${(err as Error).message}`);
          continue;
        }
        await send({ name: found.name, kind: 'artifact', contentType: contentTypeOf(found.name), size: body.size, body }, `artifact ${found.name}`);
      }
    }
  }
  if (captured > 0) log(`captured ${captured} file${captured === 1 ? '' : 's'} (${formatBytes(total)}) from attempt ${o.attempt}`);
}
