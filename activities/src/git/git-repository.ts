import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type FetchTarget, fetchFailure, GitError, readFailure } from './git-error.ts';
import { ObjectReader } from './git-object-reader.ts';
import { runGit } from './git-process.ts';
import { type GitAuth, openRemoteAccess, parseRemote, type Remote, type RemoteAccess } from './git-remote.ts';

export { GitError, type GitErrorReason } from './git-error.ts';
export type { GitAuth } from './git-remote.ts';

export interface MirrorOptions {
  /** https://…, http://…, git://…, ssh://…, user@host:path, file:///… or an absolute local path. */
  url: string;
  branch: string;
  auth?: GitAuth;
  /** The bare mirror's directory, created if missing; one per repository. */
  mirrorDir: string;
  /** ssh host keys are pinned here on first use and verified on every later fetch. */
  knownHostsFile: string;
  timeoutMs?: number;
}

export interface CommitInfo {
  sha: string;
  author: string;
  email: string;
  committedAt: Date;
  /** The subject line. */
  message: string;
}

export interface TreeEntry {
  path: string;
  type: 'file' | 'executable' | 'symlink';
}

export interface FileContent {
  content: string;
  type: TreeEntry['type'];
}

const DEFAULT_FETCH_TIMEOUT_MS = 120_000;
const READ_TIMEOUT_MS = 60_000;

/** Clones the mirror on first use, fetches (prune) after; returns the commit the branch points at. */
export async function fetchMirror(options: MirrorOptions): Promise<{ headSha: string }> {
  const remote = parseRemote(options.url);
  const { branch, knownHostsFile } = options;
  const mirrorDir = resolve(options.mirrorDir);
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  return serialized(mirrorDir, async () => {
    const deadline = Date.now() + timeoutMs;
    await assertBranchName(branch);
    if (remote.localPath !== undefined && !(await exists(remote.localPath))) {
      throw new GitError('unreachable', `repository ${remote.display} is unreachable: ${remote.localPath} does not exist`);
    }
    const target: FetchTarget = { display: remote.display, branch, hostPort: remote.hostPort, knownHostsFile };
    const access = await openRemoteAccess(remote, options.auth, knownHostsFile);
    try {
      const fetchInto = (gitDir: string) => fetchBranch({ gitDir, remote, branch, access, target, deadline, timeoutMs });
      const state = await mirrorState(mirrorDir);
      if (state === 'foreign') {
        throw new GitError('not_a_repository', `${mirrorDir} exists but is not a git mirror: remove it or choose another mirror directory`);
      }
      if (state === 'mirror') await fetchInto(mirrorDir);
      else await cloneMirror(mirrorDir, branch, fetchInto);
      return { headSha: await branchHead(mirrorDir, branch) };
    } finally {
      await access.dispose();
    }
  });
}

/** Every entry under `dir` (recursive, repo-relative paths) at `sha`; `dir` '' means the whole tree. */
export async function listTree(mirrorDir: string, sha: string, dir: string): Promise<TreeEntry[]> {
  assertRevision(sha);
  const prefix = pathSegments(dir).join('/');
  const args = ['ls-tree', '-r', '-z', '--full-tree', '--end-of-options', sha, ...(prefix === '' ? [] : ['--', prefix])];
  const out = await readGit(mirrorDir, sha, args);
  const entries: TreeEntry[] = [];
  for (const record of out.toString('utf8').split('\0')) {
    const tab = record.indexOf('\t');
    if (tab === -1) continue;
    const type = entryType(record.slice(0, record.indexOf(' ')));
    const path = record.slice(tab + 1);
    if (type && (prefix === '' || path.startsWith(`${prefix}/`))) entries.push({ path, type });
  }
  return entries;
}

/** The content of one path at `sha` (utf8), with its type; undefined if absent or not a file. */
export async function readFile(mirrorDir: string, sha: string, path: string): Promise<FileContent | undefined> {
  return (await readFiles(mirrorDir, sha, [path])).get(path);
}

