import { sql } from 'kysely';
import type { Db } from './db/database.ts';
import { NotFoundError } from './errors.ts';
import { type Manifest, StoredManifestSchema } from './manifest.ts';
import type { ManifestProblem } from './catalog.ts';
import type { RunStatus } from './db/schema.ts';

export type CatalogKind = 'script' | 'action';

export interface CatalogItem {
  kind: CatalogKind;
  id: string;
  /** Commit SHA (git), content hash (directory) or revision number (action). */
  version: string;
  manifest: Manifest;
  file: string | null;
  repository: { id: string; name: string } | null;
  updatedAt: Date;
}

export interface ResolvedItem extends CatalogItem {
  /** The script file's identity, without its content (which can be megabytes): read that with `scriptContent`. */
  script: { sha256: string; bytes: number } | null;
  current: boolean;
}

/** A run's script as its executor gets it: the content the run's version holds, and where the run is. */
export interface RunScript {
  teamId: string;
  hostId: string;
  status: RunStatus;
  content: string;
}

export interface VersionInfo {
  version: string;
  author: string;
  committedAt: Date;
  message: string;
  changes: string[];
  current: boolean;
}

export interface CatalogFilter {
  q?: string;
  tag?: string;
  category?: string;
}

function parseStored(raw: unknown): Manifest {
  return StoredManifestSchema.parse(raw);
}

function matches(item: CatalogItem, f: CatalogFilter): boolean {
  const m = item.manifest;
  if (f.tag && !m.tags.includes(f.tag)) return false;
  if (f.category && m.category !== f.category) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    const hay = [m.id, m.name, m.description, m.category, ...m.tags].join(' ').toLowerCase();
    if (!q.split(/\s+/).every((w) => hay.includes(w))) return false;
  }
  return true;
}

