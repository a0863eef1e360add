import { SECRET_MASK } from '../secret-mask.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface OperationResult {
  /** Every check passed. */
  ok: boolean;
  /** One per check, in order, each with what was seen ("size 12.3 MB > 10 MB"). */
  checks: CheckResult[];
  /** The database_query scalar, the HTTP status, the service state or the exit code. */
  value?: string | number | null;
  /** Lines for the run log: what was checked and what was seen. Secret values are masked. */
  output: string[];
  durationMs: number;
}

/** What an executor hands back; runOperation adds the verdict, the output and the duration. */
export interface Outcome {
  checks: CheckResult[];
  value?: string | number | null;
}

const HEAD_LINES = 100;
const TAIL_LINES = 900;

/**
 * The run log of one operation: every line is masked of secret values, streamed to `onLine`, and kept for
 * the result, the first 100 and the last 900 when there are more (the stream had them all).
 */
export class OperationLog {
  private readonly secrets: string[];
  private readonly onLine: ((line: string) => void) | undefined;
  private readonly head: string[] = [];
  private readonly tail: string[] = [];
  private dropped = 0;

  constructor(secrets: readonly string[], onLine?: (line: string) => void) {
    this.secrets = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
    this.onLine = onLine;
  }

  mask(text: string): string {
    return this.secrets.reduce((out, secret) => out.split(secret).join(SECRET_MASK), text);
  }

  line(text: string): void {
    const line = this.mask(text);
    this.onLine?.(line);
    if (this.head.length < HEAD_LINES) {
      this.head.push(line);
      return;
    }
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) {
      this.tail.shift();
      this.dropped++;
    }
  }

  lines(): string[] {
    if (this.dropped === 0) return [...this.head, ...this.tail];
    return [...this.head, `… ${this.dropped} lines left out here (the run log streamed them all)`, ...this.tail];
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
