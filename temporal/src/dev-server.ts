import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_FLAGS } from './search-attributes.ts';

/** The last tag whose `go install` works: later tags carry a replace directive that `go install` refuses. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export class TemporalProvisioningError extends Error {}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An existing `temporal` binary: the configured path, the data dir, PATH, then Go's bin directories. */
export async function findTemporalBinary(options: { configured?: string; dataDir: string; env?: NodeJS.ProcessEnv }): Promise<string | undefined> {
  const env = options.env ?? process.env;
  if (options.configured) {
    if (await executable(options.configured)) return options.configured;
    throw new TemporalProvisioningError(`DRYDOCK_TEMPORAL_BIN=${options.configured} is not an executable file`);
  }
  const candidates = [
    join(options.dataDir, 'bin', 'temporal'),
    ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'temporal')),
    ...(env.GOBIN ? [join(env.GOBIN, 'temporal')] : []),
    join(env.GOPATH ?? join(homedir(), 'go'), 'bin', 'temporal'),
  ];
  for (const candidate of candidates) if (await executable(candidate)) return candidate;
  return undefined;
}

async function findGo(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/go/bin'];
  for (const dir of dirs) if (await executable(join(dir, 'go'))) return join(dir, 'go');
  return undefined;
}

/** Finds the CLI, or builds it with Go into `<dataDir>/bin`. Nothing is downloaded but Go modules. */
export async function provisionTemporalBinary(options: {
  configured?: string;
  dataDir: string;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}): Promise<string> {
  const env = options.env ?? process.env;
  const found = await findTemporalBinary({ ...options, env });
  if (found) return found;
  const go = await findGo(env);
  if (!go) {
    throw new TemporalProvisioningError(
      'no `temporal` CLI found and no Go toolchain to build one. Either put `temporal` on PATH, ' +
        'set DRYDOCK_TEMPORAL_BIN to its path, set TEMPORAL_ADDRESS to use a running Temporal, ' +
        `or install Go so Drydock can run \`go install ${TEMPORAL_CLI_MODULE}\`.`,
    );
  }
  const bin = join(options.dataDir, 'bin');
  await mkdir(bin, { recursive: true });
  options.log?.(`building the Temporal CLI with Go (${TEMPORAL_CLI_MODULE}); this takes a few minutes, once`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', TEMPORAL_CLI_MODULE], { env: { ...env, GOBIN: bin }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new TemporalProvisioningError(`go install ${TEMPORAL_CLI_MODULE} failed with exit code ${code}`)),
    );
  });
  return join(bin, 'temporal');
}

export interface DevServerOptions {
  bin: string;
  /** SQLite file that keeps workflows across restarts; omit for an in-memory server (tests). */
  dbFile?: string;
  ip?: string;
  port: number;
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  codecEndpoint?: string;
  onOutput?: (line: string) => void;
  /**
   * Partitions of every task queue. One, unless a data file from before must drain: an agent's queue has one
   * consumer, and with several partitions a task can wait a minute for polls parked on other partitions.
   */
  partitions?: { read: number; write: number };
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--log-level', 'warn', '--log-format', 'json'];
  if (options.dbFile) {
    // WAL lets the UI and workers read while the server writes; NORMAL sync is safe with WAL and far faster.
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  if (options.headless || options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  for (const flag of SEARCH_ATTRIBUTE_FLAGS) args.push('--search-attribute', flag);
  args.push('--dynamic-config-value', 'frontend.enableServerVersionCheck=false');
  const partitions = options.partitions ?? { read: 1, write: 1 };
  args.push('--dynamic-config-value', `matching.numTaskqueueReadPartitions=${partitions.read}`);
  args.push('--dynamic-config-value', `matching.numTaskqueueWritePartitions=${partitions.write}`);

  const child = spawn(options.bin, args, {
    env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 50) output.shift();
      options.onOutput?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `${ip}:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('waiting'), 250))]);
    if (early !== 'waiting') {
      throw new Error(`Temporal dev server exited with code ${String(early)}:\n${output.slice(-10).join('\n')}`);
    }
    if (await temporalAnswers(address)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Temporal dev server did not answer on ${address} within 60 s:\n${output.slice(-10).join('\n')}`);
    }
  }
  return {
    address,
    uiUrl: options.uiPort === undefined || options.headless ? undefined : `http://localhost:${options.uiPort}`,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Whether a Temporal frontend answers at `address` (host:port): a gRPC call, not just an open port. */
export async function temporalAnswers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}
