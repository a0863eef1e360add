import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { HostView, RunView } from '@drydock/core';
import { startAgentFleet } from '../support/agent-fleet.ts';
import { processUsage, startBenchStack } from '../support/bench-stack.ts';

// What one agent-fleet process and the dev server take: start time, memory and idle CPU for each fleet size
// (FLEET_SIZES, default 100,250,500), and proof that the last host of each fleet runs a script.
// `node tests/bench/agent-fleet.bench.ts`; figures only, for docs/benchmarks.md.

const SIZES = (process.env.FLEET_SIZES ?? '100,250,500').split(',').map(Number);
const IDLE_MS = 20_000;

Runtime.install({ logger: new DefaultLogger('WARN') });

const bench = await startBenchStack({ processes: ['api', 'worker'] });
if (bench.temporalPid === undefined) throw new Error('this benchmark measures its own dev server: unset TEMPORAL_ADDRESS');
const temporalPid = bench.temporalPid;
const { stack } = bench;
const { api } = bench;
const rows: string[][] = [];
let previous: { count: number; rssMb: number } | undefined;
try {
  for (const [i, count] of SIZES.entries()) {
    const temporalBefore = await processUsage(temporalPid);
    const fleet = await startAgentFleet({ config: stack.config, api }, { count, prefix: `cap${i}` });
    try {
      const afterStart = await processUsage(fleet.pid);
      const temporalStarted = await processUsage(temporalPid);
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const idle = await processUsage(fleet.pid);
      const temporalIdle = await processUsage(temporalPid);
      const apiPid = stack.processes.api!.pid!;

      const t = performance.now();
      const hosts = ((await (await api('/api/v1/hosts')).json()) as { hosts: HostView[] }).hosts.filter((h) => h.id.startsWith(`cap${i}-`));
      const hostsListMs = performance.now() - t;
      const online = hosts.filter((h) => h.online).length;

      const last = fleet.hostIds.at(-1)!;
      const started = (await (await api('/api/v1/runs', { method: 'POST', json: { scriptId: 'true', hostId: last, params: {} } })).json()) as RunView;
      let run = started;
      const deadline = Date.now() + 60_000;
      while (!['succeeded', 'failed', 'cancelled', 'timed_out'].includes(run.status) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        run = (await (await api(`/api/v1/runs/${started.id}`)).json()) as RunView;
      }

      const idleCpu = ((idle.cpuSeconds - afterStart.cpuSeconds) / (IDLE_MS / 1000)) * 100;
      const temporalIdleCpu = ((temporalIdle.cpuSeconds - temporalStarted.cpuSeconds) / (IDLE_MS / 1000)) * 100;
      const apiUsage = await processUsage(apiPid);
      rows.push([
        String(count),
        `${(fleet.startMs / 1000).toFixed(1)} s`,
        `${afterStart.rssMb} → ${idle.rssMb} MiB`,
        previous ? `${(((idle.rssMb - previous.rssMb) * 1024) / (count - previous.count)).toFixed(0)} KiB` : 'n/a',
        `${idleCpu.toFixed(0)} %`,
        `${temporalBefore.rssMb} → ${temporalIdle.rssMb} MiB, ${temporalIdleCpu.toFixed(0)} % idle`,
        `${apiUsage.rssMb} MiB`,
        `${online}/${count} in ${hostsListMs.toFixed(0)} ms`,
        `${run.status} (${last})`,
      ]);
      console.log(rows.at(-1)!.join(' | '));
      previous = { count, rssMb: idle.rssMb };
    } finally {
      await fleet.stop();
      await fleet.remove();
    }
  }
} finally {
  await bench.stop();
}

const header = ['hosts', 'start to ready', 'fleet RSS (ready → idle)', 'per host more (vs the row above)', 'fleet CPU idle', 'Temporal dev server RSS, CPU (cumulative: earlier fleets\' queues stay loaded)', 'API RSS', 'GET /hosts online', 'a run on the last host'];
console.log(`\nMachine: ${bench.machine}. Idle figures over ${IDLE_MS / 1000} s; 100 % is one core.\n`);
console.log([`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n'));
