import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogSink } from '@drydock/activities/job-execution';
import type { AttemptOutcome, AttemptRecovery } from '@drydock/core/run-contract';
import { type LogLine, type LogShipperOptions, RunLogStream } from './log-shipper.ts';

/** How long an attempt's record stays once it ended: Temporal may ask for it after an outage of about this long. */
export const JOURNAL_RETENTION_MS = 7 * 24 * 3_600_000;

const ATTEMPT_FILE = 'attempt.json';
const LINES_FILE = 'lines.jsonl';
const DELIVERED_FILE = 'delivered.json';
const OUTCOME_FILE = 'outcome.json';

interface AttemptRecord {
  runId: string;
  attempt: number;
  /** The agent process that ran it. */
  pid: number;
  startedAt: string;
}

/** One attempt this process runs: its log spools through the journal, and its outcome is kept there. */
export interface JournaledAttempt {
  sink: LogSink;
  /** Writes the outcome to disk once every line before it is there. */
  recordOutcome(outcome: AttemptOutcome): Promise<void>;
}

export interface AttemptJournalOptions {
  /** This host's journal: one directory per attempt, `<runId>-<attempt>`. */
  dir: string;
  shipping: LogShipperOptions;
  log: { info(message: string): void; warn(message: string): void };
  retentionMs?: number;
}

/**
 * What an agent keeps on disk of each attempt until the API and Temporal have it: the log lines (sent from
 * there), the outcome, and which agent process ran it. A later process of the same agent delivers what a
 * dead one left, and answers Temporal's question "what became of attempt N?" from it.
 */
export class AttemptJournal {
  readonly dir: string;
  private readonly options: AttemptJournalOptions;
  /** Streams of this process, by attempt: one stream a spool file, whoever asks to deliver it. */
  private readonly streams = new Map<string, { stream: RunLogStream; delivered: Promise<void> | undefined }>();

  constructor(options: AttemptJournalOptions) {
    this.options = options;
    this.dir = options.dir;
  }

  private attemptDir(runId: string, attempt: number): string {
    return join(this.dir, `${runId}-${attempt}`);
  }

