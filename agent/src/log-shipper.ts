import { type FileHandle, open } from 'node:fs/promises';
import type { LogBatchBody } from '@drydock/core/api-schemas';

export type LogLine = LogBatchBody['lines'][number];

/** Whether the API answers, told by every request that reaches it or not; the agent says so once per outage. */
export interface ApiLink {
  reached(): void;
  unreachable(reason: string): void;
}

export interface LogShipperOptions {
  apiUrl: string;
  /** The agent's token, read at every send: a rotated token takes effect for batches still to go. */
  token: string | (() => string);
  /** Lines are written and sent at most this often, so a chatty script costs one request per interval, not per line. */
  flushIntervalMs?: number;
  maxBatch?: number;
  /** The most bytes of lines one request carries. */
  maxBatchBytes?: number;
  log?: (message: string) => void;
  /** Told of a 401 with the token that was refused; the batch is retried meanwhile. */
  onUnauthorized?: (token: string) => void;
  /** Aborted once the agent knows its token is revoked: nothing more can be delivered. */
  stop?: AbortSignal;
  link?: ApiLink;
}

export interface RunLogStreamFiles {
  /** The attempt's lines, one JSON object a line, in order: the spool the stream sends from. */
  lines: string;
  /** How far into `lines` the API has stored everything. */
  delivered: number;
  /** Told, at most once a second and at the end, how far the API has stored the lines. */
  onDelivered?: (offset: number) => Promise<void>;
}

const MAX_BACKOFF_MS = 2_000;

/**
 * Ships one attempt's log lines to the API in order, in batches, retrying until the API takes them. Every
 * line is appended to a file first and sent from there, so an API or database outage costs disk, not
 * memory, and a later agent process can deliver what this one could not. The API inserts by (run, attempt,
 * seq), so a batch sent twice after a timeout or a restart is stored once.
 */
export class RunLogStream {
  private readonly options: Required<Pick<LogShipperOptions, 'flushIntervalMs' | 'maxBatch' | 'maxBatchBytes'>> & LogShipperOptions;
  private readonly runId: string;
  private readonly attempt: number;
  private readonly files: RunLogStreamFiles;
  private buffer = '';
  private bufferedLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private writeError: Error | undefined;
  private handle: Promise<FileHandle> | undefined;
  /** Bytes of `lines` written, and how many lines that is beyond what was delivered. */
  private written: number;
  private unsent = 0;
  private sent: number;
  private sending: Promise<void> | undefined;
  private closed = false;
  private lastNoted = 0;
  private refusedBatches = 0;
  private backoff = 100;

  constructor(options: LogShipperOptions, runId: string, attempt: number, files: RunLogStreamFiles & { written?: number; unsent?: number }) {
    this.options = { flushIntervalMs: 100, maxBatch: 1_000, maxBatchBytes: 1024 * 1024, ...options };
    this.runId = runId;
    this.attempt = attempt;
    this.files = files;
    this.sent = files.delivered;
    this.written = files.written ?? files.delivered;
    this.unsent = files.unsent ?? 0;
  }

