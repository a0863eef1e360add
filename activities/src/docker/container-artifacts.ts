import { posix } from 'node:path';
import { ENVIRONMENT_SNAPSHOT_NAME } from '@drydock/core/run-contract';
import { artifactMatchers } from '@drydock/core/artifact-glob';
import { type CaptureLimits, DEFAULT_CAPTURE_LIMITS, formatBytes, MAX_ARTIFACT_FILES } from '@drydock/core/job-data';

export { type CaptureLimits, DEFAULT_CAPTURE_LIMITS, MAX_ARTIFACT_FILES };
import type { DockerEngine } from './docker-engine.ts';
import { type TarEntry, tarEntries } from './tar-archive.ts';

/** The run's work directory inside the container: the script's cwd, the root of the artifact globs. */
export const RUN_DIR = '/drydock/run';
/** Symlink hops followed before a chain counts as a loop, as Linux counts them. */
const MAX_SYMLINK_HOPS = 40;

export interface Artifact {
  /** Relative to the work directory, with `/` separators. */
  name: string;
  content: Buffer;
}

/** A path relative to the work directory that names something inside it, or null. */
function insideName(path: string): string | null {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return null;
  return parts.join('/');
}

/**
 * Where a name leads once every symlink on its way is followed, judged against the archive's own listing:
 * a name inside the work directory, or null when the way leaves it, loops, or ends at nothing.
 */
export function resolveInside(name: string, listing: ReadonlyMap<string, TarEntry>): string | null {
  let pending = name.split('/');
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) return null;
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const entry = listing.get(resolved.join('/'));
    if (entry?.type !== 'symlink') continue;
    if (++hops > MAX_SYMLINK_HOPS) return null;
    resolved.pop();
    const target = entry.linkName;
    if (posix.isAbsolute(target)) {
      const normal = posix.normalize(target);
      if (normal !== RUN_DIR && !normal.startsWith(`${RUN_DIR}/`)) return null;
      resolved = [];
      pending = [...normal.slice(RUN_DIR.length).split('/'), ...pending];
    } else {
      pending = [...target.split('/'), ...pending];
    }
  }
  const out = resolved.join('/');
  return out === '' ? null : out;
}

interface CopyOptions {
  engine: DockerEngine;
  containerId: string;
  globs: readonly string[];
  limits: CaptureLimits;
  log: (line: string) => void;
  /** Cancel: the copy stops and returns the files it had finished, or none if still reading the archive. */
  signal: AbortSignal;
}

/** /etc/os-release of a stopped container's image, as its keys say it; null when the image has none. */
export async function containerDistribution(engine: DockerEngine, containerId: string): Promise<Record<string, string> | null> {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    const res = await engine.archive(containerId, path).catch(() => null);
    if (res === null) continue;
    for await (const entry of tarEntries(res)) {
      // A symlinked os-release (usual in Debian) is read at its target on the next path.
      if (entry.type !== 'file' || entry.size > 64 * 1024) break;
      const out: Record<string, string> = {};
      for (const line of (await entry.content()).toString('utf8').split('\n')) {
        const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
        if (match) out[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, '$2');
      }
      return out;
    }
  }
  return null;
}

/**
 * Copies the files the globs match out of a stopped container's work directory: one archive of the directory,
 * read as it streams, keeping only matched files within the per-file and per-attempt limits. A symlink is
 * captured as the file it leads to when that stays inside the work directory; anything else a glob matches
 * (a way out, a device, a FIFO) is refused with a line for the run's log. Never throws for a file it could not keep.
 */
