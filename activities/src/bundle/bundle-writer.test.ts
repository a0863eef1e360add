import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { peakLiveMemory } from '../../../tests/support/live-memory.ts';
import { BundleError, type BundleEntry, writeBundle } from './bundle-writer.ts';

const run = promisify(execFile);
const MB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bundle-writer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Bytes that gzip cannot shrink, from a fast generator, so the archive is as large as what goes in. */
function noise(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed | 1;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeInt32LE(x | 0, i);
  }
  return out;
}

async function* chunked(data: Buffer, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size);
}

async function bundleTo(file: string, entries: BundleEntry[], limits = { maxEntryBytes: 4 * MB, maxTotalBytes: 16 * MB }) {
  return writeBundle(entries, createWriteStream(file), { ...limits, root: 'run-0195', mtime: new Date('2026-03-01T12:00:00Z') });
}

describe('writeBundle', () => {
  test('a run bundle: GNU tar lists and extracts it, sha256sum -c passes, and MISSING.txt says what was left out and why', async () => {
    const artifact = join(dir, 'report.xml');
    await writeFile(artifact, '<testsuite tests="3" failures="1"/>\n');
    const big = noise(7, 5 * MB);
    const snapshot = Buffer.from(JSON.stringify({ PATH: '/usr/bin', LANG: 'C.UTF-8' }));
    const history = { events: Array.from({ length: 50 }, (_, i) => ({ eventId: String(i + 1), eventType: 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED' })) };
    const entries: BundleEntry[] = [
      { name: 'run.json', source: JSON.stringify({ id: 'run-0195', params: { token: '••••••' } }) },
      { name: 'script/deploy.sh', source: '#!/bin/sh\necho deploy\n', mode: 0o755 },
      { name: 'log.txt', source: () => chunked(Buffer.from('line one\nline two\n'.repeat(1000))) },
      { name: 'environment.json', source: () => chunked(snapshot), size: snapshot.byteLength },
      { name: 'artifacts/report.xml', source: () => createReadStream(artifact), size: (await stat(artifact)).size },
      { name: 'artifacts/core.dump', source: () => chunked(big), size: big.byteLength },
      { name: 'artifacts/unsized.bin', source: () => chunked(big) },
      {
        name: 'artifacts/gone.tar',
        source: () => {
          throw new Error('no blob artifacts/run-0195/gone.tar');
        },
        size: 10,
      },
      { name: 'artifacts/expired.log', unavailable: 'deleted by retention on 2026-02-20' },
      { name: 'history.json', source: JSON.stringify(history) },
      { name: 'artifacts/back\\slash.txt', source: 'a name with a backslash\n' },
    ];
    const file = join(dir, 'bundle.tar.gz');
    const report = await bundleTo(file, entries);

    expect(report.missing).toEqual([
      { name: 'artifacts/core.dump', reason: '5 MB is over the per-file limit of 4 MB' },
      { name: 'artifacts/unsized.bin', reason: 'it is over the per-file limit of 4 MB' },
      { name: 'artifacts/gone.tar', reason: 'it could not be read: no blob artifacts/run-0195/gone.tar' },
      { name: 'artifacts/expired.log', reason: 'deleted by retention on 2026-02-20' },
    ]);

    const { stdout: listing } = await run('tar', ['-tzvf', file]);
    const lines = listing.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual([
      'run-0195/run.json',
      'run-0195/script/deploy.sh',
      'run-0195/log.txt',
      'run-0195/environment.json',
      'run-0195/artifacts/report.xml',
      'run-0195/history.json',
      'run-0195/artifacts/back\\\\slash.txt',
      'run-0195/MISSING.txt',
      'run-0195/SHA256SUMS',
    ]);
    expect(lines[1]).toMatch(/^-rwxr-xr-x /);
    expect(lines[0]).toMatch(/^-rw-r--r-- .* 2026-03-01 /);

    const out = join(dir, 'extracted');
    await mkdir(out);
    await run('tar', ['-xzf', file, '-C', out]);
    const check = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(out, 'run-0195') });
    expect(check.stdout.trim().split('\n')).toEqual([
      'run.json: OK',
      'script/deploy.sh: OK',
      'log.txt: OK',
      'environment.json: OK',
      'artifacts/report.xml: OK',
      'history.json: OK',
      'artifacts/back\\slash.txt: OK',
      'MISSING.txt: OK',
    ]);
    expect(JSON.parse(await readFile(join(out, 'run-0195/history.json'), 'utf8'))).toEqual(history);
    expect(await readFile(join(out, 'run-0195/MISSING.txt'), 'utf8')).toBe(
      [
        'This bundle lacks files it should hold:',
        '',
        'artifacts/core.dump: 5 MB is over the per-file limit of 4 MB',
        'artifacts/unsized.bin: it is over the per-file limit of 4 MB',
        'artifacts/gone.tar: it could not be read: no blob artifacts/run-0195/gone.tar',
        'artifacts/expired.log: deleted by retention on 2026-02-20',
        '',
      ].join('\n'),
    );
    expect(report.files.find((f) => f.name === 'log.txt')?.size).toBe(18_000);
  });

  test('entries past the total limit are left out, later smaller ones still fit', async () => {
    const file = join(dir, 'total.tar.gz');
    const report = await bundleTo(
      file,
      [
        { name: 'a.bin', source: () => chunked(noise(1, 3 * MB)), size: 3 * MB },
        { name: 'b.bin', source: () => chunked(noise(2, 3 * MB)), size: 3 * MB },
        { name: 'c.bin', source: () => chunked(noise(3, 3 * MB)) },
        { name: 'd.txt', source: 'small\n' },
      ],
      { maxEntryBytes: 4 * MB, maxTotalBytes: 7 * MB },
    );
    expect(report.files.map((f) => f.name)).toEqual(['a.bin', 'b.bin', 'd.txt', 'MISSING.txt']);
    expect(report.missing).toEqual([{ name: 'c.bin', reason: '3 MB more would bring the bundle to 9 MB, over its limit of 7 MB' }]);
  });

  test('a source that fails or grows after its header is out is padded or cut, listed as incomplete and kept out of SHA256SUMS', async () => {
    const file = join(dir, 'incomplete.tar.gz');
    const report = await bundleTo(file, [
      {
        name: 'flaky.log',
        size: 200_000,
        source: async function* () {
          yield Buffer.alloc(100_000, 0x61);
          throw new Error('connection reset by peer');
        },
      },
      { name: 'growing.log', size: 10, source: () => chunked(Buffer.from('0123456789abcdef')) },
      { name: 'fine.txt', source: 'fine\n' },
    ]);
    expect(report.missing).toEqual([
      { name: 'flaky.log', reason: 'incomplete: reading it failed after 97.7 kB of 195.3 kB (connection reset by peer); the rest is zeros' },
      { name: 'growing.log', reason: 'incomplete: it grew past the 10 B it had when the bundle began it; it is cut there' },
    ]);
    const out = join(dir, 'incomplete');
    await mkdir(out);
    await run('tar', ['-xzf', file, '-C', out]);
    expect((await stat(join(out, 'run-0195/flaky.log'))).size).toBe(200_000);
    expect(await readFile(join(out, 'run-0195/growing.log'), 'utf8')).toBe('0123456789');
    const sums = await readFile(join(out, 'run-0195/SHA256SUMS'), 'utf8');
    expect(sums).not.toMatch(/flaky|growing/);
    await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(out, 'run-0195') });
  });

  test('refuses names that would escape the bundle or repeat, before writing them', async () => {
    for (const name of ['../etc/passwd', '/abs', 'a//b', 'line\nbreak', 'SHA256SUMS']) {
      await expect(bundleTo(join(dir, 'bad.tar.gz'), [{ name, source: 'x' }])).rejects.toThrow(BundleError);
    }
    await expect(bundleTo(join(dir, 'bad.tar.gz'), [{ name: 'a', source: 'x' }, { name: 'a', source: 'y' }])).rejects.toThrow('bundle entry a is named twice');
  });

  test('an output that fails ends the bundle with its error instead of hanging', async () => {
    let taken = 0;
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        taken += chunk.byteLength;
        done(taken > MB ? new Error('the client went away') : null);
      },
    });
    await expect(
      writeBundle([{ name: 'big.bin', source: () => chunked(noise(5, 8 * MB)), size: 8 * MB }], out, { maxEntryBytes: 16 * MB, maxTotalBytes: 16 * MB, gzipLevel: 1 }),
    ).rejects.toThrow('the client went away');
  });

  // 200 MB through gzip and GNU tar, with a full collection every 250 ms to sample memory: minutes on a busy machine.
  test('a 200 MB entry streams through into GNU tar with never more than 4 MB in flight, and little memory held', { timeout: 240_000 }, async () => {
    const size = 200 * MB;
    const chunk = 256 * 1024;
    const block = noise(11, chunk);
    const expected = createHash('sha256');
    let produced = 0;
    let consumed = 0;
    let inFlight = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; produced < size; i++) {
        // Each chunk differs, so nothing repeats within gzip's window.
        const part = Buffer.from(block);
        part.writeUInt32LE(i, 0);
        expected.update(part);
        produced += part.byteLength;
        inFlight = Math.max(inFlight, produced - consumed);
        yield part;
      }
    }
    const tarList = spawn('tar', ['-tzvf', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let listing = '';
    tarList.stdout.on('data', (d: Buffer) => (listing += d.toString()));
    const exited = new Promise<number | null>((resolve) => tarList.once('close', resolve));
    const counted = new Writable({
      write(data: Buffer, _enc, done) {
        consumed += data.byteLength;
        if (tarList.stdin.write(data)) done();
        else tarList.stdin.once('drain', () => done());
      },
      final(done) {
        tarList.stdin.end(done);
      },
    });
    const { result: report, peakBytes } = await peakLiveMemory(() =>
      writeBundle([{ name: 'core.dump', source: source, size }], counted, {
        maxEntryBytes: 256 * MB,
        maxTotalBytes: 256 * MB,
        gzipLevel: 1,
      }),
      250,
    );
    expect(await exited).toBe(0);
    expect(listing).toMatch(new RegExp(`-rw-r--r-- .* ${size} .* core\\.dump\\n`));
    expect(report.files[0]).toEqual({ name: 'core.dump', size, sha256: expected.digest('hex') });
    // Bytes read from the source that have not yet left as archive: bounded by the pipes' buffers, not the entry.
    expect(inFlight).toBeLessThan(4 * MB);
    expect(peakBytes).toBeLessThan(32 * MB);
  });
});
