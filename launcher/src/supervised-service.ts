import type { ChildProcess } from 'node:child_process';

/** One running instance of a service the launcher started: its process, and how to stop it. */
export interface ServiceInstance {
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface SupervisedServiceOptions {
  /** How the console calls it: `[temporal] …`, `[postgres] …`. */
  name: string;
  /** Where it serves, said when it comes back. */
  address: string;
  /** Starts it on the same data and ports, the first time and after every crash. */
  start: () => Promise<ServiceInstance>;
  /** Start it again when it exits unasked, with backoff. */
  restart?: boolean;
  say?: (line: string) => void;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/**
 * A server the launcher runs and keeps running (the Temporal dev server, embedded PostgreSQL), as
 * ManagedProcess keeps the Drydock processes: an exit nobody asked for is said once, and the service is
 * started again with backoff until it is back, which is said once too.
 */
export class SupervisedService {
  readonly options: SupervisedServiceOptions;
  private instance: ServiceInstance | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(options: SupervisedServiceOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.instance?.process.pid;
  }

  get running(): boolean {
    const p = this.instance?.process;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  private say(line: string): void {
    (this.options.say ?? ((l: string) => console.error(l)))(`[${this.options.name}] ${line}`);
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.watch(await this.options.start());
  }

  private watch(instance: ServiceInstance): void {
    this.instance = instance;
    instance.process.once('exit', (code, signal) => {
      // Exit code 0 is a server that was asked to stop (Ctrl-C reaches every process of the terminal's group).
      if (this.stopping || !this.options.restart || this.instance !== instance || code === 0) return;
      this.say(`exited (${signal ?? `code ${code}`}); starting it again on ${this.options.address}`);
      this.restartLater(Date.now(), FIRST_DELAY_MS, undefined);
    });
  }

  private restartLater(since: number, delay: number, lastProblem: string | undefined): void {
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.options.start().then(
        (instance) => {
          if (this.stopping) {
            void instance.stop();
            return;
          }
          this.watch(instance);
          this.say(`running again on ${this.options.address} after ${((Date.now() - since) / 1000).toFixed(1)} s`);
        },
        (err: unknown) => {
          // A port not yet released or a data directory still locked by dying children: it passes; say each new problem once.
          const problem = err instanceof Error ? err.message.split('\n')[0]! : String(err);
          if (problem !== lastProblem) this.say(`could not start again yet (${problem}); retrying`);
          this.restartLater(since, Math.min(delay * 2, MAX_DELAY_MS), problem);
        },
      );
    }, delay);
  }

  /** From now on an exit is expected: no restart. Called for every process before any is stopped. */
  expectExit(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
  }

  async stop(): Promise<void> {
    this.expectExit();
    await this.instance?.stop();
  }
}