/** Like `readFile` for many paths, through one `git cat-file --batch` process. */
export async function readFiles(mirrorDir: string, sha: string, paths: readonly string[]): Promise<Map<string, FileContent | undefined>> {
  assertRevision(sha);
  const wanted = paths.map((path) => ({ path, segments: pathSegments(path) }));
  const reader = new ObjectReader(resolve(mirrorDir), READ_TIMEOUT_MS);
  try {
    const root = await reader.read(`${sha}^{tree}`);
    if (!root) throw readFailure('bad revision', mirrorDir, sha);
    const oidBytes = root.oid.length / 2;
    const trees = new Map<string, Promise<Map<string, TreeItem> | undefined>>([['', Promise.resolve(parseTree(root.content, oidBytes))]]);
    const treeAt = (segments: string[]): Promise<Map<string, TreeItem> | undefined> => {
      const key = segments.join('/');
      let tree = trees.get(key);
      if (!tree) {
        tree = treeAt(segments.slice(0, -1)).then(async (parent) => {
          const item = parent?.get(segments.at(-1) ?? '');
          if (item?.mode !== TREE_MODE) return undefined;
          const object = await reader.read(item.oid);
          return object ? parseTree(object.content, oidBytes) : undefined;
        });
        trees.set(key, tree);
      }
      return tree;
    };
    const read = async ({ path, segments }: { path: string; segments: string[] }): Promise<[string, FileContent | undefined]> => {
      const name = segments.at(-1);
      if (name === undefined) return [path, undefined];
      const item = (await treeAt(segments.slice(0, -1)))?.get(name);
      const type = item && entryType(item.mode);
      if (!item || !type) return [path, undefined];
      const blob = await reader.read(item.oid);
      return [path, blob ? { content: blob.content.toString('utf8'), type } : undefined];
    };
    return new Map(await Promise.all(wanted.map(read)));
  } catch (err) {
    if (err instanceof GitError) throw err;
    if (reader.timedOut) throw new GitError('timeout', `reading files at ${sha} from the mirror ${mirrorDir} timed out`);
    throw readFailure(reader.stderrText || String(err), mirrorDir, sha);
  } finally {
    await reader.close();
  }
}

/** Commits reachable from `sha` that touched any of `paths`, newest first (follow no renames), up to `limit`. */
export async function fileHistory(mirrorDir: string, sha: string, paths: string[], limit = 200): Promise<CommitInfo[]> {
  assertRevision(sha);
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
  if (paths.length === 0) return [];
  if (paths.some((path) => /[\r\n]/.test(path))) throw new RangeError('paths cannot contain line breaks');
  // Paths go through stdin: a catalog can name more of them than fit on a command line.
  const input = `--\n${paths.map((path) => `${path === '' ? '.' : path}\n`).join('')}`;
  const out = await readGit(mirrorDir, sha, ['log', `--max-count=${limit}`, '-z', `--format=${COMMIT_FORMAT}`, '--stdin', '--end-of-options', sha], input);
  return parseCommits(out);
}

export async function commitInfo(mirrorDir: string, sha: string): Promise<CommitInfo> {
  assertRevision(sha);
  const out = await readGit(mirrorDir, sha, ['log', '--no-walk', '-z', `--format=${COMMIT_FORMAT}`, '--end-of-options', `${sha}^{commit}`, '--']);
  const [commit] = parseCommits(out);
  if (!commit) throw readFailure('bad revision', mirrorDir, sha);
  return commit;
}

const COMMIT_FORMAT = '%H%x00%an%x00%ae%x00%cI%x00%s';
const TREE_MODE = '40000';

interface TreeItem {
  mode: string;
  oid: string;
}

function parseCommits(out: Buffer): CommitInfo[] {
  const fields = out.toString('utf8').split('\0');
  const commits: CommitInfo[] = [];
  for (let i = 0; i + 4 < fields.length; i += 5) {
    const [sha = '', author = '', email = '', committed = '', message = ''] = fields.slice(i, i + 5);
    commits.push({ sha: sha.trim(), author, email, committedAt: new Date(committed), message });
  }
  return commits;
}

/** A raw tree object: entries of `<mode> <name>\0<binary object id>`. */
function parseTree(content: Buffer, oidBytes: number): Map<string, TreeItem> {
  const items = new Map<string, TreeItem>();
  let at = 0;
  while (at < content.length) {
    const space = content.indexOf(0x20, at);
    const nul = content.indexOf(0, space);
    if (space === -1 || nul === -1) break;
    const mode = content.toString('latin1', at, space);
    const name = content.toString('utf8', space + 1, nul);
    items.set(name, { mode, oid: content.toString('hex', nul + 1, nul + 1 + oidBytes) });
    at = nul + 1 + oidBytes;
  }
  return items;
}

function entryType(mode: string): TreeEntry['type'] | undefined {
  if (mode === '100644' || mode === '100664') return 'file';
  if (mode === '100755') return 'executable';
  if (mode === '120000') return 'symlink';
  return undefined;
}

