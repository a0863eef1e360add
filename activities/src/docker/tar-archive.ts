import { once } from 'node:events';
import tar from 'tar-stream';

// Tar as the engine's archive endpoints speak it, with tar-stream: ustar (PAX for long names) out; ustar, PAX and GNU in.

export interface TarInput {
  /** Relative, `/`-separated; a directory's name may end in `/`. */
  name: string;
  type: 'file' | 'directory';
  mode: number;
  uid: number;
  gid: number;
  content?: Buffer;
}

/** An archive of the entries, ending in the two zero blocks. */
export async function tarArchive(entries: readonly TarInput[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const ended = once(pack, 'end');
  for (const entry of entries) {
    const content = entry.type === 'file' ? (entry.content ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
    pack.entry({ name, type: entry.type, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid, mtime: new Date(0), size: content.length }, content);
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** As the archive names it, without a trailing `/`. */
  name: string;
  type: TarEntryType;
  size: number;
  /** A symlink's target, or the archive name a hardlink repeats; '' otherwise. */
  linkName: string;
  mode: number;
}

export interface TarReadEntry extends TarEntry {
  /** The entry's bytes; call before the next entry is asked for, or they are skipped. */
  content(): Promise<Buffer>;
}

const TYPES: Partial<Record<tar.Header['type'], TarEntryType>> = { file: 'file', 'contiguous-file': 'file', link: 'hardlink', symlink: 'symlink', directory: 'directory' };

/** tar-stream's words for a broken archive, in ours. */
function archiveError(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith('Invalid tar header. Maybe')) return new Error('the archive has a header with a bad checksum');
  if (message === 'Unexpected end of data') return new Error('the archive ends in the middle of an entry');
  return new Error(`the archive cannot be read: ${message}`);
}

/**
 * The entries of a tar stream, one at a time: an entry's bytes are kept only if its `content()` is read,
 * so a large file nobody wants costs no memory.
 */
export async function* tarEntries(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarReadEntry> {
  const extract = tar.extract();
  const input = source[Symbol.asyncIterator]();
  let stopped = false;
  // Fed by hand rather than piped, so the source's own errors reach the reader and leaving early closes the source.
  const feeding = (async () => {
    try {
      for (;;) {
        const next = await input.next();
        if (next.done || stopped) break;
        if (!extract.write(next.value)) await new Promise<void>((resolve) => extract.once('drain', () => resolve()).once('close', () => resolve()));
      }
      if (!stopped) extract.end(null);
    } catch (err) {
      extract.destroy(err as Error);
    }
  })();
  try {
    for await (const stream of extract) {
      const { header } = stream;
      let name = header.name;
      while (name.length > 1 && name.endsWith('/')) name = name.slice(0, -1);
      const type = TYPES[header.type] ?? 'other';
      let consumed = false;
      yield {
        name,
        type,
        size: type === 'hardlink' || type === 'symlink' || type === 'directory' ? 0 : header.size,
        linkName: header.linkname ?? '',
        mode: header.mode,
        content: async () => {
          if (consumed) throw new Error(`the content of ${name} was already read`);
          consumed = true;
          const chunks: Buffer[] = [];
          try {
            for await (const chunk of stream) chunks.push(chunk as Buffer);
          } catch (err) {
            throw archiveError(err);
          }
          return Buffer.concat(chunks);
        },
      };
      if (!consumed) stream.resume();
    }
  } catch (err) {
    throw archiveError(err);
  } finally {
    stopped = true;
    extract.destroy();
    await input.return?.();
    void feeding;
  }
}