export async function copyArtifacts(o: CopyOptions): Promise<Artifact[]> {
  const { log, limits } = o;
  const matchers = artifactMatchers(o.globs, log);
  if (matchers.length === 0) return [];

  const listing = new Map<string, TarEntry>();
  const kept = new Map<string, Buffer>();
  const matched = new Set<string>();
  const globHits = new Map(matchers.map((m) => [m.glob, 0]));
  let total = 0;
  let truncated = false;

  const fits = (name: string, size: number): boolean => {
    if (size > limits.maxFileBytes) {
      log(`artifact ${name} not captured: ${formatBytes(size)} is over the per-file limit of ${formatBytes(limits.maxFileBytes)} (DRYDOCK_ARTIFACT_MAX_FILE_MB)`);
      return false;
    }
    if (total + size > limits.maxRunBytes) {
      log(
        `artifact ${name} not captured: ${formatBytes(size)} more would bring this attempt's captures to ${formatBytes(total + size)}, over the per-run limit of ${formatBytes(limits.maxRunBytes)} (DRYDOCK_ARTIFACT_MAX_RUN_MB)`,
      );
      return false;
    }
    total += size;
    return true;
  };

  const root = posix.basename(RUN_DIR);
  try {
    const res = await o.engine.archive(o.containerId, RUN_DIR);
    if (res === null) {
      log(`no artifacts captured: ${RUN_DIR} is not in the container`);
      return [];
    }
    for await (const entry of tarEntries(res)) {
      if (o.signal.aborted) break;
      if (entry.name === root) continue;
      const name = entry.name.startsWith(`${root}/`) ? insideName(entry.name.slice(root.length + 1)) : null;
      if (name === null) {
        log(`archive entry ${entry.name} refused: it leads outside the run's work directory`);
        continue;
      }
      listing.set(name, entry);
      if (entry.type === 'directory') continue;
      const hits = matchers.filter((m) => m.matches(name)).map((m) => m.glob);
      if (hits.length === 0) continue;
      for (const g of hits) globHits.set(g, globHits.get(g)! + 1);
      if (matched.size >= MAX_ARTIFACT_FILES) {
        truncated = true;
        continue;
      }
      matched.add(name);
      if (entry.type === 'file' && name !== ENVIRONMENT_SNAPSHOT_NAME && fits(name, entry.size)) kept.set(name, await entry.content());
    }
  } catch (err) {
    log(`artifact capture stopped: the work directory could not be read from the container (${(err as Error).message})`);
  }
  if (o.signal.aborted) {
    log('artifact capture stopped: the run was cancelled');
    return [];
  }
  for (const [g, hits] of globHits) if (hits === 0) log(`artifact glob ${g} matched no file`);
  if (truncated) log(`the artifact globs match more than ${MAX_ARTIFACT_FILES} files; only the first ${MAX_ARTIFACT_FILES} are considered`);

  const artifacts: Artifact[] = [];
  for (const name of [...matched].sort()) {
    if (o.signal.aborted) {
      log(`artifact capture stopped before ${name}: the run was cancelled`);
      break;
    }
    const entry = listing.get(name)!;
    if (name === ENVIRONMENT_SNAPSHOT_NAME) {
      log(`artifact ${name} not captured: the name is reserved for the environment snapshot`);
      continue;
    }
    if (entry.type === 'file') {
      const content = kept.get(name);
      if (content) artifacts.push({ name, content });
      continue;
    }
    if (entry.type === 'other') {
      log(`artifact ${name} not captured: it is not a regular file`);
      continue;
    }
    // A hardlink names the archive entry that carried the bytes; a symlink is followed through the listing.
    const hardlinked = (link: TarEntry) => (link.linkName.startsWith(`${root}/`) ? insideName(link.linkName.slice(root.length + 1)) : null);
    let target = entry.type === 'hardlink' ? hardlinked(entry) : resolveInside(name, listing);
    let found = target === null ? undefined : listing.get(target);
    if (found?.type === 'hardlink') {
      target = hardlinked(found);
      found = target === null ? undefined : listing.get(target);
    }
    if (target === null || !found) {
      log(`artifact ${name} not captured: it leads outside the run's work directory, or to nothing (a link to ${entry.linkName})`);
      continue;
    }
    if (found.type !== 'file') {
      log(`artifact ${name} not captured: it leads to ${target}, which is not a regular file`);
      continue;
    }
    const content = fits(name, found.size) ? (kept.get(target) ?? (await fileContent(o, target))) : null;
    if (content) artifacts.push({ name, content });
  }
  return artifacts;
}

/** One file's bytes, fetched by itself: a link's target that no glob matched. Its way holds no symlink. */
async function fileContent(o: CopyOptions, name: string): Promise<Buffer | null> {
  try {
    const res = await o.engine.archive(o.containerId, `${RUN_DIR}/${name}`);
    if (res !== null) {
      for await (const entry of tarEntries(res)) {
        if (entry.type === 'file' && entry.size <= o.limits.maxFileBytes) return await entry.content();
        break;
      }
    }
    o.log(`artifact ${name} not captured: it changed while it was copied`);
  } catch (err) {
    o.log(`artifact ${name} not captured: ${(err as Error).message}`);
  }
  return null;
}
