import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { sql, type Transaction } from 'kysely';
import {
  type Database,
  type Db,
  describeManifestChanges,
  DirectoryTreeReader,
  MANIFEST_DIR,
  type Manifest,
  type ManifestProblem,
  newId,
  OutsideRepositoryError,
  parseCatalogTree,
  parseManifestText,
  type ParsedScript,
  type ScriptRepository,
  type SecretBox,
  type TreeReader,
} from '@drydock/core';
import { fetchMirror, fileHistory, type GitAuth, listTree, readFile } from './git/git-repository.ts';
import { openCredentialValue, type RunSecretSource } from './run-secrets.ts';

export interface CatalogSyncDeps {
  db: Db;
  secrets: SecretBox;
  /** Where a vault: reference stored as a credential is read from. */
  runSecrets?: RunSecretSource;
  /** Bare mirrors live under `<dataDir>/mirrors`; pinned SSH host keys in `<dataDir>/known_hosts`. */
  dataDir: string;
}

export interface SyncResult {
  status: 'ok' | 'failed' | 'gone';
  head: string | null;
  added: number;
  updated: number;
  removed: number;
  problems: number;
  error: string | null;
  intervalSeconds: number;
}

/** How far back a script's history is imported: its newest 50 commits; older ones are not shown. */
const HISTORY_LIMIT = 50;

interface Versions {
  version: string | undefined;
  candidates: VersionCandidate[];
}

interface VersionCandidate {
  version: string;
  author: string;
  committedAt: Date;
  message: string;
  manifest: Manifest;
  script: string | null;
  file: string;
}

/** A git commit of a repository (optionally a sub-directory of it) as a tree. */
class GitTreeReader implements TreeReader {
  private readonly mirror: string;
  private readonly sha: string;
  private readonly prefix: string;

  constructor(mirror: string, sha: string, prefix: string) {
    this.mirror = mirror;
    this.sha = sha;
    this.prefix = prefix;
  }

  full(path: string): string {
    const normal = posix.normalize(path);
    if (normal.startsWith('../') || normal === '..' || posix.isAbsolute(normal)) throw new OutsideRepositoryError(`${path} resolves outside the repository`);
    return this.prefix ? posix.join(this.prefix, normal) : normal;
  }

  async manifestFiles(): Promise<string[]> {
    const dir = this.full(MANIFEST_DIR);
    const entries = await listTree(this.mirror, this.sha, dir);
    // A wrong path or branch is a misconfiguration, not an empty catalog: failing keeps the last good catalog.
    if (entries.length === 0) throw new Error(`no manifests in ${dir}/ at commit ${this.sha.slice(0, 12)}; check the repository's path and branch`);
    return entries.map((e) => (this.prefix ? posix.relative(this.prefix, e.path) : e.path));
  }

  async read(path: string) {
    return readFile(this.mirror, this.sha, this.full(path));
  }
}

function authFor(kind: string | undefined, username: string | null | undefined, secret: string | undefined): GitAuth | undefined {
  if (!kind || secret === undefined) return undefined;
  if (kind === 'ssh_key') return { kind: 'ssh_key', privateKey: secret };
  return { kind: 'https_token', token: secret, ...(username ? { username } : {}) };
}

