// Tar in memory, as the engine's archive endpoints speak it: ustar out; ustar, PAX and GNU long names in.

const BLOCK = 512;

export interface TarInput {
  /** Relative, `/`-separated; a directory's name may end in `/`. */
  name: string;
  type: 'file' | 'directory';
  mode: number;
  uid: number;
  gid: number;
  content?: Buffer;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return { prefix, name: rest };
  }
  throw new Error(`${name} is too long for a ustar header`);
}

function ustarHeader(entry: TarInput, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const { prefix, name } = splitName(entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(entry.mode & 0o7777, 8), 100, 'ascii');
  header.write(octal(entry.uid, 8), 108, 'ascii');
  header.write(octal(entry.gid, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii');
  header.write(entry.type === 'directory' ? '5' : '0', 156, 'ascii');
  header.write('ustar\u000000', 257, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

/** A ustar archive of the entries, ending in the two zero blocks. */
export function tarArchive(entries: readonly TarInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === 'file' ? (entry.content ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(ustarHeader(entry, content.length), content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
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

/** Pulls exact byte counts out of a chunked stream, keeping no more than it has been asked for. */
class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;
  private readonly iterator: AsyncIterator<Uint8Array>;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else if (next.value.length > 0) {
        const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        this.chunks.push(chunk);
        this.length += chunk.length;
      }
    }
    return this.length >= n;
  }

  /** Exactly n bytes, or null at a clean end of stream; a stream cut inside them throws. */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.length === 0) return null;
      throw new Error('the archive ends in the middle of an entry');
    }
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.length === 0 && !(await this.fill(1))) throw new Error('the archive ends in the middle of an entry');
      const first = this.chunks[0]!;
      const take = Math.min(left, first.length);
      if (take === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(take);
      this.length -= take;
      left -= take;
    }
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

function text(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** An octal field, or GNU base-256 when its first byte has the high bit set. */
function number(header: Buffer, offset: number, length: number): number {
  const field = header.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const digits = field.toString('ascii').replace(/[\0 ]+$/, '').trim();
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits)) throw new Error(`the archive has a malformed number field (${JSON.stringify(digits)})`);
  return parseInt(digits, 8);
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === number(header, 148, 8);
}

/** `<length> <key>=<value>\n` records. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!Number.isInteger(length) || length <= 0 || at + length > data.length) throw new Error('the archive has a malformed PAX header');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'directory' };

/**
 * The entries of a tar stream, one at a time: an entry's bytes are kept only if its `content()` is read,
 * so a large file nobody wants costs no memory.
 */
export async function* tarEntries(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarReadEntry> {
  const reader = new ByteReader(source);
  let global = new Map<string, string>();
  let local = new Map<string, string>();
  let longName: string | null = null;
  let longLink: string | null = null;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (header === null || header.every((b) => b === 0)) return;
      if (!checksumOk(header)) throw new Error('the archive has a header with a bad checksum');
      const flag = String.fromCharCode(header[156]!);
      let size = number(header, 124, 12);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;

      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        const data = (await reader.read(size)) ?? Buffer.alloc(0);
        await reader.skip(padding);
        if (flag === 'x') local = paxRecords(data);
        else if (flag === 'g') global = new Map([...global, ...paxRecords(data)]);
        else if (flag === 'L') longName = text(data, 0, data.length);
        else longLink = text(data, 0, data.length);
        continue;
      }

      const pax = new Map([...global, ...local]);
      const ustar = header.subarray(257, 263).toString('ascii') === 'ustar\0';
      const prefix = ustar ? text(header, 345, 155) : '';
      let name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
      const linkName = pax.get('linkpath') ?? longLink ?? text(header, 157, 100);
      if (pax.has('size')) size = Number(pax.get('size'));
      local = new Map();
      longName = null;
      longLink = null;
      while (name.length > 1 && name.endsWith('/')) name = name.slice(0, -1);

      const dataSize = flag === '1' || flag === '2' || flag === '5' ? 0 : size;
      const dataPadding = (BLOCK - (dataSize % BLOCK)) % BLOCK;
      let consumed = false;
      const entry: TarReadEntry = {
        name,
        type: TYPES[flag] ?? 'other',
        size: dataSize,
        linkName,
        mode: number(header, 100, 8),
        content: async () => {
          if (consumed) throw new Error(`the content of ${name} was already read`);
          consumed = true;
          const data = dataSize === 0 ? Buffer.alloc(0) : await reader.read(dataSize);
          if (data === null) throw new Error('the archive ends in the middle of an entry');
          // A copy: the reader's chunk may be much larger than this entry.
          return Buffer.from(data);
        },
      };
      yield entry;
      if (!consumed) await reader.skip(dataSize);
      await reader.skip(dataPadding);
    }
  } finally {
    await reader.close();
  }
}
