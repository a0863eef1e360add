import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { NotFoundError } from './errors.ts';
import { type Manifest, ManifestSchema } from './manifest.ts';

export const MANIFEST_DIR = 'manifests';
const MANIFEST_FILE = /\.ya?ml$/;

export interface ManifestProblem {
  file: string;
  line?: number;
  message: string;
}

/** A repository's files at one point in time: a git commit or a directory on disk. Paths are repo-relative. */
export interface TreeReader {
  /** Every manifest file under `manifests/`. */
  manifestFiles(): Promise<string[]>;
  /** A file's text; undefined when absent. Throws OutsideRepositoryError for a path that leaves the repository. */
  read(path: string): Promise<{ content: string; type: 'file' | 'executable' | 'symlink' } | undefined>;
}

export class OutsideRepositoryError extends Error {}

export interface ParsedScript {
  manifest: Manifest;
  /** The manifest file, relative to the repository root. */
  file: string;
  manifestText: string;
  /** The script the manifest names; null for a command template. */
  scriptContent: string | null;
  /** Content hash of manifest + script, for sources without commits. */
  contentHash: string;
}

export interface ParsedCatalog {
  scripts: ParsedScript[];
  problems: ManifestProblem[];
}

/**
 * Reads every manifest of a tree. A bad manifest becomes a problem (file, line, what to fix) and never hides
 * the good ones; a duplicate id keeps the first file (in path order) and reports the others.
 */
export async function parseCatalogTree(reader: TreeReader): Promise<ParsedCatalog> {
  const files = (await reader.manifestFiles()).filter((f) => MANIFEST_FILE.test(f)).sort();
  const scripts: ParsedScript[] = [];
  const problems: ManifestProblem[] = [];
  const byId = new Map<string, string>();
  for (const file of files) {
    const result = await parseManifestFile(reader, file);
    if ('problems' in result) {
      problems.push(...result.problems);
      continue;
    }
    const first = byId.get(result.script.manifest.id);
    if (first) {
      problems.push({ file, message: `duplicate id "${result.script.manifest.id}" (first defined in ${first}); rename one of them` });
      continue;
    }
    byId.set(result.script.manifest.id, file);
    scripts.push(result.script);
  }
  return { scripts, problems };
}

