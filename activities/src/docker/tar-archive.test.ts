import { execFile } from 'node:child_process';
import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test as baseTest } from 'vitest';
import { resolveInside } from './container-artifacts.ts';
import { type TarEntry, tarArchive, tarEntries } from './tar-archive.ts';

const exec = promisify(execFile);

const test = baseTest.extend('tmp', async ({}, { onCleanup }) => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-tar-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
});

/** A buffer as a stream of small chunks, so headers and contents straddle them. */
async function* chunked(data: Buffer, size = 100): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

async function readAll(data: Buffer): Promise<{ entry: Omit<TarEntry, 'mode'>; content: string | null }[]> {
  const out: { entry: Omit<TarEntry, 'mode'>; content: string | null }[] = [];
  for await (const e of tarEntries(chunked(data))) {
    out.push({ entry: { name: e.name, type: e.type, size: e.size, linkName: e.linkName }, content: e.type === 'file' ? (await e.content()).toString() : null });
  }
  return out;
}

describe('tar archives', () => {
  test('what tarArchive writes, GNU tar extracts with its names, modes and owners', async ({ tmp }) => {
    const long = `${'deep/'.repeat(30)}file.txt`;
    const archive = await tarArchive([
      { name: 'run', type: 'directory', mode: 0o700, uid: 1000, gid: 1001 },
      { name: 'run/script.sh', type: 'file', mode: 0o700, uid: 1000, gid: 1001, content: Buffer.from('echo "é 🚀"\n') },
      { name: `run/${long}`, type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.alloc(1500, 'x') },
    ]);
    await writeFile(join(tmp, 'a.tar'), archive);

    const { stdout } = await exec('tar', ['--numeric-owner', '-tvf', join(tmp, 'a.tar')]);
    const rows = stdout.trim().split('\n').map((l) => l.split(/\s+/));
    expect(rows.map((r) => [r[0], r[1], r[2], r.at(-1)])).toEqual([
      ['drwx------', '1000/1001', '0', 'run/'],
      ['-rwx------', '1000/1001', '15', 'run/script.sh'],
      ['-rw-r--r--', '0/0', '1500', `run/${long}`],
    ]);
    await mkdir(join(tmp, 'out'));
    await exec('tar', ['-xf', join(tmp, 'a.tar'), '-C', join(tmp, 'out')]);
    expect(await readFile(join(tmp, 'out/run/script.sh'), 'utf8')).toBe('echo "é 🚀"\n');
  });

  test('tarEntries reads GNU tar archives in PAX and GNU formats: long names, links, skipped contents', async ({ tmp }) => {
    const root = join(tmp, 'run');
    const long = `${'a-rather-long-directory-name/'.repeat(6)}ünïcode file.txt`;
    await mkdir(join(root, long, '..'), { recursive: true });
    await writeFile(join(root, long), 'deep\n');
    await writeFile(join(root, 'big.bin'), Buffer.alloc(70_000, 1));
    await writeFile(join(root, 'small.txt'), 'small\n');
    await symlink('small.txt', join(root, 'soft'));
    await link(join(root, 'small.txt'), join(root, 'hard'));

    for (const format of ['pax', 'gnu']) {
      const file = join(tmp, `${format}.tar`);
      await exec('tar', [`--format=${format}`, '--sort=name', '-cf', file, '-C', tmp, 'run']);
      const entries = await readAll(await readFile(file));
      const byName = new Map(entries.map((e) => [e.entry.name, e]));
      expect(byName.get(`run/${long}`)).toEqual({ entry: { name: `run/${long}`, type: 'file', size: 5, linkName: '' }, content: 'deep\n' });
      expect(byName.get('run/big.bin')?.content).toBe(Buffer.alloc(70_000, 1).toString());
      expect(byName.get('run/soft')?.entry).toEqual({ name: 'run/soft', type: 'symlink', size: 0, linkName: 'small.txt' });
      // GNU tar stores the first of two hardlinked names with the bytes, and the second as a link to it.
      expect(byName.get('run/small.txt')?.entry).toEqual({ name: 'run/small.txt', type: 'hardlink', size: 0, linkName: 'run/hard' });
      expect(byName.get('run/hard')?.content).toBe('small\n');
      expect(byName.get('run')?.entry.type).toBe('directory');
    }
  });

  test('a corrupt or cut archive is an error, not a short listing', async () => {
    const archive = await tarArchive([{ name: 'a.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.alloc(2000, 'a') }]);
    const corrupt = Buffer.from(archive);
    corrupt[0] = 'b'.charCodeAt(0);
    await expect(readAll(corrupt)).rejects.toThrow('bad checksum');
    await expect(readAll(archive.subarray(0, 1024))).rejects.toThrow('ends in the middle of an entry');
  });
});

describe('following links inside the work directory', () => {
  const listing = new Map<string, TarEntry>(
    (
      [
        ['report.txt', 'file', ''],
        ['out', 'directory', ''],
        ['out/link', 'symlink', '../report.txt'],
        ['out/absolute', 'symlink', '/drydock/run/report.txt'],
        ['out/via-dir', 'symlink', 'dir-link/report.txt'],
        ['out/dir-link', 'symlink', '..'],
        ['out/escape', 'symlink', '../../../etc/passwd'],
        ['out/outside', 'symlink', '/etc/passwd'],
        ['out/sneaky', 'symlink', '/drydock/run/../../etc/passwd'],
        ['loop-a', 'symlink', 'loop-b'],
        ['loop-b', 'symlink', 'loop-a'],
      ] as const
    ).map(([name, type, linkName]) => [name, { name, type, linkName, size: 0, mode: 0o644 }]),
  );

  test('symlinks that stay inside resolve to the file they name', () => {
    expect(resolveInside('out/link', listing)).toBe('report.txt');
    expect(resolveInside('out/absolute', listing)).toBe('report.txt');
    expect(resolveInside('out/via-dir', listing)).toBe('report.txt');
  });

  test('symlinks that leave the work directory or loop resolve to nothing', () => {
    expect(resolveInside('out/escape', listing)).toBeNull();
    expect(resolveInside('out/outside', listing)).toBeNull();
    expect(resolveInside('out/sneaky', listing)).toBeNull();
    expect(resolveInside('loop-a', listing)).toBeNull();
  });
});
