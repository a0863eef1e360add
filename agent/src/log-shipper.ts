import type { LogBatchBody } from '@drydock/core/api-schemas';

export type LogLine = LogBatchBody['lines'][number];

export interface LogShipperOptions {
  apiUrl: string;
  /** The agent's token, read at every send: a rotated token takes effect for batches still to go. */
  token: string | (() => string);
  /** Lines are sent at most this often, so a chatty script costs one request per interval, not per line. */
  flushIntervalMs?: number;
  maxBatch?: number;
  log?: (message: string) => void;
  /** Told of a 401 with the token that was refused; the batch is retried meanwhile. */
  onUnauthorized?: (token: string) => void;
  /** Aborted once the agent knows its token is revoked: nothing more can be delivered. */
  stop?: AbortSignal;
}

/**
 * Ships one attempt's log lines to the API in order, in batches, retrying until the API takes them.
 * The API inserts by (run, attempt, seq), so a batch sent twice after a timeout is stored once.
 */
export class RunLogStream {
  private readonly pending: LogLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private readonly options: Required<Pick<LogShipperOptions, 'flushIntervalMs' | 'maxBatch'>> & LogShipperOptions;
  private readonly runId: string;
  private readonly attempt: number;

  constructor(options: LogShipperOptions, runId: string, attempt: number) {
    this.options = { flushIntervalMs: 100, maxBatch: 1_000, ...options };
    this.runId = runId;
    this.attempt = attempt;
  }

  push(line: LogLine): void {
    this.pending.push(line);
    if (this.pending.length >= this.options.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.options.flushIntervalMs);
  }

  /** Resolves once every pushed line is stored, or rejects after `deadlineMs` with lines still unsent. */
  async close(deadlineMs = 60_000): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + deadlineMs;
    while (this.pending.length > 0 || this.sending) {
      if (this.options.stop?.aborted) {
        throw new Error(`${this.pending.length} log lines of run ${this.runId} could not be delivered: the API no longer accepts this agent's token`);
      }
      if (Date.now() > deadline) throw new Error(`${this.pending.length} log lines of run ${this.runId} could not be delivered to ${this.options.apiUrl}`);
      this.kick();
      await this.sending;
    }
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
      if (this.pending.length > 0 && !this.closed && !this.options.stop?.aborted) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let backoff = 100;
    while (this.pending.length > 0 && !this.options.stop?.aborted) {
      const batch = this.pending.slice(0, this.options.maxBatch);
      const status = await this.send(batch);
      if (status === 'ok') {
        this.pending.splice(0, batch.length);
        backoff = 100;
      } else if (status === 'rejected') {
        this.pending.splice(0, batch.length);
      } else {
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2_000);
        if (this.closed) return;
      }
    }
  }

  private async send(lines: LogLine[]): Promise<'ok' | 'retry' | 'rejected'> {
    const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
    try {
      const res = await fetch(`${this.options.apiUrl}/api/v1/agent/runs/${this.runId}/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ attempt: this.attempt, lines } satisfies LogBatchBody),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      if (res.ok) return 'ok';
      if (res.status === 401) this.options.onUnauthorized?.(token);
      if (res.status === 400 || res.status === 404 || res.status === 413) {
        this.options.log?.(`the API refused ${lines.length} log lines of run ${this.runId} (HTTP ${res.status}); dropping them`);
        return 'rejected';
      }
      return 'retry';
    } catch {
      return 'retry';
    }
  }
}
