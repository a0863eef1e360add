import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test as baseTest } from 'vitest';
import { freePort } from '@drydock/core';
import { createSourceRepository, git, type SourceRepository, stopProcess, waitForPort } from './git-fixtures.ts';
import {
  commitInfo,
  fetchMirror,
  fileHistory,
  GitError,
  listTree,
  type MirrorOptions,
  readFile,
  readFiles,
} from './git-repository.ts';

interface Catalog {
  source: SourceRepository;
  /** Adds the manifest (v1), a script, a symlink and a README. */
  first: string;
  /** Changes the manifest (v2). */
  second: string;
  /** Touches only the README. */
  unrelated: string;
}

const test = baseTest
  .extend('tmp', async ({}, { onCleanup }) => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-git-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    return dir;
  })
  .extend('catalog', async ({ tmp }): Promise<Catalog> => {
    const source = await createSourceRepository(join(tmp, 'remote'));
    await source.write({
      'manifests/deploy.yaml': 'id: deploy\nversion: 1\n',
      'scripts/deploy.sh': { content: '#!/bin/sh\necho deploy\n', executable: true },
      'scripts/latest': { content: '', symlinkTo: 'deploy.sh' },
      'README.md': '# catalog\n',
    });
    const first = await source.commit('Add deploy', { name: 'Ada Lovelace', email: 'ada@example.com' });
    await source.write({ 'manifests/deploy.yaml': 'id: deploy\nversion: 2\n' });
    const second = await source.commit('Bump deploy to v2\n\nLonger body.', { name: 'Grace Hopper', email: 'grace@example.com' });
    await source.write({ 'README.md': '# catalog\n\nRead me.\n' });
    const unrelated = await source.commit('Explain the catalog');
    await source.push();
    return { source, first, second, unrelated };
  });

function options(tmp: string, url: string, extra: Partial<MirrorOptions> = {}): MirrorOptions {
  return { url, branch: 'main', mirrorDir: join(tmp, 'mirror'), knownHostsFile: join(tmp, 'known_hosts'), ...extra };
}

async function failure(promise: Promise<unknown>): Promise<GitError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GitError)) throw new Error(`expected a GitError, got ${String(err)}`);
  return err;
}

