import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { freePort, REPO_ROOT } from '@drydock/core';
import { provisionTemporalBinary, startDevServer } from '@drydock/temporal';

// How long a task waits for its agent on a fresh agent queue, with the dev server's task queues in 4 partitions
// (Temporal's default) and in 1 (what the launcher sets). Each round makes QUEUES new queues, each with one
// worker holding POLLS polls (as an agent, or a simulated fleet host), and hands each one task at once.
// `node tests/bench/agent-queue-partitions.bench.ts` (not part of `npm run bench`); figures only.

const QUEUES = Number(process.env.BENCH_QUEUES ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONFIGS = (process.env.BENCH_CONFIGS ?? '4x1,4x2,1x1,1x2').split(',').map((c) => c.split('x').map(Number) as [number, number]);

Runtime.install({ logger: new DefaultLogger('ERROR') });
const bin = await provisionTemporalBinary({ dataDir: `${REPO_ROOT}/.data` });

async function measure(partitions: number, polls: number): Promise<number[]> {
  const server = await startDevServer({ bin, port: await freePort(), headless: true, partitions: { read: partitions, write: partitions } });
  const connection = await Connection.connect({ address: server.address });
  const native = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection });
  const central = await Worker.create({
    connection: native,
    taskQueue: 'central',
    workflowsPath: fileURLToPath(new URL('./queue-probe.workflow.ts', import.meta.url)),
    activities: {},
  });
  const centralRun = central.run();
  const waits: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const queues = Array.from({ length: QUEUES }, (_, i) => `agent-p${partitions}x${polls}-r${round}-${i}`);
      const agents = await Promise.all(
        queues.map((taskQueue) =>
          Worker.create({
            connection: native,
            taskQueue,
            activities: { noop: async () => {} },
            activityTaskPollerBehavior: { type: 'simple-maximum', maximum: polls },
          }),
        ),
      );
      const running = agents.map((a) => a.run());
      const handles = await Promise.all(queues.map((q) => client.workflow.start('queueProbeWorkflow', { taskQueue: 'central', workflowId: q, args: [q] })));
      await Promise.all(handles.map((h) => h.result().catch(() => undefined)));
      for (const h of handles) {
        const events = (await h.fetchHistory()).events ?? [];
        const at = (e: (typeof events)[number] | undefined) => (e ? Number(e.eventTime!.seconds) * 1000 + Math.round((e.eventTime!.nanos ?? 0) / 1e6) : undefined);
        const scheduled = at(events.find((e) => e.activityTaskScheduledEventAttributes));
        const started = at(events.find((e) => e.activityTaskStartedEventAttributes));
        waits.push(scheduled !== undefined && started !== undefined ? started - scheduled : 120_000);
      }
      for (const a of agents) a.shutdown();
      await Promise.all(running);
    }
  } finally {
    central.shutdown();
    await centralRun;
    await native.close();
    await connection.close();
    await server.stop();
  }
  return waits.sort((a, b) => a - b);
}

console.log(`| partitions | polls a queue | tasks | p50 | p99 | max | over 5 s | over 30 s | load average |`);
console.log(`|---|---|---|---|---|---|---|---|---|`);
for (const [partitions, polls] of CONFIGS) {
  const w = await measure(partitions, polls);
  const q = (p: number) => w[Math.min(w.length - 1, Math.floor(p * w.length))]!;
  console.log(
    `| ${partitions} | ${polls} | ${w.length} | ${q(0.5)} ms | ${q(0.99)} ms | ${w.at(-1)} ms | ${w.filter((x) => x > 5_000).length} | ${w.filter((x) => x > 30_000).length} | ${loadavg()[0]!.toFixed(1)} |`,
  );
}
process.exit(0);
