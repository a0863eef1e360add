import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { formatBytes } from '../central-capture.ts';

/** The bytes of an entry: in hand, or a stream opened when the entry's turn comes (so a failed open is a missing file, not a failed bundle). */
export type BundleEntrySource = Uint8Array | string | (() => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>);

export interface BundleFile {
  /** The path inside the bundle: relative, `/`-separated. */
  name: string;
  source: BundleEntrySource;
  /**
   * The length in bytes when it is known before reading (a blob's stat): the bytes then go straight into the
   * archive. A stream without it is spooled to a temporary file first, never past the per-entry limit.
   */
  size?: number;
  /** Default 0o644; scripts 0o755. */
  mode?: number;
}

/** Something the bundle should hold but cannot (an artifact deleted by retention): listed in MISSING.txt with the reason. */
export interface BundleUnavailable {
  name: string;
  unavailable: string;
}

export type BundleEntry = BundleFile | BundleUnavailable;

export interface BundleLimits {
  /** An entry larger than this is left out. */
  maxEntryBytes: number;
  /** Entries that would bring the bundle's content (uncompressed) past this are left out. */
  maxTotalBytes: number;
}

export interface BundleOptions extends BundleLimits {
  /** A directory every path is under, so extracting the bundle makes one folder (`run-<id>`). */
  root?: string;
  /** The modification time of every entry; default now. */
  mtime?: Date;
  /** Where streams of unknown size are spooled; default the OS temp directory. */
  spoolDir?: string;
  /** zlib level, 1 (fast) to 9 (small); default 6. */
  gzipLevel?: number;
}

export interface BundleReport {
  /** Every file written whole, in order, with its SHA-256 as listed in SHA256SUMS. */
  files: { name: string; size: number; sha256: string }[];
  /** What the bundle lacks and why, as MISSING.txt lists it. */
  missing: { name: string; reason: string }[];
}

export const CHECKSUM_FILE = 'SHA256SUMS';
export const MISSING_FILE = 'MISSING.txt';

/** A bundle that cannot be written as asked: a bad entry name, or the output failed. */
export class BundleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BundleError';
  }
}

function checkName(name: string): string {
  const problem =
    name === ''
      ? 'is empty'
      : name.startsWith('/')
        ? 'is absolute'
        : [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)
          ? 'contains a control character'
          : name.split('/').some((s) => s === '' || s === '.' || s === '..')
            ? 'has an empty, "." or ".." segment'
            : null;
  if (problem) throw new BundleError(`bundle entry ${JSON.stringify(name.slice(0, 200))} ${problem}`);
  return name;
}

/** A `sha256sum` line; GNU's format escapes a name holding a backslash and marks the line with one. */
function checksumLine(sha256: string, name: string): string {
  return name.includes('\\') ? `\\${sha256}  ${name.replaceAll('\\', '\\\\')}\n` : `${sha256}  ${name}\n`;
}

/** A tar entry's writable side (a streamx stream, not a Node one). */
interface EntrySink {
  write(data: Uint8Array): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/** Writes with backpressure; `failed` rejects when the output fails, so a drain that will never come is not awaited forever. */
async function writeChunk(target: EntrySink, chunk: Uint8Array, failed: Promise<never>): Promise<void> {
  if (target.write(chunk)) return;
  await Promise.race([new Promise<void>((resolve) => target.once('drain', resolve)), failed]);
}

/** Reads at most `max` bytes: the iterator is closed as soon as it goes past, so a huge stream is never read to its end. */
async function spool(source: AsyncIterable<Uint8Array>, file: string, max: number): Promise<number | 'over'> {
  const fh = await open(file, 'wx', 0o600);
  try {
    let size = 0;
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > max) return 'over';
      await fh.write(chunk);
    }
    return size;
  } finally {
    await fh.close();
  }
}

/**
 * Writes a tar.gz of `entries`, in order, to `out`, one chunk at a time: no entry and no archive is ever held in
 * memory. Each file's SHA-256 is computed as it streams; `SHA256SUMS` (GNU `sha256sum -c` format) closes the
 * archive. An entry over a limit, whose source fails to open, or that is `unavailable` is left out and listed with
 * the reason in `MISSING.txt`. A source that fails or changes length after its first bytes were archived is padded
 * or cut to the size its header declared, kept out of `SHA256SUMS` and listed as incomplete.
 */
