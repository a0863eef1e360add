import { type ChildProcess, spawn } from 'node:child_process';

export interface ManagedProcessOptions {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  /** A line matching this means the process is serving. */
  ready: RegExp;
  /** Print output prefixed with the name; otherwise keep it for diagnostics only. */
  echo?: boolean;
  /** Start it again when it crashes (not when stopped or when it exits cleanly), with backoff. */
  restart?: boolean;
  readyTimeoutMs?: number;
}

/** One Drydock process (API, worker, agent, web) run as a child of the launcher or of a test. */
export class ManagedProcess {
  readonly options: ManagedProcessOptions;
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  readonly output: string[] = [];

  constructor(options: ManagedProcessOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    this.stopping = false;
    const child = spawn(process.execPath, [this.options.entry], { env: this.options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let readyResolve: () => void = () => {};
    const ready = new Promise<void>((r) => (readyResolve = r));
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        this.output.push(line);
        if (this.output.length > 500) this.output.shift();
        if (this.options.echo) console.log(`[${this.options.name}] ${line}`);
        if (this.options.ready.test(line)) readyResolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.once('exit', (code, signal) => {
      // Exit code 0 is a process that was asked to stop (Ctrl-C reaches every process of the terminal's group).
      if (this.stopping || !this.options.restart || this.child !== child || code === 0) return;
      const delay = Math.min(500 * 2 ** this.restarts++, 10_000);
      console.error(`[${this.options.name}] exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (!this.stopping) this.start().catch((err: Error) => console.error(`[${this.options.name}] ${err.message}`));
      }, delay);
    });

    const timeoutMs = this.options.readyTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      exited.then((code) => ({ exited: code })),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready') {
      this.restarts = 0;
      return;
    }
    const tail = this.output.slice(-15).join('\n');
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      throw new Error(`${this.options.name} did not become ready within ${timeoutMs / 1000} s:\n${tail}`);
    }
    throw new Error(`${this.options.name} exited with code ${String(outcome.exited)} before it was ready:\n${tail}`);
  }

  /** From now on an exit is expected: no restart. Called for every process before any is stopped. */
  expectExit(): void {
    this.stopping = true;
  }

  /** For fault tests: kill without a chance to clean up. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return Promise.resolve();
    this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    return exited;
  }

  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    this.stopping = true;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
