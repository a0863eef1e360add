import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobKeyConflictError, BlobKeyError, BlobNotFoundError, type BlobStore, BlobTooLargeError, checkBlobKey, directoryBlobStore } from './blob-store.ts';

let root: string;
let store: BlobStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'drydock-blobs-'));
  store = directoryBlobStore(root);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the directory blob store', () => {
  it('stores a buffer and reads it back with its size, checksum and content type', async () => {
    const stored = await store.put('runs/r1/1/out/report.txt', Buffer.from('hello\n'), { contentType: 'text/plain' });
    expect(stored).toEqual({ key: 'runs/r1/1/out/report.txt', size: 6, sha256: createHash('sha256').update('hello\n').digest('hex') });
    expect(await text(await store.get('runs/r1/1/out/report.txt'))).toBe('hello\n');
    expect(await store.stat('runs/r1/1/out/report.txt')).toEqual({ ...stored, contentType: 'text/plain' });
  });

  it('streams a large body in without holding it, and hashes what it wrote', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const chunks = Array.from({ length: Math.ceil(data.length / 65_536) }, (_, i) => data.subarray(i * 65_536, (i + 1) * 65_536));
    const stored = await store.put('big.bin', Readable.from(chunks));
    expect(stored.size).toBe(data.length);
    expect(stored.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect((await bytesOf(await store.get('big.bin'))).equals(data)).toBe(true);
    expect((await store.stat('big.bin'))?.contentType).toBe('application/octet-stream');
  });

  it('refuses a body past maxBytes, keeps the previous blob and leaves no partial file', async () => {
    await store.put('a/b.bin', Buffer.from('old'));
    const body = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    await expect(store.put('a/b.bin', body, { maxBytes: 1_000 })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await text(await store.get('a/b.bin'))).toBe('old');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('replaces a blob whole: a reader that opened the old one still reads the old bytes', async () => {
    await store.put('k', Buffer.alloc(100_000, 'a'));
    const reader = await store.get('k');
    await store.put('k', Buffer.alloc(10, 'b'));
    expect(await text(reader)).toBe('a'.repeat(100_000));
    expect(await text(await store.get('k'))).toBe('b'.repeat(10));
  });

  it('refuses a key under an existing blob, or above existing ones, keeping both and no partial file', async () => {
    await store.put('out/a.txt', Buffer.from('a'));
    await expect(store.put('out/a.txt/b.txt', Buffer.from('b'))).rejects.toBeInstanceOf(BlobKeyConflictError);
    await expect(store.put('out', Buffer.from('c'))).rejects.toBeInstanceOf(BlobKeyConflictError);
    expect(await text(await store.get('out/a.txt'))).toBe('a');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('says plainly when a blob is missing, and deleting twice is fine', async () => {
    await expect(store.get('nope')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.stat('nope')).toBeNull();
    await store.put('gone', Buffer.from('x'));
    await store.delete('gone');
    await store.delete('gone');
    expect(await store.stat('gone')).toBeNull();
    await expect(store.get('gone')).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('refuses keys that would leave the store', async () => {
    for (const key of ['', '/etc/passwd', '../outside', 'a/../../b', 'a//b', './a', 'a\\b', 'a\0b', 'x'.repeat(1_025)]) {
      expect(() => checkBlobKey(key), key).toThrow(BlobKeyError);
      await expect(store.put(key, Buffer.from('x')), key).rejects.toBeInstanceOf(BlobKeyError);
      await expect(store.get(key), key).rejects.toBeInstanceOf(BlobKeyError);
    }
    await writeFile(join(root, 'outside'), 'secret');
    await expect(store.stat('../outside')).rejects.toBeInstanceOf(BlobKeyError);
    expect(checkBlobKey('runs/r/1/.hidden/file name.txt')).toBe('runs/r/1/.hidden/file name.txt');
  });
});
