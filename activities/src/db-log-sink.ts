import { sql } from 'kysely';
import { databaseUnavailable, type Db } from '@drydock/core';
import type { LogSink } from './job-execution.ts';

export const LOG_CHANNEL = 'drydock_run_logs';

type Line = Parameters<LogSink['push']>[0];

/**
 * A central worker's log lines go straight to Postgres, in batches like an agent's, idempotent by
 * (run, attempt, seq), with the NOTIFY that wakes the run's live log.
 */
export class DbLogSink implements LogSink {
  private readonly db: Db;
  private readonly runId: string;
  private readonly attempt: number;
  private pending: Line[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(db: Db, runId: string, attempt: number) {
    this.db = db;
    this.runId = runId;
    this.attempt = attempt;
  }

  push(line: Line): void {
    this.pending.push(line);
    this.timer ??= setTimeout(() => this.flush(), 100);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.writing = this.writing.then(() => this.write(batch));
  }

  private async write(batch: Line[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.db
          .insertInto('run_logs')
          .values(batch.map((l) => ({ run_id: this.runId, attempt: this.attempt, seq: l.seq, stream: l.stream, ts: l.ts, line: l.line })))
          .onConflict((oc) => oc.columns(['run_id', 'attempt', 'seq']).doNothing())
          .execute();
        await sql`select pg_notify(${LOG_CHANNEL}, ${this.runId})`.execute(this.db);
        return;
      } catch (err) {
        // A database that is away is waited for (the activity heartbeats meanwhile); any other error is given 20 tries.
        if (attempt >= 20 && !databaseUnavailable(err)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2_000)));
      }
    }
  }

  async close(): Promise<void> {
    this.flush();
    await this.writing;
  }
}