describe('a bare repository on this machine', () => {
  test('is mirrored over file:// and read at the head of its branch', async ({ tmp, catalog }) => {
    const { headSha } = await fetchMirror(options(tmp, pathToFileURL(catalog.source.bareDir).href));
    expect(headSha).toBe(catalog.unrelated);
    const mirror = join(tmp, 'mirror');

    expect(await listTree(mirror, headSha, '')).toEqual([
      { path: 'README.md', type: 'file' },
      { path: 'manifests/deploy.yaml', type: 'file' },
      { path: 'scripts/deploy.sh', type: 'executable' },
      { path: 'scripts/latest', type: 'symlink' },
    ]);
    expect(await listTree(mirror, headSha, 'scripts')).toEqual([
      { path: 'scripts/deploy.sh', type: 'executable' },
      { path: 'scripts/latest', type: 'symlink' },
    ]);
    expect(await listTree(mirror, headSha, 'scripts/')).toHaveLength(2);
    expect(await listTree(mirror, headSha, 'README.md')).toEqual([]);
    expect(await listTree(mirror, headSha, 'nowhere')).toEqual([]);

    expect(await readFile(mirror, headSha, 'manifests/deploy.yaml')).toEqual({ content: 'id: deploy\nversion: 2\n', type: 'file' });
    expect(await readFile(mirror, catalog.first, 'manifests/deploy.yaml')).toEqual({ content: 'id: deploy\nversion: 1\n', type: 'file' });
    expect(await readFile(mirror, headSha, 'scripts/deploy.sh')).toEqual({ content: '#!/bin/sh\necho deploy\n', type: 'executable' });
    expect(await readFile(mirror, headSha, 'scripts/latest')).toEqual({ content: 'deploy.sh', type: 'symlink' });
    expect(await readFile(mirror, headSha, 'scripts/missing.sh')).toBeUndefined();
    expect(await readFile(mirror, headSha, 'scripts')).toBeUndefined();
    expect(await readFile(mirror, headSha, 'README.md/inside')).toBeUndefined();
  });

  test('gives the history of a manifest, newest first, without commits that did not touch it', async ({ tmp, catalog }) => {
    const { headSha } = await fetchMirror(options(tmp, catalog.source.bareDir));
    const mirror = join(tmp, 'mirror');

    const history = await fileHistory(mirror, headSha, ['manifests/deploy.yaml']);
    expect(history.map((c) => c.sha)).toEqual([catalog.second, catalog.first]);
    expect(history[0]).toMatchObject({ author: 'Grace Hopper', email: 'grace@example.com', message: 'Bump deploy to v2' });
    expect(history[1]).toMatchObject({ author: 'Ada Lovelace', email: 'ada@example.com', message: 'Add deploy' });
    expect(history[0]?.committedAt).toBeInstanceOf(Date);
    expect(Number.isNaN(history[0]?.committedAt.getTime())).toBe(false);

    expect((await fileHistory(mirror, headSha, ['manifests/deploy.yaml'], 1)).map((c) => c.sha)).toEqual([catalog.second]);
    expect((await fileHistory(mirror, headSha, ['manifests/deploy.yaml', 'README.md'])).map((c) => c.sha)).toEqual([
      catalog.unrelated,
      catalog.second,
      catalog.first,
    ]);
    expect((await fileHistory(mirror, catalog.first, ['manifests/deploy.yaml'])).map((c) => c.sha)).toEqual([catalog.first]);
    expect(await fileHistory(mirror, headSha, ['manifests/gone.yaml'])).toEqual([]);
    expect(await fileHistory(mirror, headSha, ['manifests/*.yaml'])).toEqual([]);

    expect(await commitInfo(mirror, catalog.second)).toEqual(history[0]);
  });

  test('reads many files through one batch', async ({ tmp, catalog }) => {
    const { headSha } = await fetchMirror(options(tmp, catalog.source.bareDir));
    const files = await readFiles(join(tmp, 'mirror'), headSha, ['README.md', 'manifests/deploy.yaml', './scripts/deploy.sh', 'nope', 'scripts/latest']);
    expect(Object.fromEntries(files)).toEqual({
      'README.md': { content: '# catalog\n\nRead me.\n', type: 'file' },
      'manifests/deploy.yaml': { content: 'id: deploy\nversion: 2\n', type: 'file' },
      './scripts/deploy.sh': { content: '#!/bin/sh\necho deploy\n', type: 'executable' },
      nope: undefined,
      'scripts/latest': { content: 'deploy.sh', type: 'symlink' },
    });
  });

  test('refuses to read paths that leave the repository', async ({ tmp, catalog }) => {
    const { headSha } = await fetchMirror(options(tmp, catalog.source.bareDir));
    const mirror = join(tmp, 'mirror');
    await expect(readFile(mirror, headSha, '../outside')).rejects.toThrow(/without \.\. segments/);
    await expect(readFile(mirror, headSha, 'manifests/../../outside')).rejects.toThrow(/without \.\. segments/);
    await expect(readFile(mirror, headSha, '/etc/passwd')).rejects.toThrow(/relative to the repository root/);
  });

  test('is mirrored from a plain path and follows pushes and force-pushes', async ({ tmp, catalog }) => {
    const { source } = catalog;
    const mirror = join(tmp, 'mirror');
    expect((await fetchMirror(options(tmp, source.bareDir))).headSha).toBe(catalog.unrelated);

    await source.write({ 'manifests/backup.yaml': 'id: backup\n' });
    const pushed = await source.commit('Add backup');
    await source.push();
    const afterPush = await fetchMirror(options(tmp, source.bareDir));
    expect(afterPush.headSha).toBe(pushed);
    expect(await readFile(mirror, pushed, 'manifests/backup.yaml')).toEqual({ content: 'id: backup\n', type: 'file' });

    await source.git('reset', '--quiet', '--hard', catalog.first);
    await source.write({ 'manifests/deploy.yaml': 'id: deploy\nversion: 3\n' });
    const rewritten = await source.commit('Rewrite deploy');
    await source.push({ force: true });
    const afterForcePush = await fetchMirror(options(tmp, source.bareDir));
    expect(afterForcePush.headSha).toBe(rewritten);
    expect((await fileHistory(mirror, rewritten, ['manifests/deploy.yaml'])).map((c) => c.message)).toEqual(['Rewrite deploy', 'Add deploy']);
    expect(await readFile(mirror, rewritten, 'manifests/backup.yaml')).toBeUndefined();
  });

  test('stays consistent when fetched concurrently', async ({ tmp, catalog }) => {
    const heads = await Promise.all([1, 2, 3, 4].map(() => fetchMirror(options(tmp, catalog.source.bareDir))));
    expect(heads.map((h) => h.headSha)).toEqual([catalog.unrelated, catalog.unrelated, catalog.unrelated, catalog.unrelated]);
    await git(tmp, `--git-dir=${join(tmp, 'mirror')}`, 'fsck', '--no-progress');
    expect((await readdir(tmp)).filter((name) => name.startsWith('mirror'))).toEqual(['mirror']);
  });
});

