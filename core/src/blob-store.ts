import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/** What a stored blob is: its key, its length in bytes and the SHA-256 of its bytes (hex). */
export interface StoredBlob {
  key: string;
  size: number;
  sha256: string;
}

export interface BlobInfo extends StoredBlob {
  contentType: string;
}

export interface PutOptions {
  contentType?: string;
  /** Refuse the blob, storing nothing, once it grows past this many bytes. */
  maxBytes?: number;
}

/**
 * Where large binary data lives (artifacts, environment snapshots): a directory by default. Keys are
 * slash-separated relative paths. A put is atomic: readers see the old blob or the whole new one.
 */
export interface BlobStore {
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<StoredBlob>;
  /** The blob's bytes; throws BlobNotFoundError when there is none. */
  get(key: string): Promise<Readable>;
  stat(key: string): Promise<BlobInfo | null>;
  /** Removes the blob; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
}

export class BlobKeyError extends Error {}
export class BlobNotFoundError extends Error {}
/** A key under another blob (`a.txt/b` when `a.txt` is one) or above others (`a` when `a/b` is one): a directory store holds only one of them. */
export class BlobKeyConflictError extends Error {}
export class BlobTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(key: string, maxBytes: number) {
    super(`${key} is larger than ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

const MAX_KEY = 1_024;

/** A key names a place inside the store: relative, no `.`/`..`/empty segments, no backslashes or control characters. */
export function checkBlobKey(key: string): string {
  const problem =
    key.length === 0
      ? 'is empty'
      : key.length > MAX_KEY
        ? `is longer than ${MAX_KEY} characters`
        : key.startsWith('/')
          ? 'is absolute'
          : key.includes('\\')
            ? 'contains a backslash'
            : [...key].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)
              ? 'contains a control character'
              : key.split('/').some((s) => s === '' || s === '.' || s === '..')
                ? 'has an empty, "." or ".." segment'
                : null;
  if (problem) throw new BlobKeyError(`blob key ${JSON.stringify(key.slice(0, 100))} ${problem}`);
  return key;
}

/** What the file system says when a key's path runs through a file, or ends on a directory. */
const PATH_CLASH = new Set(['ENOTDIR', 'EEXIST', 'EISDIR', 'ENOTEMPTY']);

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * A blob store in a directory: `objects/<key>` holds the bytes, `meta/<key>` their content type and checksum,
 * and `tmp/` the files being written, renamed into place once complete (same filesystem, so the rename is atomic).
 */
export function directoryBlobStore(root: string): BlobStore {
  const objectPath = (key: string) => join(root, 'objects', checkBlobKey(key));
  const metaPath = (key: string) => join(root, 'meta', checkBlobKey(key));
  const tmpDir = join(root, 'tmp');

  async function writeAtomically(target: string, write: (fh: Awaited<ReturnType<typeof open>>) => Promise<void>): Promise<void> {
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      try {
        await write(fh);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await mkdir(dirname(target), { recursive: true });
        await rename(tmp, target);
      } catch (err) {
        if (PATH_CLASH.has((err as NodeJS.ErrnoException).code ?? '')) throw new BlobKeyConflictError(`${target} runs through a file or is a directory`);
        throw err;
      }
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  return {
    async put(key, body, options = {}) {
      const target = objectPath(key);
      const hash = createHash('sha256');
      let size = 0;
      await writeAtomically(target, async (fh) => {
        const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = body instanceof Uint8Array ? [body] : body;
        for await (const chunk of chunks) {
          size += chunk.byteLength;
          if (options.maxBytes !== undefined && size > options.maxBytes) throw new BlobTooLargeError(key, options.maxBytes);
          hash.update(chunk);
          await fh.write(chunk);
        }
      });
      const stored: StoredBlob = { key, size, sha256: hash.digest('hex') };
      const meta: BlobInfo = { ...stored, contentType: options.contentType ?? 'application/octet-stream' };
      await writeAtomically(metaPath(key), async (fh) => void (await fh.writeFile(JSON.stringify(meta))));
      return stored;
    },

    async get(key) {
      try {
        const fh = await open(objectPath(key), 'r');
        return fh.createReadStream();
      } catch (err) {
        if (isMissing(err)) throw new BlobNotFoundError(`no blob ${key}`);
        throw err;
      }
    },

    async stat(key) {
      const file = objectPath(key);
      try {
        const [info, meta] = await Promise.all([stat(file), readFile(metaPath(key), 'utf8').then((t) => JSON.parse(t) as BlobInfo, () => null)]);
        if (!info.isFile()) return null;
        // The bytes are renamed into place before their metadata: a crash in between leaves a blob without a checksum.
        return meta && meta.size === info.size ? meta : { key, size: info.size, sha256: '', contentType: 'application/octet-stream' };
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },

    async delete(key) {
      await rm(metaPath(key), { force: true });
      await rm(objectPath(key), { force: true });
    },
  };
}
