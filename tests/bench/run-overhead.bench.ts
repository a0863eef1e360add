import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import postgres from 'postgres';
import { freePort, REPO_ROOT, type RunView } from '@drydock/core';
import { dropDatabase, ensureDatabase, startEmbeddedPostgres, startStack } from '@drydock/launcher';
import { EncryptionCodec, FAILURE_CONVERTER_PATH, provisionTemporalBinary, startDevServer } from '@drydock/temporal';
import { apiCaller, asAdmin, firstAdmin } from '../support/first-admin.ts';

// `npm run bench`: Drydock's run overhead against a bare Temporal baseline on the same dev server, and the
// history page with 100,000 runs. Figures, not assertions; results go to docs/benchmarks.md.

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const CONCURRENCY = 20;
const HISTORY_ROWS = 100_000;

Runtime.install({ logger: new DefaultLogger('WARN') });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Figures {
  p50: number;
  p95: number;
  throughput: number;
}

async function measure(once: () => Promise<void>): Promise<Figures> {
  for (let i = 0; i < 10; i++) await once();
  const latencies: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await once();
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < RUNS) await once();
    }),
  );
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), throughput: RUNS / ((performance.now() - t) / 1000) };
}

const bin = await provisionTemporalBinary({ dataDir: join(REPO_ROOT, '.data'), log: console.log });
const devServer = await startDevServer({ bin, port: await freePort(), headless: true });
const dataDir = await mkdtemp(join(tmpdir(), 'drydock-bench-'));
await chmod(dataDir, 0o755);
const pg = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dir: join(dataDir, 'pg'), port: await freePort() });
const serverUrl = pg?.serverUrl ?? process.env.DATABASE_URL!.replace(/\/[^/]*$/, '');
const database = `drydock_bench_${randomBytes(3).toString('hex')}`;
const databaseUrl = await ensureDatabase(serverUrl, database);

const codecKey = randomBytes(32);
const stack = await startStack({
  env: {
    ...process.env,
    DRYDOCK_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: devServer.address,
    DRYDOCK_API_PORT: String(await freePort()),
    DRYDOCK_AGENT_REGISTRATION_SECRET: randomBytes(16).toString('hex'),
    DRYDOCK_CODEC_KEY: codecKey.toString('base64'),
    DRYDOCK_AGENT_MAX_CONCURRENT_JOBS: String(CONCURRENCY),
    DRYDOCK_CATALOG_DIR: join(REPO_ROOT, 'examples/scripts-repo'),
  },
  processes: ['api', 'worker', 'agent'],
});
const connection = await Connection.connect({ address: devServer.address });
// Drydock's payloads are encrypted; the bare baseline's are not, so the ratio includes the codec's cost.
const drydockClient = new Client({ connection, dataConverter: { payloadCodecs: [new EncryptionCodec({ k1: codecKey }, 'k1')], failureConverterPath: FAILURE_CONVERTER_PATH } });
const client = new Client({ connection });
// Every call as the first admin, with the API token they make through the setup link, as a script would.
const api = asAdmin(apiCaller(stack.config.apiUrl), await firstAdmin(dataDir, apiCaller(stack.config.apiUrl)));