export function createCatalogSyncActivities(deps: CatalogSyncDeps) {
  const { db } = deps;

  /** The commit that last changed the manifest or its script is the version; older unseen commits are history. */
  async function gitVersions(mirror: string, head: string, prefix: string, script: ParsedScript, known: Set<string>): Promise<Versions> {
    const paths = [script.file, ...(script.manifest.script ? [script.manifest.script] : [])].map((p) => (prefix ? posix.join(prefix, p) : p));
    const commits = await fileHistory(mirror, head, paths, HISTORY_LIMIT);
    const out: VersionCandidate[] = [];
    const newest = commits[0];
    if (!newest) return { version: undefined, candidates: [] };
    for (const commit of commits) {
      if (known.has(commit.sha)) continue;
      const at = new GitTreeReader(mirror, commit.sha, prefix);
      const latest = commit === newest;
      const text = latest ? script.manifestText : (await at.read(script.file).catch(() => undefined))?.content;
      if (text === undefined) continue;
      const parsed = latest ? { manifest: script.manifest } : parseManifestText(text, script.file);
      if ('problems' in parsed || parsed.manifest.id !== script.manifest.id) continue;
      let content: string | null = null;
      if (parsed.manifest.script) {
        const found = latest ? { content: script.scriptContent ?? '' } : await at.read(parsed.manifest.script).catch(() => undefined);
        if (!found) continue;
        content = found.content;
      }
      out.push({ version: commit.sha, author: `${commit.author} <${commit.email}>`, committedAt: commit.committedAt, message: commit.message, manifest: parsed.manifest, script: content, file: script.file });
    }
    return { version: newest.sha, candidates: out };
  }

  async function store(tx: Transaction<Database>, repo: ScriptRepository, candidates: VersionCandidate[], scriptId: string): Promise<void> {
    // Oldest first, so each version's changes are described against the one before it.
    for (const c of [...candidates].sort((a, b) => a.committedAt.getTime() - b.committedAt.getTime())) {
      const previous = await tx
        .selectFrom('script_versions')
        .select(['manifest', 'script_content'])
        .where('team_id', '=', repo.team_id)
        .where('script_id', '=', scriptId)
        .where('committed_at', '<', c.committedAt)
        .orderBy('committed_at', 'desc')
        .executeTakeFirst();
      const changes = describeManifestChanges(
        previous ? { manifest: previous.manifest as unknown as Manifest, script: previous.script_content } : undefined,
        { manifest: c.manifest, script: c.script },
      );
      await tx
        .insertInto('script_versions')
        .values({
          team_id: repo.team_id,
          script_id: scriptId,
          version: c.version,
          repository_id: repo.id,
          manifest: c.manifest as unknown as Record<string, unknown>,
          script_content: c.script,
          file: c.file,
          author: c.author,
          committed_at: c.committedAt,
          message: c.message,
          changes,
        })
        .onConflict((oc) => oc.columns(['team_id', 'script_id', 'version']).doNothing())
        .execute();
    }
  }

  return {
    /** Reads the repository at the head of its branch and brings the catalog to it; the last good state stays on failure. */
    async syncRepository(input: { repositoryId: string; reason: string; workflowId: string }): Promise<SyncResult> {
      const repo = await db.selectFrom('script_repositories').selectAll().where('id', '=', input.repositoryId).executeTakeFirst();
      if (!repo) return { status: 'gone', head: null, added: 0, updated: 0, removed: 0, problems: 0, error: null, intervalSeconds: 0 };
      const syncId = newId();
      // A worker that died mid-sync left its row running; this sync supersedes it.
      await db
        .updateTable('repository_syncs')
        .set({ status: 'failed', error: 'interrupted: the worker stopped during the sync', finished_at: new Date() })
        .where('repository_id', '=', repo.id)
        .where('status', '=', 'running')
        .execute();
      await db.insertInto('repository_syncs').values({ id: syncId, repository_id: repo.id, reason: input.reason, workflow_id: input.workflowId, status: 'running' }).execute();
      await db.updateTable('script_repositories').set({ status: 'syncing' }).where('id', '=', repo.id).execute();

      try {
        const result = await db.connection().execute(async (conn) => {
          // One sync of a repository at a time across all workers: the mirror and the catalog rows are shared.
          await sql`select pg_advisory_lock(hashtext(${`drydock-sync:${repo.id}`}))`.execute(conn);
          try {
            return await syncLocked(conn, repo);
          } finally {
            await sql`select pg_advisory_unlock(hashtext(${`drydock-sync:${repo.id}`}))`.execute(conn);
          }
        });
        await db
          .updateTable('repository_syncs')
          .set({ status: 'ok', head: result.head, added: result.added, updated: result.updated, removed: result.removed, problems: result.problems, finished_at: new Date() })
          .where('id', '=', syncId)
          .execute();
        await db.updateTable('script_repositories').set({ status: 'ok', head: result.head, last_sync_at: new Date(), last_sync_error: null }).where('id', '=', repo.id).execute();
        return { ...result, status: 'ok', error: null, intervalSeconds: repo.sync_interval_seconds };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        await db.updateTable('repository_syncs').set({ status: 'failed', error, finished_at: new Date() }).where('id', '=', syncId).execute();
        await db.updateTable('script_repositories').set({ status: 'failed', last_sync_at: new Date(), last_sync_error: error }).where('id', '=', repo.id).execute();
        return { status: 'failed', head: null, added: 0, updated: 0, removed: 0, problems: 0, error, intervalSeconds: repo.sync_interval_seconds };
      }
    },
  };

  async function syncLocked(conn: Db, repo: ScriptRepository) {
    let reader: TreeReader;
    let head: string;
    let versionsOf: (script: ParsedScript, known: Set<string>) => Promise<Versions>;
    if (repo.kind === 'git') {
      let auth: GitAuth | undefined;
      if (repo.credential_id) {
        const cred = await conn.selectFrom('credentials').selectAll().where('id', '=', repo.credential_id).executeTakeFirst();
        if (!cred) throw new Error(`credential of repository ${repo.id} no longer exists; choose another`);
        auth = authFor(cred.kind, cred.username, await openCredentialValue({ secrets: deps.secrets, vault: deps.runSecrets?.vault }, cred.secret_enc, `the credential of repository ${repo.id}`));
      }
      const mirror = join(deps.dataDir, 'mirrors', `${repo.id}.git`);
      ({ headSha: head } = await fetchMirror({
        url: repo.url,
        branch: repo.branch,
        auth,
        mirrorDir: mirror,
        knownHostsFile: join(deps.dataDir, 'known_hosts'),
      }));
      reader = new GitTreeReader(mirror, head, repo.path);
      versionsOf = (script, known) => gitVersions(mirror, head, repo.path, script, known);
    } else {
      reader = new DirectoryTreeReader(repo.path ? join(repo.url, repo.path) : repo.url);
      head = '';
      const now = new Date();
      versionsOf = async (script, known) => ({
        version: script.contentHash,
        candidates: known.has(script.contentHash)
          ? []
          : [{ version: script.contentHash, author: 'local directory', committedAt: now, message: `changed on disk (${script.file})`, manifest: script.manifest, script: script.scriptContent, file: script.file }],
      });
    }

    const parsed = await parseCatalogTree(reader);
    if (repo.kind === 'directory') {
      head = createHash('sha256').update(parsed.scripts.map((s) => s.contentHash).join(',')).digest('hex').slice(0, 12);
    }
    const problems: ManifestProblem[] = [...parsed.problems];
    const owners = new Map(
      (await conn.selectFrom('catalog_scripts').select(['id', 'repository_id', 'version', 'file']).where('team_id', '=', repo.team_id).execute()).map((r) => [r.id, r]),
    );
    const otherRepos = new Map(
      (await conn.selectFrom('script_repositories').select(['id', 'name']).where('team_id', '=', repo.team_id).execute()).map((r) => [r.id, r.name]),
    );

    const accepted: { script: ParsedScript; candidates: VersionCandidate[]; version: string }[] = [];
    for (const script of parsed.scripts) {
      const owner = owners.get(script.manifest.id);
      if (owner && owner.repository_id !== repo.id) {
        problems.push({ file: script.file, message: `id "${script.manifest.id}" is already defined in repository ${otherRepos.get(owner.repository_id) ?? owner.repository_id}; rename one of them` });
        continue;
      }
      const known = new Set(
        (await conn.selectFrom('script_versions').select('version').where('team_id', '=', repo.team_id).where('script_id', '=', script.manifest.id).execute()).map((r) => r.version),
      );
      const { version, candidates } = await versionsOf(script, known);
      if (!version || (!known.has(version) && !candidates.some((c) => c.version === version))) {
        problems.push({ file: script.file, message: 'no commit of this manifest could be read; sync again' });
        continue;
      }
      accepted.push({ script, candidates, version });
    }

    let added = 0;
    let updated = 0;
    let removed = 0;
    await conn.transaction().execute(async (tx) => {
      for (const { script, candidates, version } of accepted) {
        await store(tx, repo, candidates, script.manifest.id);
        const m = script.manifest;
        const before = owners.get(m.id);
        if (!before) added++;
        else if (before.version !== version) updated++;
        await tx
          .insertInto('catalog_scripts')
          .values({ team_id: repo.team_id, id: m.id, repository_id: repo.id, version, name: m.name, description: m.description, category: m.category, tags: m.tags, file: script.file })
          .onConflict((oc) =>
            oc.columns(['team_id', 'id']).doUpdateSet({ version, name: m.name, description: m.description, category: m.category, tags: m.tags, file: script.file, updated_at: new Date() }),
          )
          .execute();
      }
      // A script leaves the catalog when its manifest is gone; a manifest that is now broken keeps its last good version.
      const present = new Set(accepted.map((a) => a.script.manifest.id));
      const brokenFiles = new Set(problems.map((p) => p.file));
      for (const [id, row] of owners) {
        if (row.repository_id !== repo.id || present.has(id) || brokenFiles.has(row.file)) continue;
        await tx.deleteFrom('catalog_scripts').where('team_id', '=', repo.team_id).where('id', '=', id).execute();
        removed++;
      }
      await tx.deleteFrom('catalog_problems').where('repository_id', '=', repo.id).execute();
      if (problems.length > 0) {
        await tx
          .insertInto('catalog_problems')
          .values(problems.map((p) => ({ repository_id: repo.id, file: p.file, line: p.line ?? null, message: p.message, head })))
          .execute();
      }
    });
    return { head, added, updated, removed, problems: problems.length };
  }
}

export type CatalogSyncActivities = ReturnType<typeof createCatalogSyncActivities>;