/** The catalog as Postgres holds it: scripts synced from repositories, plus action templates edited in the UI. */
export class CatalogStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async list(teamId: string, filter: CatalogFilter = {}): Promise<CatalogItem[]> {
    const scripts = await this.db
      .selectFrom('catalog_scripts as c')
      .innerJoin('script_versions as v', (j) => j.onRef('v.team_id', '=', 'c.team_id').onRef('v.script_id', '=', 'c.id').onRef('v.version', '=', 'c.version'))
      .innerJoin('script_repositories as r', 'r.id', 'c.repository_id')
      .select(['c.id', 'c.version', 'c.file', 'c.updated_at', 'v.manifest', 'r.id as repository_id', 'r.name as repository_name'])
      .where('c.team_id', '=', teamId)
      .orderBy('c.id')
      .execute();
    const actions = await this.db.selectFrom('action_templates').selectAll().where('team_id', '=', teamId).orderBy('id').execute();
    const items: CatalogItem[] = [
      ...scripts.map((s) => ({
        kind: 'script' as const,
        id: s.id,
        version: s.version,
        manifest: parseStored(s.manifest),
        file: s.file,
        repository: { id: s.repository_id, name: s.repository_name },
        updatedAt: s.updated_at,
      })),
      ...actions.map((a) => ({
        kind: 'action' as const,
        id: a.id,
        version: String(a.revision),
        manifest: parseStored(a.manifest),
        file: null,
        repository: null,
        updatedAt: a.updated_at,
      })),
    ];
    return items.filter((i) => matches(i, filter));
  }

  /** One script at its current version, or at an older one by commit (rollback runs). */
  async getScript(teamId: string, id: string, version?: string): Promise<ResolvedItem> {
    const current = await this.db
      .selectFrom('catalog_scripts as c')
      .innerJoin('script_repositories as r', 'r.id', 'c.repository_id')
      .select(['c.version', 'c.updated_at', 'r.id as repository_id', 'r.name as repository_name'])
      .where('c.team_id', '=', teamId)
      .where('c.id', '=', id)
      .executeTakeFirst();
    if (!current) throw new NotFoundError('script', id);
    const wanted = version ?? current.version;
    const row = await this.db
      .selectFrom('script_versions')
      .select(['version', 'manifest', 'file'])
      // Hashed where it is stored: the content itself stays in Postgres until an executor asks for it.
      .select(sql<string | null>`encode(sha256(convert_to(script_content, 'UTF8')), 'hex')`.as('script_sha256'))
      .select(sql<number | null>`octet_length(script_content)`.as('script_bytes'))
      .where('team_id', '=', teamId)
      .where('script_id', '=', id)
      .where((eb) => (version && version.length < 40 ? eb('version', 'like', `${version}%`) : eb('version', '=', wanted)))
      .orderBy('committed_at', 'desc')
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`version of script ${id}`, wanted);
    return {
      kind: 'script',
      id,
      version: row.version,
      manifest: parseStored(row.manifest),
      file: row.file,
      repository: { id: current.repository_id, name: current.repository_name },
      updatedAt: current.updated_at,
      script: row.script_sha256 === null ? null : { sha256: row.script_sha256, bytes: Number(row.script_bytes) },
      current: row.version === current.version,
    };
  }

  async getAction(teamId: string, id: string): Promise<ResolvedItem> {
    const row = await this.db.selectFrom('action_templates').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('action', id);
    return {
      kind: 'action',
      id,
      version: String(row.revision),
      manifest: parseStored(row.manifest),
      file: null,
      repository: null,
      updatedAt: row.updated_at,
      script: null,
      current: true,
    };
  }

  /** A script file's content at an exact version; null for a manifest without a script file. */
  async scriptContent(teamId: string, id: string, version: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('script_versions')
      .select('script_content')
      .where('team_id', '=', teamId)
      .where('script_id', '=', id)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`version of script ${id}`, version);
    return row.script_content;
  }

  /** The script of a run, at the exact version the run executes; undefined for an action or a script without a file. */
  async runScript(runId: string): Promise<RunScript | undefined> {
    const row = await this.db
      .selectFrom('runs as r')
      .innerJoin('script_versions as v', (j) => j.onRef('v.team_id', '=', 'r.team_id').onRef('v.script_id', '=', 'r.script_id').onRef('v.version', '=', 'r.script_version'))
      .select(['r.team_id', 'r.host_id', 'r.status', 'v.script_content'])
      .where('r.id', '=', runId)
      .where('r.source', '=', 'script')
      .executeTakeFirst();
    if (!row || row.script_content === null) return undefined;
    return { teamId: row.team_id, hostId: row.host_id, status: row.status, content: row.script_content };
  }

  get(teamId: string, kind: CatalogKind, id: string, version?: string): Promise<ResolvedItem> {
    return kind === 'action' ? this.getAction(teamId, id) : this.getScript(teamId, id, version);
  }

  async versions(teamId: string, id: string): Promise<VersionInfo[]> {
    const current = await this.db.selectFrom('catalog_scripts').select('version').where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
    if (!current) throw new NotFoundError('script', id);
    const rows = await this.db
      .selectFrom('script_versions')
      .select(['version', 'author', 'committed_at', 'message', 'changes'])
      .where('team_id', '=', teamId)
      .where('script_id', '=', id)
      .orderBy('committed_at', 'desc')
      .execute();
    return rows.map((r) => ({
      version: r.version,
      author: r.author,
      committedAt: r.committed_at,
      message: r.message,
      changes: r.changes,
      current: r.version === current.version,
    }));
  }

  async problems(teamId: string): Promise<(ManifestProblem & { repository: { id: string; name: string } })[]> {
    const rows = await this.db
      .selectFrom('catalog_problems as p')
      .innerJoin('script_repositories as r', 'r.id', 'p.repository_id')
      .select(['p.file', 'p.line', 'p.message', 'r.id', 'r.name'])
      .where('r.team_id', '=', teamId)
      .orderBy('r.name')
      .orderBy('p.file')
      .execute();
    return rows.map((r) => ({ file: r.file, ...(r.line === null ? {} : { line: r.line }), message: r.message, repository: { id: r.id, name: r.name } }));
  }

  /** Runs per catalog entry, all time. */
  async usage(teamId: string): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('runs')
      .select(['source', 'script_id', sql<string>`count(*)`.as('n')])
      .where('team_id', '=', teamId)
      .groupBy(['source', 'script_id'])
      .execute();
    return new Map(rows.map((r) => [`${r.source}:${r.script_id}`, Number(r.n)]));
  }
}