/** Parses one manifest text with positions, so problems can name the line. */
export function parseManifestText(text: string, file: string): { manifest: Manifest } | { problems: ManifestProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({ file, line: lineCounter.linePos(e.pos[0]).line, message: `invalid YAML: ${e.message.split('\n')[0]}` })),
    };
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // An alias to a missing anchor parses but cannot be resolved.
    return { problems: [{ file, message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` }] };
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (parsed.success) return { manifest: parsed.data };
  return {
    problems: parsed.error.issues.map((i) => {
      const keys = i.code === 'unrecognized_keys' ? [...i.path, i.keys[0]!] : i.path;
      const node = keys.length > 0 && isMap(doc.contents) ? doc.getIn(keys as (string | number)[], true) : undefined;
      const keyNode = i.code === 'unrecognized_keys' && isMap(doc.contents) ? findKey(doc.contents, keys as (string | number)[]) : undefined;
      const offset = (keyNode ?? (node as { range?: [number] } | undefined))?.range?.[0];
      const where = i.path.join('.');
      return {
        file,
        line: offset === undefined ? undefined : lineCounter.linePos(offset).line,
        message: where ? `${where}: ${i.message}` : i.message,
      };
    }),
  };
}

function findKey(map: unknown, path: (string | number)[]): { range?: [number] } | undefined {
  let node = map as { items?: { key: { value?: unknown; range?: [number] }; value: unknown }[] } | undefined;
  for (let i = 0; i < path.length; i++) {
    const pair = node?.items?.find((p) => p.key?.value === path[i]);
    if (!pair) return undefined;
    if (i === path.length - 1) return pair.key;
    node = pair.value as typeof node;
  }
  return undefined;
}

async function parseManifestFile(reader: TreeReader, file: string): Promise<{ script: ParsedScript } | { problems: ManifestProblem[] }> {
  const text = (await reader.read(file))?.content ?? '';
  const parsed = parseManifestText(text, file);
  if ('problems' in parsed) return parsed;
  const { manifest } = parsed;
  let scriptContent: string | null = null;
  if (manifest.script !== undefined) {
    let found;
    try {
      found = await reader.read(manifest.script);
    } catch (err) {
      if (err instanceof OutsideRepositoryError) return { problems: [{ file, message: `script: ${err.message}` }] };
      throw err;
    }
    if (!found) return { problems: [{ file, message: `script: file ${manifest.script} not found in the repository` }] };
    if (found.type === 'symlink') return { problems: [{ file, message: `script: ${manifest.script} is a symbolic link; point script at the file itself` }] };
    scriptContent = found.content;
  }
  const contentHash = createHash('sha256')
    .update(text)
    .update('\0')
    .update(scriptContent ?? '')
    .digest('hex')
    .slice(0, 12);
  return { script: { manifest, file, manifestText: text, scriptContent, contentHash } };
}

/** A directory on disk as a tree: symlinks are followed, but never out of the root. */
export class DirectoryTreeReader implements TreeReader {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async manifestFiles(): Promise<string[]> {
    const dir = join(this.root, MANIFEST_DIR);
    // A missing directory is a misconfiguration, not an empty catalog: failing keeps the last good catalog.
    if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new Error(`no ${MANIFEST_DIR}/ directory in ${this.root}`);
    return (await walk(dir)).map((f) => relative(this.root, f).split(sep).join('/'));
  }

  async read(path: string): Promise<{ content: string; type: 'file' | 'executable' } | undefined> {
    const root = await realpath(this.root);
    let real: string;
    try {
      real = await realpath(join(root, path));
    } catch {
      return undefined;
    }
    if (!real.startsWith(root + sep)) throw new OutsideRepositoryError(`${path} resolves outside the repository`);
    const info = await stat(real);
    if (!info.isFile()) return undefined;
    return { content: await readFile(real, 'utf8'), type: info.mode & 0o111 ? 'executable' : 'file' };
  }
}

export interface CatalogEntry {
  manifest: Manifest;
  file: string;
  version: string;
}

export interface CatalogSnapshot {
  entries: CatalogEntry[];
  problems: ManifestProblem[];
}

/** A directory of manifests read straight from disk, versions by content hash. */
export class DirectoryCatalogSource {
  readonly root: string;
  private readonly reader: DirectoryTreeReader;

  constructor(root: string) {
    this.root = resolve(root);
    this.reader = new DirectoryTreeReader(root);
  }

  async parse(): Promise<ParsedCatalog> {
    return parseCatalogTree(this.reader);
  }

  async snapshot(): Promise<CatalogSnapshot> {
    const { scripts, problems } = await this.parse();
    return { entries: scripts.map((s) => ({ manifest: s.manifest, file: s.file, version: s.contentHash })), problems };
  }

  async get(id: string): Promise<CatalogEntry> {
    const entry = (await this.snapshot()).entries.find((e) => e.manifest.id === id);
    if (!entry) throw new NotFoundError('script', id);
    return entry;
  }

  async resolve(id: string): Promise<{ entry: CatalogEntry; content: string | null }> {
    const script = (await this.parse()).scripts.find((s) => s.manifest.id === id);
    if (!script) throw new NotFoundError('script', id);
    return { entry: { manifest: script.manifest, file: script.file, version: script.contentHash }, content: script.scriptContent };
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const dirents = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const d of dirents) {
    if (d.name.startsWith('.') || d.name === 'node_modules') continue;
    const path = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(path)));
    else if (d.isFile() && (await stat(path)).size < 1_000_000) out.push(path);
  }
  return out;
}