/** Repo-relative path segments; the caller owns path policy, but nothing here may point outside the tree. */
function pathSegments(path: string): string[] {
  const segments = path.split('/');
  if (path.startsWith('/') || segments.includes('..')) {
    throw new RangeError(`path ${JSON.stringify(path)} must be relative to the repository root, without .. segments`);
  }
  return segments.filter((segment) => segment !== '' && segment !== '.');
}

function assertRevision(sha: string): void {
  if (sha === '' || sha.startsWith('-') || /[\s\0]/.test(sha)) throw new RangeError(`${JSON.stringify(sha)} is not a commit id`);
}

async function readGit(mirrorDir: string, sha: string, args: string[], input?: string): Promise<Buffer> {
  const result = await runGit({ gitDir: resolve(mirrorDir), args, input, timeoutMs: READ_TIMEOUT_MS });
  if (result.timedOut) throw new GitError('timeout', `reading ${sha} from the mirror ${mirrorDir} timed out`);
  if (result.exitCode !== 0) throw readFailure(result.stderr, mirrorDir, sha);
  return result.stdout;
}

async function fetchBranch(input: {
  gitDir: string;
  remote: Remote;
  branch: string;
  access: RemoteAccess;
  target: FetchTarget;
  deadline: number;
  timeoutMs: number;
}): Promise<void> {
  const { gitDir, remote, branch, access, target } = input;
  // Only the catalog's branch, forced: a force-push upstream replaces the mirror's branch instead of failing.
  const refspec = `+refs/heads/${branch}:refs/heads/${branch}`;
  const result = await runGit({
    gitDir,
    args: ['fetch', '--prune', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', '--quiet', '--end-of-options', remote.url, refspec],
    extraEnv: access.env,
    secrets: access.secrets,
    timeoutMs: input.deadline - Date.now(),
  });
  if (result.timedOut) {
    throw new GitError(
      'timeout',
      `fetching ${remote.display} timed out after ${Math.round(input.timeoutMs / 1000)} s: check that the host is reachable, or allow more time`,
    );
  }
  if (result.exitCode !== 0) throw fetchFailure(result.stderr, target);
}

/** First fetch goes into a sibling directory that replaces `mirrorDir` only once it succeeded. */
async function cloneMirror(mirrorDir: string, branch: string, fetchInto: (gitDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(mirrorDir), { recursive: true });
  const staging = await mkdtemp(`${mirrorDir}.clone-`);
  try {
    await mustGit(undefined, ['init', '--bare', '--quiet', `--initial-branch=${branch}`, staging]);
    await fetchInto(staging);
    try {
      await rename(staging, mirrorDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process cloned it meanwhile: bring that one up to date instead.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      await fetchInto(mirrorDir);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function mirrorState(mirrorDir: string): Promise<'missing' | 'empty' | 'mirror' | 'foreign'> {
  let entries: string[];
  try {
    entries = await readdir(mirrorDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return 'foreign';
    throw err;
  }
  if (entries.length === 0) return 'empty';
  const result = await runGit({ gitDir: mirrorDir, args: ['rev-parse', '--is-bare-repository'], timeoutMs: READ_TIMEOUT_MS });
  return result.exitCode === 0 && result.stdout.toString('utf8').trim() === 'true' ? 'mirror' : 'foreign';
}

async function assertBranchName(branch: string): Promise<void> {
  const result = await runGit({ args: ['check-ref-format', `refs/heads/${branch}`], timeoutMs: READ_TIMEOUT_MS });
  if (branch === '' || branch.startsWith('-') || result.exitCode !== 0) {
    throw new GitError('other', `${JSON.stringify(branch)} is not a valid branch name`);
  }
}

async function branchHead(mirrorDir: string, branch: string): Promise<string> {
  const out = await mustGit(mirrorDir, ['rev-parse', '--verify', `refs/heads/${branch}^{commit}`]);
  return out.toString('utf8').trim();
}

async function mustGit(gitDir: string | undefined, args: string[]): Promise<Buffer> {
  const result = await runGit({ gitDir, args, timeoutMs: READ_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new GitError('other', `git ${args[0]} failed: ${result.stderr.trim() || 'no reason given'}`);
  return result.stdout;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

const queues = new Map<string, Promise<void>>();

/** Runs `task` after every earlier task on the same mirror in this process has settled. */
function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(task);
  const settled = run.then(
    () => {},
    () => {},
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return run;
}