  push(line: LogLine): void {
    if (this.closed) throw new Error(`log of run ${this.runId} attempt ${this.attempt} is closed`);
    this.buffer += `${JSON.stringify(line)}\n`;
    this.bufferedLines++;
    if (this.bufferedLines >= this.options.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
  }

  /** Resolves once every pushed line is in the file. */
  async flushed(): Promise<void> {
    this.flush();
    await this.writing;
    if (this.writeError) throw this.writeError;
  }

  /** Lines in the file that the API has not stored yet. */
  get pending(): number {
    return this.unsent;
  }

  /**
   * Resolves once every pushed line is stored by the API, however long that takes: the caller keeps
   * heartbeating meanwhile. Rejects only when the API no longer accepts this agent's token.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
    while (this.sent < this.written || this.sending) {
      if (this.options.stop?.aborted) throw this.revokedError();
      this.kick();
      await this.sending;
    }
    if (this.options.stop?.aborted && this.sent < this.written) throw this.revokedError();
    await this.files.onDelivered?.(this.sent);
    if (this.handle) await (await this.handle).close();
    this.handle = undefined;
  }

  private revokedError(): Error {
    return new Error(`${this.unsent} log lines of run ${this.runId} could not be delivered: the API no longer accepts this agent's token; they stay in ${this.files.lines}`);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buffer) return;
    const chunk = Buffer.from(this.buffer);
    const lines = this.bufferedLines;
    this.buffer = '';
    this.bufferedLines = 0;
    this.writing = this.writing.then(async () => {
      if (this.writeError) return;
      try {
        this.handle ??= open(this.files.lines, 'a+', 0o600);
        const handle = await this.handle;
        await handle.write(chunk, 0, chunk.length, this.written);
        this.written += chunk.length;
        this.unsent += lines;
        this.kick();
      } catch (err) {
        this.writeError = new Error(`could not keep the log of run ${this.runId} in ${this.files.lines}: ${(err as Error).message}`);
        this.options.log?.(this.writeError.message);
      }
    });
  }

  private kick(): void {
    if (this.options.stop?.aborted) return;
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
      if (this.sent < this.written && !this.closed && !this.options.stop?.aborted) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.sent < this.written && !this.options.stop?.aborted) {
      const batch = await this.readBatch();
      if (!batch) return;
      const status = await this.send(batch.body, batch.lines);
      if (status === 'retry') {
        await new Promise((r) => setTimeout(r, this.backoff));
        // Kept across drains: close() drains again and again through an outage, and must not hammer the API.
        this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
        if (this.closed) return;
        continue;
      }
      this.sent += batch.bytes;
      this.unsent = Math.max(0, this.unsent - batch.lines);
      this.backoff = 100;
      if (Date.now() - this.lastNoted >= 1_000) {
        this.lastNoted = Date.now();
        await this.files.onDelivered?.(this.sent);
      }
    }
  }

  /** The next lines to send, read back from the file: at most maxBatch lines and maxBatchBytes, whole lines only. */
  private async readBatch(): Promise<{ body: string; lines: number; bytes: number } | undefined> {
    this.handle ??= open(this.files.lines, 'a+', 0o600);
    const handle = await this.handle;
    const length = Math.min(this.written - this.sent, this.options.maxBatchBytes);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, this.sent);
    let end = 0;
    let lines = 0;
    for (let i = buffer.indexOf(10); i >= 0 && i < bytesRead && lines < this.options.maxBatch; i = buffer.indexOf(10, i + 1)) {
      end = i + 1;
      lines++;
    }
    if (lines === 0) return undefined;
    const text = buffer.subarray(0, end).toString('utf8').trimEnd().split('\n').join(',');
    return { body: `{"attempt":${this.attempt},"lines":[${text}]}`, lines, bytes: end };
  }

  private async send(body: string, lines: number): Promise<'ok' | 'retry' | 'rejected'> {
    const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
    let res: Response;
    try {
      res = await fetch(`${this.options.apiUrl}/api/v1/agent/runs/${this.runId}/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      this.options.link?.unreachable(cause ?? (err as Error).message);
      return 'retry';
    }
    await res.body?.cancel();
    if (res.status >= 500 || res.status === 429) {
      // The API answers but cannot store lines (its database is away): the same outage, seen from here.
      this.options.link?.unreachable(`HTTP ${res.status} from the log endpoint`);
      return 'retry';
    }
    this.options.link?.reached();
    if (res.ok) return 'ok';
    if (res.status === 401) {
      this.options.onUnauthorized?.(token);
      return 'retry';
    }
    if (this.refusedBatches++ === 0) {
      const why = res.status === 409 ? 'the run has ended' : `HTTP ${res.status}`;
      this.options.log?.(`the API refused ${lines} log lines of run ${this.runId} (${why}); dropping them`);
    }
    return 'rejected';
  }
}
