import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { NotFoundError } from './errors.ts';
import { type Manifest, ManifestSchema } from './manifest.ts';

export interface CatalogEntry {
  manifest: Manifest;
  /** The manifest file, relative to the catalog root. */
  file: string;
  /** Content hash of manifest + script: what a run records as the version it ran (a commit SHA once git sync lands). */
  version: string;
}

export interface ManifestProblem {
  file: string;
  line?: number;
  message: string;
}

export interface CatalogSnapshot {
  entries: CatalogEntry[];
  problems: ManifestProblem[];
}

export interface ResolvedScript {
  entry: CatalogEntry;
  content: string;
}

/** Where the catalog comes from. A directory today; a git repository synced by workflow later. */
export interface CatalogSource {
  snapshot(): Promise<CatalogSnapshot>;
  get(id: string): Promise<CatalogEntry>;
  resolve(id: string): Promise<ResolvedScript>;
}

const MANIFEST_DIR = 'manifests';

class OutsideRepositoryError extends Error {}
const MANIFEST_FILE = /\.ya?ml$/;

export class DirectoryCatalogSource implements CatalogSource {
  readonly root: string;

  private readonly maxAgeMs: number;
  private cached: { at: number; snapshot: Promise<CatalogSnapshot> } | undefined;

  /** `maxAgeMs`: how long a read of the directory is reused; every run start and form reads the catalog. */
  constructor(root: string, options: { maxAgeMs?: number } = {}) {
    this.root = resolve(root);
    this.maxAgeMs = options.maxAgeMs ?? 1_000;
  }

  snapshot(): Promise<CatalogSnapshot> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= this.maxAgeMs) {
      const snapshot = this.read();
      this.cached = { at: now, snapshot };
      snapshot.catch(() => {
        if (this.cached?.snapshot === snapshot) this.cached = undefined;
      });
    }
    return this.cached.snapshot;
  }

  private async read(): Promise<CatalogSnapshot> {
    const files = (await walk(join(this.root, MANIFEST_DIR))).filter((f) => MANIFEST_FILE.test(f)).sort();
    const entries: CatalogEntry[] = [];
    const problems: ManifestProblem[] = [];
    const byId = new Map<string, string>();
    for (const file of files) {
      const rel = relative(this.root, file);
      const result = await this.load(file, rel);
      if ('problem' in result) {
        problems.push(...result.problem);
        continue;
      }
      const first = byId.get(result.entry.manifest.id);
      if (first) {
        problems.push({ file: rel, message: `duplicate id "${result.entry.manifest.id}" (first defined in ${first}); rename one of them` });
        continue;
      }
      byId.set(result.entry.manifest.id, rel);
      entries.push(result.entry);
    }
    return { entries, problems };
  }

  async get(id: string): Promise<CatalogEntry> {
    const entry = (await this.snapshot()).entries.find((e) => e.manifest.id === id);
    if (!entry) throw new NotFoundError('script', id);
    return entry;
  }

  async resolve(id: string): Promise<ResolvedScript> {
    const entry = await this.get(id);
    const content = await readFile(await this.scriptPath(entry.manifest.script), 'utf8');
    return { entry, content };
  }

  private async scriptPath(script: string): Promise<string> {
    const root = await realpath(this.root);
    const path = await realpath(join(root, script));
    if (!path.startsWith(root + sep)) throw new OutsideRepositoryError(`script ${script} resolves outside the repository`);
    return path;
  }

  private async load(file: string, rel: string): Promise<{ entry: CatalogEntry } | { problem: ManifestProblem[] }> {
    const text = await readFile(file, 'utf8');
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    if (doc.errors.length > 0) {
      return {
        problem: doc.errors.map((e) => ({
          file: rel,
          line: lineCounter.linePos(e.pos[0]).line,
          message: `invalid YAML: ${e.message.split('\n')[0]}`,
        })),
      };
    }
    let raw: unknown;
    try {
      raw = doc.toJS();
    } catch (err) {
      // An alias to a missing anchor parses but cannot be resolved.
      return { problem: [{ file: rel, message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` }] };
    }
    const parsed = ManifestSchema.safeParse(raw);
    if (!parsed.success) {
      return {
        problem: parsed.error.issues.map((i) => {
          const node = i.path.length > 0 && isMap(doc.contents) ? doc.getIn(i.path as (string | number)[], true) : undefined;
          const offset = (node as { range?: [number] } | undefined)?.range?.[0];
          const where = i.path.join('.');
          return {
            file: rel,
            line: offset === undefined ? undefined : lineCounter.linePos(offset).line,
            message: where ? `${where}: ${i.message}` : i.message,
          };
        }),
      };
    }
    const manifest = parsed.data;
    let script: Buffer;
    try {
      script = await readFile(await this.scriptPath(manifest.script));
    } catch (err) {
      const message = err instanceof OutsideRepositoryError ? err.message : `file ${manifest.script} not found in the repository`;
      return { problem: [{ file: rel, message: `script: ${message}` }] };
    }
    const version = createHash('sha256').update(text).update('\0').update(script).digest('hex').slice(0, 12);
    return { entry: { manifest, file: rel, version } };
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
