// A build's progression in a double: queued, then running stage by stage with log lines, then success, failure or
// cancelled. The test drives it one event at a time (`advance`), to the end (`finish`), or on a timer (`play`).

export interface StageScript {
  name: string;
  lines?: string[];
  /** Default success. A failed stage fails the run; the stages after it are skipped. */
  result?: 'success' | 'failure';
}

export type RunState = 'queued' | 'running' | 'success' | 'failure' | 'cancelled';
export type StageState = 'pending' | 'running' | 'success' | 'failure' | 'skipped' | 'cancelled';

export interface StageProgress {
  name: string;
  state: StageState;
  lines: string[];
  startedAt?: number;
  finishedAt?: number;
}

export type RunEvent =
  | { type: 'started' }
  | { type: 'stage-started'; stage: number }
  | { type: 'line'; stage: number; line: string }
  | { type: 'stage-finished'; stage: number }
  | { type: 'finished' }
  | { type: 'cancelled' };

export class ScriptedRun {
  state: RunState = 'queued';
  readonly stages: StageProgress[];
  /** Every line so far, in the order it was written. */
  readonly lines: { stage: number; line: string }[] = [];
  readonly createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  private readonly steps: RunEvent[] = [];
  private next = 0;
  private readonly listeners: ((event: RunEvent, run: ScriptedRun) => void)[] = [];
  private timer?: NodeJS.Timeout;

  readonly script: StageScript[];
  private readonly now: () => number;

  constructor(script: StageScript[], now: () => number = Date.now) {
    this.script = script;
    this.now = now;
    this.createdAt = now();
    this.stages = script.map((s) => ({ name: s.name, state: 'pending', lines: [] }));
    this.steps.push({ type: 'started' });
    for (const [i, stage] of script.entries()) {
      this.steps.push({ type: 'stage-started', stage: i });
      for (const line of stage.lines ?? []) this.steps.push({ type: 'line', stage: i, line });
      this.steps.push({ type: 'stage-finished', stage: i });
      if (stage.result === 'failure') break;
    }
    this.steps.push({ type: 'finished' });
  }

  get done(): boolean {
    return this.state === 'success' || this.state === 'failure' || this.state === 'cancelled';
  }

  get result(): 'success' | 'failure' {
    return this.script.some((s) => s.result === 'failure') ? 'failure' : 'success';
  }

  onEvent(listener: (event: RunEvent, run: ScriptedRun) => void): void {
    this.listeners.push(listener);
  }

  /** Applies the next `count` events; returns how many there were. */
  advance(count = 1): number {
    let applied = 0;
    while (applied < count && !this.done && this.next < this.steps.length) {
      this.apply(this.steps[this.next++]!);
      applied++;
    }
    return applied;
  }

  /** Runs until `predicate` holds or the run is over. */
  advanceUntil(predicate: (run: ScriptedRun) => boolean): void {
    while (!predicate(this) && this.advance() > 0);
  }

  finish(): void {
    this.advanceUntil(() => false);
  }

  /** One event every `intervalMs` until the run is over. */
  play(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      if (this.advance() === 0) this.stop();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  cancel(): void {
    if (this.done) return;
    this.stop();
    this.apply({ type: 'cancelled' });
  }

  private apply(event: RunEvent): void {
    const t = this.now();
    switch (event.type) {
      case 'started':
        this.state = 'running';
        this.startedAt = t;
        break;
      case 'stage-started':
        this.stages[event.stage]!.state = 'running';
        this.stages[event.stage]!.startedAt = t;
        break;
      case 'line':
        this.stages[event.stage]!.lines.push(event.line);
        this.lines.push({ stage: event.stage, line: event.line });
        break;
      case 'stage-finished':
        this.stages[event.stage]!.state = this.script[event.stage]!.result ?? 'success';
        this.stages[event.stage]!.finishedAt = t;
        break;
      case 'finished':
        for (const stage of this.stages) if (stage.state === 'pending') stage.state = 'skipped';
        this.state = this.result;
        this.finishedAt = t;
        break;
      case 'cancelled':
        for (const stage of this.stages) {
          if (stage.state === 'running') {
            stage.state = 'cancelled';
            stage.finishedAt = t;
          } else if (stage.state === 'pending') stage.state = 'skipped';
        }
        this.state = 'cancelled';
        this.finishedAt = t;
        break;
    }
    for (const listener of this.listeners) listener(event, this);
  }
}