try {
  console.log(`Drydock: ${RUNS} runs of \`true\` on the local agent, then ${RUNS} more ${CONCURRENCY} at a time`);
  const drydock = await measure(async () => {
    const res = await api('/api/v1/runs', { method: 'POST', json: { scriptId: 'true', hostId: 'local', params: {} } });
    const run = (await res.json()) as RunView;
    if (res.status !== 201) throw new Error(`start failed: ${JSON.stringify(run)}`);
    const outcome = (await drydockClient.workflow.getHandle(run.workflowId).result()) as { status: string };
    if (outcome.status !== 'succeeded') throw new Error(`run ${run.id} ${outcome.status}`);
  });

  console.log('Baseline: one workflow with one no-op activity on the same dev server');
  const native = await NativeConnection.connect({ address: devServer.address });
  const taskQueue = `baseline-${randomBytes(3).toString('hex')}`;
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./baseline.workflow.ts', import.meta.url)),
    activities: { noop: async () => {} },
  });
  const baseline = await worker.runUntil(
    measure(async () => {
      await client.workflow.execute('baselineWorkflow', { taskQueue, workflowId: `baseline-${randomBytes(6).toString('hex')}` });
    }),
  );
  await native.close();

  console.log(`History: ${HISTORY_ROWS.toLocaleString('en')} runs in the database, first and deep pages with filters`);
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  await sql`
    insert into runs (id, team_id, script_id, script_name, script_version, host_id, status, initiator_id, initiator_name,
                      params, exit_code, attempts, workflow_id, created_at, started_at, finished_at, duration_ms)
    select gen_random_uuid(), 'default', 's-' || (i % 50), 'Script ' || (i % 50), 'v1', 'h-' || (i % 200),
           (array['succeeded','failed','cancelled','timed_out'])[1 + i % 4], 'u-' || (i % 20), 'user' || (i % 20) || '@x',
           '{}'::jsonb, i % 3, 1, 'run/bench-' || i, now() - (i || ' seconds')::interval,
           now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval + interval '1 second', i % 10000
    from generate_series(1, ${HISTORY_ROWS}) as i`;
  await sql`analyze runs`;
  await sql.end();
  const queries = [
    ['newest 50', '/api/v1/runs'],
    ['status=failed', '/api/v1/runs?status=failed'],
    ['script + host', '/api/v1/runs?script=s-7&host=h-107'],
    ['initiator, time range', `/api/v1/runs?initiator=user3@x&from=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`],
    ['slowest first', '/api/v1/runs?sort=duration_ms&order=desc'],
  ] as const;
  const history: { name: string; p50: number; p95: number; deep: number }[] = [];
  for (const [name, path] of queries) {
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await (await api(path)).json();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    let cursor: string | null = null;
    let url: string = path;
    for (let page = 0; page < 20; page++) {
      const body = (await (await api(url)).json()) as { nextCursor: string | null };
      cursor = body.nextCursor;
      if (!cursor) break;
      url = `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`;
    }
    const t = performance.now();
    await (await api(url)).json();
    history.push({ name, p50: percentile(times, 50), p95: percentile(times, 95), deep: performance.now() - t });
  }

  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const rows = [
    ['', 'p50', 'p95', `throughput at ${CONCURRENCY} concurrent`],
    ['Drydock run of `true`', ms(drydock.p50), ms(drydock.p95), `${drydock.throughput.toFixed(1)} runs/s`],
    ['bare Temporal (1 no-op activity)', ms(baseline.p50), ms(baseline.p95), `${baseline.throughput.toFixed(1)} workflows/s`],
    ['ratio', `${(drydock.p50 / baseline.p50).toFixed(2)}x`, `${(drydock.p95 / baseline.p95).toFixed(2)}x`, `${(drydock.throughput / baseline.throughput).toFixed(2)}x of the baseline's`],
  ];
  const table = (r: string[][]) => [`| ${r[0]!.join(' | ')} |`, `|${r[0]!.map(() => '---').join('|')}|`, ...r.slice(1).map((x) => `| ${x.join(' | ')} |`)].join('\n');
  const historyTable = table([
    ['query (API, 50 rows)', 'p50', 'p95', 'page 21 (cursor)'],
    ...history.map((h) => [h.name, ms(h.p50), ms(h.p95), ms(h.deep)]),
  ]);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const temporalVersion = execFileSync(bin, ['--version']).toString().trim();
  const machine = `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${temporalVersion}, Postgres ${pg ? 'embedded' : 'DATABASE_URL'}`;
  const verdict = `Target: p50 under 150 ms and under 2x the baseline: p50 ${ms(drydock.p50)} (${drydock.p50 < 150 ? 'met' : 'missed'}), ratio ${(drydock.p50 / baseline.p50).toFixed(2)}x (${drydock.p50 < 2 * baseline.p50 ? 'met' : 'missed'}).`;
  const section = [
    `## Run overhead, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Machine: ${machine}.`,
    `${RUNS} sequential runs (after 10 warm-up runs) from \`POST /api/v1/runs\` to the workflow's completion, then ${RUNS} runs ${CONCURRENCY} at a time; the agent allows ${CONCURRENCY} concurrent jobs. The baseline runs on the same dev server in the same process run.`,
    '',
    table(rows),
    '',
    verdict,
    '',
    `### History page with ${HISTORY_ROWS.toLocaleString('en')} runs`,
    '',
    historyTable,
    '',
  ].join('\n');
  console.log(`\n${section}`);

  const file = join(REPO_ROOT, 'docs/benchmarks.md');
  const previous = await readFile(file, 'utf8').catch(() => '# Benchmarks\n\nWritten by `npm run bench`; the newest result first.\n');
  const [head, ...rest] = previous.split(/\n(?=## )/);
  await writeFile(file, [head!.trimEnd(), '', section, ...rest].join('\n').trimEnd() + '\n');
  console.log(`written to ${file}`);
} finally {
  await connection.close();
  await stack.stop();
  await dropDatabase(serverUrl, database).catch(() => {});
  await devServer.stop();
  await pg?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
