import { killGroup, spawnGit } from './git-process.ts';

export interface GitObject {
  oid: string;
  type: 'blob' | 'tree' | 'commit' | 'tag';
  content: Buffer;
}

interface Pending {
  resolve: (object: GitObject | undefined) => void;
  reject: (err: Error) => void;
}

/**
 * One `git cat-file --batch` process answering object requests in order. Requests are pipelined: callers
 * may ask for many objects at once, and each promise settles when its answer arrives.
 */
export class ObjectReader {
  private readonly child: ReturnType<typeof spawnGit>;
  private readonly pending: Pending[] = [];
  private readonly timer: NodeJS.Timeout;
  private header = '';
  private body: { object: Omit<GitObject, 'content'>; content: Buffer; filled: number } | undefined;
  private failure: Error | undefined;
  private stderr = '';
  timedOut = false;

  constructor(gitDir: string, timeoutMs: number) {
    this.child = spawnGit({ gitDir, args: ['cat-file', '--batch'] });
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.child.stdin.on('error', () => {});
    this.child.on('error', (err) => this.fail(err));
    this.child.on('close', () => this.fail(new Error(`git cat-file stopped: ${this.stderr.trim() || 'no reason given'}`)));
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.fail(new Error(`git cat-file did not answer within ${timeoutMs} ms`));
      killGroup(this.child.pid);
    }, timeoutMs);
  }

  /** What git printed to stderr, e.g. why it stopped. */
  get stderrText(): string {
    return this.stderr;
  }

  /** `name` is an object id or `<rev>^{tree}`; undefined when the repository has no such object. */
  read(name: string): Promise<GitObject | undefined> {
    if (/[\n\r]/.test(name)) return Promise.reject(new Error('object names cannot contain line breaks'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${name}\n`);
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.end();
    await closed;
  }

  private receive(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.body) {
        const body = this.body;
        const take = Math.min(rest.length, body.content.length + 1 - body.filled);
        const wanted = Math.min(take, body.content.length - body.filled);
        rest.copy(body.content, body.filled, 0, wanted);
        body.filled += take;
        rest = rest.subarray(take);
        if (body.filled === body.content.length + 1) {
          this.body = undefined;
          this.pending.shift()?.resolve({ ...body.object, content: body.content });
        }
        continue;
      }
      const newline = rest.indexOf(0x0a);
      if (newline === -1) {
        this.header += rest.toString('utf8');
        return;
      }
      const header = this.header + rest.subarray(0, newline).toString('utf8');
      this.header = '';
      rest = rest.subarray(newline + 1);
      const parts = header.split(' ');
      if (parts.length === 3 && /^[0-9a-f]+$/.test(parts[0] ?? '')) {
        const [oid = '', type, size] = parts;
        // `filled` also counts the line feed that ends each object's content.
        this.body = { object: { oid, type: type as GitObject['type'] }, content: Buffer.alloc(Number(size)), filled: 0 };
      } else {
        // `<name> missing` or `<name> ambiguous`
        this.pending.shift()?.resolve(undefined);
      }
    }
  }

  private fail(err: Error): void {
    clearTimeout(this.timer);
    this.failure ??= err;
    for (const waiting of this.pending.splice(0)) waiting.reject(this.failure);
  }
}