describe('a repository served by git daemon', () => {
  test('is mirrored over git://', async ({ tmp, catalog }) => {
    const port = await freePort();
    const daemon = spawn(
      'git',
      ['daemon', '--reuseaddr', `--base-path=${join(tmp, 'remote')}`, '--export-all', `--port=${port}`, '--listen=127.0.0.1'],
      { stdio: 'ignore' },
    );
    try {
      await waitForPort(port, daemon, 'git daemon');
      const { headSha } = await fetchMirror(options(tmp, `git://127.0.0.1:${port}/catalog.git`));
      expect(headSha).toBe(catalog.unrelated);
      expect(await readFile(join(tmp, 'mirror'), headSha, 'manifests/deploy.yaml')).toEqual({ content: 'id: deploy\nversion: 2\n', type: 'file' });

      const missing = await failure(fetchMirror(options(tmp, `git://127.0.0.1:${port}/nothing-here.git`, { mirrorDir: join(tmp, 'other') })));
      expect(missing.reason).toBe('not_a_repository');
    } finally {
      await stopProcess(daemon);
    }
  });
});

describe('a fetch that fails', () => {
  test('names an unreachable host or path', async ({ tmp }) => {
    const port = await freePort();
    const overGit = await failure(fetchMirror(options(tmp, `git://127.0.0.1:${port}/catalog.git`)));
    expect(overGit.reason).toBe('unreachable');
    expect(overGit.message).toMatch(new RegExp(`^repository git://127\\.0\\.0\\.1:${port}/catalog\\.git is unreachable: .*Connection refused`));

    const overHttp = await failure(fetchMirror(options(tmp, `http://127.0.0.1:${port}/catalog.git`)));
    expect(overHttp.reason).toBe('unreachable');
    expect(overHttp.message).toMatch(new RegExp(`^repository http://127\\.0\\.0\\.1:${port}/catalog\\.git is unreachable: Failed to connect`));

    const url = pathToFileURL(join(tmp, 'no-such.git')).href;
    const overFile = await failure(fetchMirror(options(tmp, url)));
    expect(overFile.reason).toBe('unreachable');
    expect(overFile.message).toBe(`repository ${url} is unreachable: ${join(tmp, 'no-such.git')} does not exist`);
  });

  test('names a directory that is not a repository', async ({ tmp }) => {
    await mkdir(join(tmp, 'plain'));
    const err = await failure(fetchMirror(options(tmp, join(tmp, 'plain'))));
    expect(err.reason).toBe('not_a_repository');
    expect(err.message).toBe(`no git repository at ${join(tmp, 'plain')}: check the URL (and that the credential can see the repository)`);
  });

  test('names a missing branch', async ({ tmp, catalog }) => {
    const err = await failure(fetchMirror(options(tmp, catalog.source.bareDir, { branch: 'release' })));
    expect(err.reason).toBe('branch_missing');
    expect(err.message).toBe(`branch release not found in ${catalog.source.bareDir}`);
    const invalid = await failure(fetchMirror(options(tmp, catalog.source.bareDir, { branch: 'bad..name' })));
    expect(invalid.message).toBe('"bad..name" is not a valid branch name');
  });

  test('leaves nothing behind when it was the first', async ({ tmp, catalog }) => {
    await failure(fetchMirror(options(tmp, catalog.source.bareDir, { branch: 'release' })));
    expect((await readdir(tmp)).filter((name) => name.startsWith('mirror'))).toEqual([]);
  });

  test('keeps the last good mirror readable', async ({ tmp, catalog }) => {
    const mirror = join(tmp, 'mirror');
    const { headSha } = await fetchMirror(options(tmp, catalog.source.bareDir));
    const port = await freePort();

    expect((await failure(fetchMirror(options(tmp, `git://127.0.0.1:${port}/catalog.git`)))).reason).toBe('unreachable');
    expect((await failure(fetchMirror(options(tmp, catalog.source.bareDir, { branch: 'release' })))).reason).toBe('branch_missing');
    await rm(catalog.source.bareDir, { recursive: true });
    expect((await failure(fetchMirror(options(tmp, catalog.source.bareDir)))).reason).toBe('unreachable');

    expect(await readFile(mirror, headSha, 'manifests/deploy.yaml')).toEqual({ content: 'id: deploy\nversion: 2\n', type: 'file' });
    expect((await listTree(mirror, headSha, 'manifests')).map((e) => e.path)).toEqual(['manifests/deploy.yaml']);
    expect((await git(tmp, `--git-dir=${mirror}`, 'rev-parse', 'refs/heads/main')).trim()).toBe(headSha);
  });

  test('gives up with reason timeout when the server never answers', async ({ tmp }) => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const err = await failure(fetchMirror(options(tmp, `git://127.0.0.1:${port}/catalog.git`, { timeoutMs: 1500 })));
      expect(err.reason).toBe('timeout');
      expect(err.message).toBe(`fetching git://127.0.0.1:${port}/catalog.git timed out after 2 s: check that the host is reachable, or allow more time`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('refuses a mirror directory that holds something else', async ({ tmp, catalog }) => {
    await mkdir(join(tmp, 'mirror'));
    await writeFile(join(tmp, 'mirror', 'notes.txt'), 'mine\n');
    const err = await failure(fetchMirror(options(tmp, catalog.source.bareDir)));
    expect(err.reason).toBe('not_a_repository');
    expect(err.message).toBe(`${join(tmp, 'mirror')} exists but is not a git mirror: remove it or choose another mirror directory`);
  });
});

describe('reading a mirror', () => {
  test('fails clearly for an unknown commit or a missing mirror', async ({ tmp, catalog }) => {
    await fetchMirror(options(tmp, catalog.source.bareDir));
    const mirror = join(tmp, 'mirror');
    const unknown = 'f'.repeat(40);
    for (const read of [
      () => readFile(mirror, unknown, 'README.md'),
      () => listTree(mirror, unknown, ''),
      () => fileHistory(mirror, unknown, ['README.md']),
      () => commitInfo(mirror, unknown),
    ]) {
      const err = await failure(read());
      expect(err.message).toBe(`commit ${unknown} is not in the mirror ${mirror}: fetch the repository again`);
    }
    const absent = join(tmp, 'absent');
    for (const read of [() => readFile(absent, catalog.first, 'README.md'), () => listTree(absent, catalog.first, ''), () => commitInfo(absent, catalog.first)]) {
      const err = await failure(read());
      expect(err.reason).toBe('not_a_repository');
    }
  });
});