export async function writeBundle(
  entries: Iterable<BundleEntry> | AsyncIterable<BundleEntry>,
  out: Writable,
  options: BundleOptions,
): Promise<BundleReport> {
  const root = options.root === undefined ? '' : `${checkName(options.root)}/`;
  const mtime = options.mtime ?? new Date();
  const pack = tar.pack();
  const written = pipeline(pack, createGzip({ level: options.gzipLevel ?? 6 }), out);
  let outputError: unknown;
  const failed = written.then(
    () => new Promise<never>(() => undefined),
    (err: unknown) => {
      outputError = err;
      throw err;
    },
  );
  failed.catch(() => undefined);
  const report: BundleReport = { files: [], missing: [] };
  const seen = new Set<string>();
  let total = 0;
  let spoolDir: string | undefined;

  /** Archives one file of `size` bytes. A source that fails or changes length is padded or cut to `size`, so the archive stays whole. */
  const addEntry = async (name: string, size: number, mode: number, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ sha256: string; problem?: string }> => {
    const hash = createHash('sha256');
    let done = 0;
    let problem: string | undefined;
    const entry = pack.entry({ name: root + name, size, mode, mtime, type: 'file' });
    const finished = once(entry, 'finish');
    finished.catch(() => undefined);
    const iterator = (async function* () {
      yield* chunks;
    })();
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (err) {
        problem = `reading it failed after ${formatBytes(done)} of ${formatBytes(size)} (${(err as Error).message}); the rest is zeros`;
        break;
      }
      if (next.done) break;
      if (outputError) throw outputError;
      const room = size - done;
      const part = next.value.byteLength > room ? next.value.subarray(0, room) : next.value;
      hash.update(part);
      await writeChunk(entry, part, failed);
      done += part.byteLength;
      if (part.byteLength < next.value.byteLength) {
        problem = `it grew past the ${formatBytes(size)} it had when the bundle began it; it is cut there`;
        await iterator.return?.();
        break;
      }
    }
    if (!problem && done < size) problem = `it ended ${formatBytes(size - done)} short of the ${formatBytes(size)} it had when the bundle began it; the rest is zeros`;
    for (let left = size - done; left > 0; left -= 65_536) await writeChunk(entry, new Uint8Array(Math.min(left, 65_536)), failed);
    entry.end(undefined);
    await Promise.race([finished, failed]);
    return { sha256: hash.digest('hex'), ...(problem ? { problem } : {}) };
  };

  const leaveOut = (name: string, reason: string) => report.missing.push({ name, reason });

  try {
    for await (const item of entries) {
      if (outputError) throw outputError;
      const name = checkName(item.name);
      if (seen.has(name) || name === CHECKSUM_FILE || name === MISSING_FILE) throw new BundleError(`bundle entry ${name} is named twice, or takes a name the bundle keeps for itself`);
      seen.add(name);
      if ('unavailable' in item) {
        leaveOut(name, item.unavailable);
        continue;
      }
      const mode = item.mode ?? 0o644;
      let size = item.size;
      let chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
      let spooled: string | undefined;
      if (typeof item.source === 'string' || item.source instanceof Uint8Array) {
        const bytes = typeof item.source === 'string' ? Buffer.from(item.source, 'utf8') : item.source;
        size = bytes.byteLength;
        chunks = [bytes];
      } else {
        if (size !== undefined && size > options.maxEntryBytes) {
          leaveOut(name, `${formatBytes(size)} is over the per-file limit of ${formatBytes(options.maxEntryBytes)}`);
          continue;
        }
        if (size !== undefined && total + size > options.maxTotalBytes) {
          leaveOut(name, `${formatBytes(size)} more would bring the bundle to ${formatBytes(total + size)}, over its limit of ${formatBytes(options.maxTotalBytes)}`);
          continue;
        }
        try {
          chunks = await item.source();
        } catch (err) {
          leaveOut(name, `it could not be read: ${(err as Error).message}`);
          continue;
        }
        if (size === undefined) {
          spoolDir ??= await mkdtemp(join(options.spoolDir ?? tmpdir(), 'drydock-bundle-'));
          spooled = join(spoolDir, String(seen.size));
          let measured: number | 'over';
          try {
            measured = await spool(chunks, spooled, options.maxEntryBytes);
          } catch (err) {
            await rm(spooled, { force: true });
            leaveOut(name, `it could not be read: ${(err as Error).message}`);
            continue;
          }
          if (measured === 'over') {
            await rm(spooled, { force: true });
            leaveOut(name, `it is over the per-file limit of ${formatBytes(options.maxEntryBytes)}`);
            continue;
          }
          size = measured;
          chunks = createReadStream(spooled);
        }
      }
      if (size > options.maxEntryBytes) {
        leaveOut(name, `${formatBytes(size)} is over the per-file limit of ${formatBytes(options.maxEntryBytes)}`);
      } else if (total + size > options.maxTotalBytes) {
        leaveOut(name, `${formatBytes(size)} more would bring the bundle to ${formatBytes(total + size)}, over its limit of ${formatBytes(options.maxTotalBytes)}`);
      } else {
        total += size;
        const added = await addEntry(name, size, mode, chunks);
        if (added.problem) leaveOut(name, `incomplete: ${added.problem}`);
        else report.files.push({ name, size, sha256: added.sha256 });
      }
      if (spooled) await rm(spooled, { force: true });
    }

    if (report.missing.length > 0) {
      const text = [
        'This bundle lacks files it should hold:',
        '',
        ...report.missing.map((m) => `${m.name}: ${m.reason}`),
        '',
      ].join('\n');
      const bytes = Buffer.from(text, 'utf8');
      const added = await addEntry(MISSING_FILE, bytes.byteLength, 0o644, [bytes]);
      report.files.push({ name: MISSING_FILE, size: bytes.byteLength, sha256: added.sha256 });
    }
    const sums = Buffer.from(report.files.map((f) => checksumLine(f.sha256, f.name)).join(''), 'utf8');
    await addEntry(CHECKSUM_FILE, sums.byteLength, 0o644, [sums]);
    pack.finalize();
    await written;
    return report;
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => undefined);
    throw err;
  } finally {
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}
