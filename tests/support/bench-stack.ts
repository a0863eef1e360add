import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT } from '@drydock/core';
import { dropDatabase, ensureDatabase, type ProcessName, type Stack, startEmbeddedPostgres, startStack } from '@drydock/launcher';
import { provisionTemporalBinary, startDevServer } from '@drydock/temporal';
import { type ApiCall, apiCaller, asAdmin, firstAdmin, type StackAdmin } from './first-admin.ts';

export interface BenchStack {
  stack: Stack;
  /** Calls the API as the stack's first admin (their API token); with `setup: false` or in the local mode, with no credential. */
  api: ApiCall;
  /** The first admin, made through the setup link as a person makes them; undefined with `setup: false` or in the local mode. */
  admin: StackAdmin | undefined;
  /** The Temporal dev server's process, for its memory and CPU; undefined for a server given by TEMPORAL_ADDRESS. */
  temporalPid: number | undefined;
  /** One line naming the machine, Node, Temporal and Postgres, for the results. */
  machine: string;
  stop(): Promise<void>;
}

/**
 * A benchmark's own Drydock outside vitest: a fresh in-memory Temporal dev server (or TEMPORAL_ADDRESS's), PostgreSQL
 * (`DATABASE_URL`'s server or an embedded one), and the chosen processes, torn down by stop().
 */
export async function startBenchStack(options: { processes: ProcessName[]; env?: Record<string, string>; setup?: boolean }): Promise<BenchStack> {
  const bin = await provisionTemporalBinary({ dataDir: join(REPO_ROOT, '.data'), log: console.log });
  // TEMPORAL_ADDRESS names a server started by hand (with other dynamic config, say); it gets a namespace of its own.
  const external = process.env.TEMPORAL_ADDRESS;
  const devServer = external ? undefined : await startDevServer({ bin, port: await freePort(), headless: true });
  const dataDir = await mkdtemp(join(tmpdir(), 'drydock-bench-'));
  // As root, embedded Postgres runs as `postgres`, which must reach its data directory.
  await chmod(dataDir, 0o755);
  const pg = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dir: join(dataDir, 'pg'), port: await freePort() });
  const serverUrl = pg?.serverUrl ?? process.env.DATABASE_URL!.replace(/\/[^/]*$/, '');
  const database = `drydock_bench_${randomBytes(3).toString('hex')}`;
  const databaseUrl = await ensureDatabase(serverUrl, database);
  const cleanup = async () => {
    await dropDatabase(serverUrl, database).catch(() => {});
    await devServer?.stop();
    await pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  let stack: Stack;
  let admin: StackAdmin | undefined;
  try {
    stack = await startStack({
      env: {
        ...process.env,
        DRYDOCK_DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: external ?? devServer!.address,
        TEMPORAL_NAMESPACE: external ? database.replaceAll('_', '-') : 'default',
        DRYDOCK_API_PORT: String(await freePort()),
        DRYDOCK_AGENT_REGISTRATION_SECRET: randomBytes(16).toString('hex'),
        DRYDOCK_CODEC_KEY: randomBytes(32).toString('base64'),
        DRYDOCK_MASTER_KEY: randomBytes(32).toString('base64'),
        DRYDOCK_CATALOG_DIR: join(REPO_ROOT, 'examples/scripts-repo'),
        ...options.env,
      },
      processes: options.processes,
    });
    const wantsAdmin = options.setup !== false && stack.config.DRYDOCK_AUTH_MODE === 'accounts' && stack.processes.api !== undefined;
    if (wantsAdmin) admin = await firstAdmin(stack.config.DRYDOCK_DATA_DIR, apiCaller(stack.config.apiUrl)).catch(async (err: unknown) => {
      await stack.stop();
      throw err;
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const temporalVersion = execFileSync(bin, ['--version']).toString().trim();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${temporalVersion}${external ? ` at ${external}` : ''}, Postgres ${pg ? 'embedded' : 'DATABASE_URL'}`;
  return {
    stack,
    api: asAdmin(apiCaller(stack.config.apiUrl), admin),
    admin,
    temporalPid: devServer?.process.pid,
    machine,
    async stop() {
      await stack.stop();
      await cleanup();
    },
  };
}

/** A process's resident memory and the CPU time it has used so far, from /proc (Linux). */
export async function processUsage(pid: number): Promise<{ rssMb: number; cpuSeconds: number }> {
  const [status, stat] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  // Fields 14 and 15 (utime, stime) in clock ticks, counted after the parenthesised command name.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: Math.round(rssKb / 1024), cpuSeconds: ticks / 100 };
}

/** The whole machine's CPU time so far, busy and in all, from /proc/stat: two readings give how busy it was between them. */
export async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [, ...values] = line.trim().split(/\s+/);
  const ticks = values.map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are the idle ones.
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

export function busyShare(from: { busy: number; total: number }, to: { busy: number; total: number }): number {
  return to.total === from.total ? 0 : (to.busy - from.busy) / (to.total - from.total);
}