  async begin(runId: string, attempt: number): Promise<JournaledAttempt> {
    const dir = this.attemptDir(runId, attempt);
    // A task Temporal hands out twice is run again from the start: nothing of the first try is kept.
    this.streams.delete(`${runId}/${attempt}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const record: AttemptRecord = { runId, attempt, pid: process.pid, startedAt: new Date().toISOString() };
    await writeFile(join(dir, ATTEMPT_FILE), JSON.stringify(record), { mode: 0o600 });
    const stream = this.stream(runId, attempt, { delivered: 0 });
    return {
      sink: {
        push: (line) => stream.push(line),
        // Closed once the outcome is recorded: the attempt is over, and its spool can go once delivered.
        close: () => this.deliverStream(runId, attempt, stream, true),
      },
      recordOutcome: async (outcome) => {
        await stream.flushed();
        await writeAtomically(join(dir, OUTCOME_FILE), JSON.stringify(outcome));
      },
    };
  }

  private stream(runId: string, attempt: number, files: { delivered: number; written?: number; unsent?: number }): RunLogStream {
    const dir = this.attemptDir(runId, attempt);
    const stream = new RunLogStream(this.options.shipping, runId, attempt, {
      lines: join(dir, LINES_FILE),
      ...files,
      onDelivered: (offset) => writeFile(join(dir, DELIVERED_FILE), JSON.stringify({ offset }), { mode: 0o600 }).catch(() => {}),
    });
    this.streams.set(`${runId}/${attempt}`, { stream, delivered: undefined });
    return stream;
  }

  /**
   * Resolves once the API has every line of the attempt. The spool goes then if the attempt is over (`ended`);
   * otherwise it stays, marked delivered, for the line that says how the attempt ended.
   */
  private deliverStream(runId: string, attempt: number, stream: RunLogStream, ended: boolean): Promise<void> {
    const key = `${runId}/${attempt}`;
    const entry = this.streams.get(key);
    if (entry?.stream !== stream) return stream.close();
    entry.delivered ??= (async () => {
      try {
        await stream.close();
        if (!ended) return;
        const dir = this.attemptDir(runId, attempt);
        await rm(join(dir, LINES_FILE), { force: true });
        await rm(join(dir, DELIVERED_FILE), { force: true });
      } finally {
        if (this.streams.get(key) === entry) this.streams.delete(key);
      }
    })();
    return entry.delivered;
  }

  /** What the journal holds of an attempt: who ran it and how it ended, if it did. */
  async read(runId: string, attempt: number): Promise<{ record?: AttemptRecord; outcome?: AttemptRecovery }> {
    const dir = this.attemptDir(runId, attempt);
    const [record, outcome] = await Promise.all([readJson<AttemptRecord>(join(dir, ATTEMPT_FILE)), readJson<AttemptRecovery>(join(dir, OUTCOME_FILE))]);
    return { record, outcome };
  }

  /**
   * Delivers whatever of the attempt's log is still on disk, whichever process wrote it, then resolves.
   * `lastLine` is added first, after the lines already there (for an attempt whose agent process died).
   */
  async deliver(runId: string, attempt: number, lastLine?: Omit<LogLine, 'seq'>): Promise<void> {
    const dir = this.attemptDir(runId, attempt);
    const ended = lastLine !== undefined || (await exists(join(dir, OUTCOME_FILE)));
    const running = this.streams.get(`${runId}/${attempt}`);
    if (running) {
      await this.deliverStream(runId, attempt, running.stream, ended);
      if (!lastLine) return;
    }
    const spool = await readSpool(join(dir, LINES_FILE), join(dir, DELIVERED_FILE));
    // Without the spool the next line's number is unknown, and a guessed one could hide a line already stored.
    if (!spool) return;
    const stream = this.stream(runId, attempt, spool);
    if (lastLine) stream.push({ ...lastLine, seq: spool.nextSeq });
    return this.deliverStream(runId, attempt, stream, ended);
  }

  /** Keeps an answer about an attempt no process of this agent saw end, so a second question gets the same one. */
  async recordVerdict(runId: string, attempt: number, verdict: AttemptRecovery): Promise<void> {
    await writeAtomically(join(this.attemptDir(runId, attempt), OUTCOME_FILE), JSON.stringify(verdict));
  }

  /**
   * At start: the log lines a dead predecessor could not deliver are sent, in the background, and the
   * records of attempts past the retention are removed. Resolves with the attempts whose lines are going out.
   */
  async resume(): Promise<{ runId: string; attempt: number; delivered: Promise<void> }[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.sweep();
    const out: { runId: string; attempt: number; delivered: Promise<void> }[] = [];
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const record = await readJson<AttemptRecord>(join(this.dir, entry.name, ATTEMPT_FILE));
      if (!record || record.pid === process.pid) continue;
      if (!(await exists(join(this.dir, entry.name, LINES_FILE)))) continue;
      const delivered = this.deliver(record.runId, record.attempt).catch((err: Error) => this.options.log.warn(`the log of run ${record.runId} attempt ${record.attempt}: ${err.message}`));
      out.push({ runId: record.runId, attempt: record.attempt, delivered });
    }
    return out;
  }

  /** Removes the records of attempts that started longer ago than the retention. */
  async sweep(now = Date.now()): Promise<void> {
    const retention = this.options.retentionMs ?? JOURNAL_RETENTION_MS;
    for (const entry of await readdir(this.dir, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue;
      const dir = join(this.dir, entry.name);
      const since = await stat(join(dir, ATTEMPT_FILE)).then((s) => s.mtimeMs, () => 0);
      if (now - since > retention && ![...this.streams.keys()].some((k) => entry.name === k.replace('/', '-'))) {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function writeAtomically(file: string, content: string): Promise<void> {
  await writeFile(`${file}.tmp`, content, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/**
 * A spool a process left: how far it was delivered, where its last whole line ends (a process killed
 * mid-write can leave half a line, which is cut off), how many lines are unsent, and the next line's number.
 */
async function readSpool(file: string, deliveredFile: string): Promise<{ delivered: number; written: number; unsent: number; nextSeq: number } | undefined> {
  let content: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      content = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const written = content.lastIndexOf(10) + 1;
  if (written < content.length) await truncate(file, written);
  const delivered = Math.min((await readJson<{ offset: number }>(deliveredFile))?.offset ?? 0, written);
  let unsent = 0;
  for (let i = content.indexOf(10, delivered); i >= 0 && i < written; i = content.indexOf(10, i + 1)) unsent++;
  const lastStart = written > 1 ? content.lastIndexOf(10, written - 2) + 1 : 0;
  let nextSeq = 0;
  try {
    if (written > 0) nextSeq = (JSON.parse(content.subarray(lastStart, written).toString('utf8')) as LogLine).seq + 1;
  } catch {
    return undefined;
  }
  return { delivered, written, unsent, nextSeq };
}
