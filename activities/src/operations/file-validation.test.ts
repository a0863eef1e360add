import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test as baseTest } from 'vitest';
import type { FileCheck } from '@drydock/core/operations';
import type { OperationResult } from '@drydock/core/operations';
import { runOperation } from './run-operation.ts';

const MB = 1024 * 1024;
const test = baseTest.extend('dir', async ({}, { onCleanup }) => {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-file-op-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
});

function validate(path: string, checks: FileCheck[]): Promise<OperationResult> {
  return runOperation({ type: 'file_validation', path, checks }, { signal: new AbortController().signal, secrets: {} });
}

describe('file_validation', () => {
  test('sizes are judged in MB of 1,048,576 bytes, each check with what was seen', async ({ dir }) => {
    const file = join(dir, 'backup.tar');
    await writeFile(file, '');
    await truncate(file, 2 * MB);
    const result = await validate(file, ['exists', 'size_gt_mb:1', 'size_lt_mb:1', 'size_lt_mb:2.5']);
    expect(result.ok).toBe(false);
    expect(result.checks).toEqual([
      { name: 'exists', ok: true, detail: 'exists (a regular file, 2.0 MB)' },
      { name: 'size_gt_mb:1', ok: true, detail: 'size 2.0 MB (2097152 bytes) > 1 MB' },
      { name: 'size_lt_mb:1', ok: false, detail: 'size 2.0 MB (2097152 bytes), not less than 1 MB' },
      { name: 'size_lt_mb:2.5', ok: true, detail: 'size 2.0 MB (2097152 bytes) < 2.5 MB' },
    ]);
    expect(result.value).toBeUndefined();
    expect(result.output).toEqual([
      `file ${file}: exists, size_gt_mb:1, size_lt_mb:1, size_lt_mb:2.5`,
      'ok exists: exists (a regular file, 2.0 MB)',
      'ok size_gt_mb:1: size 2.0 MB (2097152 bytes) > 1 MB',
      'FAILED size_lt_mb:1: size 2.0 MB (2097152 bytes), not less than 1 MB',
      'ok size_lt_mb:2.5: size 2.0 MB (2097152 bytes) < 2.5 MB',
    ]);
  });

  test('modified_within compares the modification time with now', async ({ dir }) => {
    const file = join(dir, 'heartbeat');
    await writeFile(file, 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(file, twoHoursAgo, twoHoursAgo);
    const result = await validate(file, ['modified_within:1h', 'modified_within:90m', 'modified_within:3h', 'modified_within:1d']);
    expect(result.checks.map((c) => c.ok)).toEqual([false, false, true, true]);
    expect(result.checks[0]!.detail).toBe(`modified 2.0 h ago (${twoHoursAgo.toISOString()}), not within 1h`);
    expect(result.checks[2]!.detail).toBe(`modified 2.0 h ago (${twoHoursAgo.toISOString()}), within 3h`);
  });

  test('a missing file fails every check with "file does not exist", readable included', async ({ dir }) => {
    const result = await validate(join(dir, 'nope.log'), ['exists', 'readable', 'writable', 'size_gt_mb:1', 'modified_within:1h', 'contains:x']);
    expect(result.ok).toBe(false);
    expect(result.checks).toHaveLength(6);
    for (const check of result.checks) expect(check).toMatchObject({ ok: false, detail: 'file does not exist' });
  });

  test('a dangling symbolic link and a path through a file are told apart', async ({ dir }) => {
    await symlink(join(dir, 'gone'), join(dir, 'link'));
    await writeFile(join(dir, 'plain'), 'x');
    expect((await validate(join(dir, 'link'), ['exists'])).checks[0]!.detail).toBe('file does not exist (a symbolic link to a missing target)');
    expect((await validate(join(dir, 'plain', 'child'), ['exists'])).checks[0]!.detail).toBe('file does not exist (a part of the path is not a directory)');
  });

  test('permission checks ask the kernel as the agent’s user: root passes whatever the mode says', async ({ dir }) => {
    const file = join(dir, 'locked');
    await writeFile(file, 'secret');
    await chmod(file, 0o000);
    const result = await validate(file, ['readable', 'writable', 'contains:secret']);
    expect(process.getuid?.()).toBe(0);
    expect(result.checks).toEqual([
      { name: 'readable', ok: true, detail: 'readable by this agent (root, which the mode bits do not stop); mode 0000' },
      { name: 'writable', ok: true, detail: 'writable by this agent (root, which the mode bits do not stop); mode 0000' },
      { name: 'contains:secret', ok: true, detail: 'contains "secret"' },
    ]);
  });

  test('an agent running as another user is refused by mode 0000', async ({ dir }) => {
    await chmod(dir, 0o755);
    const file = join(dir, 'locked');
    await writeFile(file, 'secret');
    await chmod(file, 0o000);
    const script = `
      import { runOperation } from ${JSON.stringify(new URL('./run-operation.ts', import.meta.url).href)};
      const result = await runOperation({ type: 'file_validation', path: ${JSON.stringify(file)}, checks: ['exists', 'readable', 'writable', 'contains:secret'] }, { signal: new AbortController().signal, secrets: {} });
      console.log(JSON.stringify(result.checks));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, cwd: '/', env: {} });
    expect(JSON.parse(stdout)).toEqual([
      { name: 'exists', ok: true, detail: 'exists (a regular file, < 0.001 MB)' },
      { name: 'readable', ok: false, detail: 'not readable by this agent (uid 65534); mode 0000' },
      { name: 'writable', ok: false, detail: 'not writable by this agent (uid 65534); mode 0000' },
      { name: 'contains:secret', ok: false, detail: 'cannot be read: permission denied' },
    ]);
  });

  test('contains finds text, and says how much it read when it does not', async ({ dir }) => {
    const file = join(dir, 'app.log');
    await writeFile(file, 'boot\nlevel=ERROR disk full\n');
    const result = await validate(file, ['contains:level=ERROR', 'contains:ready']);
    expect(result.checks).toEqual([
      { name: 'contains:level=ERROR', ok: true, detail: 'contains "level=ERROR"' },
      { name: 'contains:ready', ok: false, detail: '"ready" not found in the file (27 bytes)' },
    ]);
  });

  test('contains reads no further than the first 10 MB', async ({ dir }) => {
    const file = join(dir, 'big.log');
    const early = Buffer.alloc(10 * MB, 'a');
    early.write('EARLY', 5 * MB);
    await writeFile(file, Buffer.concat([early, Buffer.from('LATE'), Buffer.alloc(MB / 2, 'b')]));
    const result = await validate(file, ['contains:EARLY', 'contains:LATE']);
    expect(result.checks).toEqual([
      { name: 'contains:EARLY', ok: true, detail: 'contains "EARLY" in its first 10 MB' },
      { name: 'contains:LATE', ok: false, detail: '"LATE" not found in the first 10 MB (the file is 10.5 MB; the rest was not read)' },
    ]);
  });

  test('a directory exists, but size and content checks say they apply to files', async ({ dir }) => {
    await mkdir(join(dir, 'releases'));
    const result = await validate(join(dir, 'releases'), ['exists', 'size_gt_mb:1', 'contains:x']);
    expect(result.checks).toEqual([
      { name: 'exists', ok: true, detail: 'exists (a directory)' },
      { name: 'size_gt_mb:1', ok: false, detail: 'is a directory; size checks apply to files' },
      { name: 'contains:x', ok: false, detail: 'is a directory; contains reads files' },
    ]);
  });

  test('a check that does not parse fails on its own; the others still run', async ({ dir }) => {
    const file = join(dir, 'x');
    await writeFile(file, 'x');
    const result = await validate(file, ['exists', 'modified_within:5 minutes' as FileCheck]);
    expect(result.checks).toEqual([
      { name: 'exists', ok: true, detail: 'exists (a regular file, < 0.001 MB)' },
      {
        name: 'modified_within:5 minutes',
        ok: false,
        detail: '"5 minutes" is not a duration: write a whole number above 0 and one unit, s, m, h or d (30s, 15m, 24h, 7d)',
      },
    ]);
  });
});
