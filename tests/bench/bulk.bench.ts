import { readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { type BulkHostView, type BulkView, REPO_ROOT } from '@drydock/core';
import { startAgentFleet } from '../support/agent-fleet.ts';
import { type AnsibleOutcome, ensureAnsible, runAnsible, writeInventory } from '../support/ansible.ts';
import { busyShare, machineCpu, processUsage, startBenchStack } from '../support/bench-stack.ts';
import { startSshdFleet } from '../support/sshd-fleet.ts';
import type { ApiCall } from '../support/first-admin.ts';

// `npm run bench`, second part: a bulk execution of `true` on 500 agent hosts (one fleet process, each host
// its own agent-<hostId> queue), timed end to end with the grid's SSE latency; then the same command on 100
// SSH hosts (real sshd processes) by Drydock over SSH and by `ansible all -m shell -a true -f 50`, side by side.
// Figures, not assertions; the section goes to the top of docs/benchmarks.md.

const AGENT_HOSTS = Number(process.env.BENCH_BULK_HOSTS ?? 500);
const PARALLELS = (process.env.BENCH_BULK_PARALLEL ?? '500,100').split(',').map(Number);
const SSH_HOSTS = Number(process.env.BENCH_SSH_HOSTS ?? 100);
const SSH_PARALLEL = 50;
const BULK_TIMEOUT_MS = 15 * 60_000;
const TERMINAL = new Set<BulkHostView['state']>(['succeeded', 'failed', 'cancelled', 'skipped']);

Runtime.install({ logger: new DefaultLogger('WARN') });

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const millis = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${Math.round(ms)} ms`);

/** Reads an SSE stream, handing each event to `on` with the moment it arrived, until `on` returns true. */
async function followSse(api: ApiCall, path: string, on: (event: string, data: string, receivedAt: number) => boolean, timeoutMs: number): Promise<void> {
  const res = await api(path, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new Error(`SSE ${path}: HTTP ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    const receivedAt = Date.now();
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let idx;
    while ((idx = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, idx);
      buffer = buffer.slice(idx + 2);
      if (block.startsWith(':')) continue;
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (on(event, data, receivedAt)) {
        await res.body.cancel().catch(() => {});
        return;
      }
    }
  }
  throw new Error(`SSE ${path} ended without an end event`);
}

interface BulkFigures {
  hosts: number;
  maxParallel: number;
  bulk: BulkView;
  /** POST /bulk to the SSE `end` event, as a user watching the grid sees it. */
  wallMs: number;
  hostRunMs: number[];
  /** From the execution's creation to its last host's start. */
  lastStartMs: number;
  /** Per host: SSE arrival of its final state minus its run's finishedAt. */
  gridLatencyMs: number[];
  /** Hosts already final in the first (snapshot) event: no latency to measure. */
  inSnapshot: number;
  cpuBusy: number;
  /** CPU seconds each Drydock process (and Temporal, and the fleet) spent during the execution. */
  cpuByProcess: Record<string, number>;
  /** Why hosts failed, the distinct messages with their counts. */
  errors: [string, number][];
}

/** The processes whose CPU time a run accounts for; filled in once they exist. */
const watched: Record<string, number> = {};
async function cpuSnapshot(): Promise<Record<string, number>> {
  const entries = await Promise.all(Object.entries(watched).map(async ([name, pid]) => [name, (await processUsage(pid).catch(() => ({ cpuSeconds: NaN }))).cpuSeconds] as const));
  return Object.fromEntries(entries);
}

async function runBulk(api: ApiCall, body: { scriptId: string; selector: Record<string, unknown>; maxParallel: number }): Promise<BulkFigures> {
  const cpu = await machineCpu();
  const byProcess = await cpuSnapshot();
  const t0 = performance.now();
  const res = await api('/api/v1/bulk', { method: 'POST', json: { scriptId: body.scriptId, selector: body.selector, params: {}, options: { maxParallel: body.maxParallel } } });
  if (res.status !== 201) throw new Error(`starting the bulk execution failed: HTTP ${res.status} ${await res.text()}`);
  const started = (await res.json()) as BulkView;

  const latency = new Map<string, number>();
  let inSnapshot = 0;
  let wallMs = 0;
  let final: BulkView | undefined;
  await followSse(
    api,
    `/api/v1/bulk/${started.id}/events`,
    (event, data, receivedAt) => {
      if (event === 'end') {
        wallMs = performance.now() - t0;
        final = (JSON.parse(data) as { bulk: BulkView }).bulk;
        return true;
      }
      for (const h of (JSON.parse(data) as { hosts: BulkHostView[] }).hosts) {
        if (!TERMINAL.has(h.state) || latency.has(h.hostId) || !h.finishedAt) continue;
        if (event === 'snapshot') inSnapshot++;
        latency.set(h.hostId, event === 'snapshot' ? NaN : receivedAt - Date.parse(h.finishedAt));
      }
      return false;
    },
    BULK_TIMEOUT_MS,
  );
  const cpuBusy = busyShare(cpu, await machineCpu());
  const after = await cpuSnapshot();
  const cpuByProcess = Object.fromEntries(Object.keys(byProcess).map((k) => [k, after[k]! - byProcess[k]!]));
  const hosts = ((await (await api(`/api/v1/bulk/${started.id}/hosts`)).json()) as { hosts: BulkHostView[] }).hosts;
  const created = Date.parse(final!.createdAt);
  const starts = hosts.flatMap((h) => (h.startedAt ? [Date.parse(h.startedAt) - created] : []));
  return {
    hosts: hosts.length,
    maxParallel: body.maxParallel,
    bulk: final!,
    wallMs,
    hostRunMs: hosts.flatMap((h) => (h.durationMs === null ? [] : [h.durationMs])),
    lastStartMs: starts.length > 0 ? Math.max(...starts) : NaN,
    gridLatencyMs: [...latency.values()].filter((v) => !Number.isNaN(v)),
    inSnapshot,
    cpuBusy,
    cpuByProcess,
    errors: [...Map.groupBy(hosts.filter((h) => h.state === 'failed'), (h) => h.error ?? `exit code ${h.exitCode}`)].map(([message, of]) => [message, of.length] as [string, number]).sort((a, b) => b[1] - a[1]),
  };
}

function cpuLine(r: BulkFigures): string {
  return Object.entries(r.cpuByProcess)
    .map(([name, cpu]) => `${name} ${cpu.toFixed(1)} s`)
    .join(', ');
}

function errorsOf(r: BulkFigures): string {
  return r.errors.map(([message, n]) => `${n} × ${message.replaceAll('|', '\\|').replaceAll('\n', ' ')}`).join('; ');
}

function outcomeOf(b: BulkView): string {
  const c = b.counts;
  return c.succeeded === b.total ? `${b.status}, ${c.succeeded}/${b.total}` : `${b.status}: ${c.succeeded} ok, ${c.failed} failed, ${c.cancelled} cancelled, ${c.skipped} skipped of ${b.total}`;
}

function table(rows: string[][]): string {
  return [`| ${rows[0]!.join(' | ')} |`, `|${rows[0]!.map(() => '---').join('|')}|`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

// Before anything starts: without Ansible there is no comparison, and installing it takes a minute.
const ansible = await ensureAnsible();
const load = loadavg()
  .map((l) => l.toFixed(1))
  .join(', ');
const bench = await startBenchStack({ processes: ['api', 'worker'] });
const { api } = bench;
// Postgres is left out: its work is spread over a process per connection; the machine's busy share covers it.
for (const [name, pid] of Object.entries({ temporal: bench.temporalPid, worker: bench.stack.processes.worker?.pid, api: bench.stack.processes.api?.pid })) if (pid !== undefined) watched[name] = pid;
let section: string;
try {
  console.log(`Agent fleet: ${AGENT_HOSTS} simulated hosts in one process`);
  const fleet = await startAgentFleet({ config: bench.stack.config, api }, { count: AGENT_HOSTS, prefix: 'bench', tags: ['bench-fleet'] });
  const fleetRss = await fleet.rssMb();
  watched.fleet = fleet.pid;
  console.log(`  ready in ${seconds(fleet.startMs)}, ${fleetRss} MiB`);
  const agentRuns: BulkFigures[] = [];
  try {
    // Warms the worker's workflow code, the catalog cache and the database pools, so the first figure is not a cold start.
    await runBulk(api, { scriptId: 'true', selector: { hostIds: fleet.hostIds.slice(0, 10) }, maxParallel: 10 });
    for (const maxParallel of PARALLELS) {
      console.log(`Bulk execution of \`true\` on ${AGENT_HOSTS} agent hosts, maxParallel ${maxParallel}`);
      const figures = await runBulk(api, { scriptId: 'true', selector: { tags: ['bench-fleet'] }, maxParallel });
      console.log(`  ${seconds(figures.wallMs)}: ${outcomeOf(figures.bulk)}${figures.errors.length ? ` (${errorsOf(figures)})` : ''}; CPU ${cpuLine(figures)}`);
      agentRuns.push(figures);
    }
  } finally {
    // The SSH comparison gets the machine without 500 idle agents on it.
    delete watched.fleet;
    await fleet.stop();
    await fleet.remove();
  }

  console.log(`SSH fleet: ${SSH_HOSTS} sshd processes on loopback`);
  const sshd = await startSshdFleet(bench, { count: SSH_HOSTS, prefix: 'bench-ssh', tags: ['bench-ssh'] });
  let sshRuns: { firstContact: BulkFigures; drydock: BulkFigures; ansible: AnsibleOutcome; pipelined: AnsibleOutcome };
  try {
    console.log(`Drydock over SSH, first contact (pins ${SSH_HOSTS} host keys), maxParallel ${SSH_PARALLEL}`);
    const firstContact = await runBulk(api, { scriptId: 'true', selector: { tags: ['bench-ssh'] }, maxParallel: SSH_PARALLEL });
    console.log(`  ${seconds(firstContact.wallMs)}: ${outcomeOf(firstContact.bulk)}${firstContact.errors.length ? ` (${errorsOf(firstContact)})` : ''}; CPU ${cpuLine(firstContact)}`);
    console.log(`Drydock over SSH, maxParallel ${SSH_PARALLEL}`);
    const drydock = await runBulk(api, { scriptId: 'true', selector: { tags: ['bench-ssh'] }, maxParallel: SSH_PARALLEL });
    console.log(`  ${seconds(drydock.wallMs)}: ${outcomeOf(drydock.bulk)}${drydock.errors.length ? ` (${errorsOf(drydock)})` : ''}; CPU ${cpuLine(drydock)}`);

    const inventory = join(sshd.dir, 'inventory.ini');
    await writeInventory(sshd, inventory);
    // Ansible's Python and modules into the page cache, so its figure is not a cold start either.
    await runAnsible(inventory, { command: 'true', forks: SSH_PARALLEL, limit: sshd.hosts.slice(0, 5).map((h) => h.id).join(':') });
    console.log(`ansible all -m shell -a true -f ${SSH_PARALLEL} (${ansible})`);
    const ansibleRun = await runAnsible(inventory, { command: 'true', forks: SSH_PARALLEL });
    console.log(`  ${seconds(ansibleRun.ms)}: ${ansibleRun.ok} ok, ${ansibleRun.failed} failed, ${ansibleRun.unreachable} unreachable`);
    console.log('the same with ANSIBLE_PIPELINING=True');
    const pipelined = await runAnsible(inventory, { command: 'true', forks: SSH_PARALLEL, pipelining: true });
    console.log(`  ${seconds(pipelined.ms)}: ${pipelined.ok} ok, ${pipelined.failed} failed, ${pipelined.unreachable} unreachable`);
    for (const run of [ansibleRun, pipelined]) if (run.ok !== SSH_HOSTS) console.log(run.output.split('\n').slice(0, 20).join('\n'));
    sshRuns = { firstContact, drydock, ansible: ansibleRun, pipelined };
  } finally {
    await sshd.stop();
  }

  const agentTable = table([
    ['maxParallel', 'time to completion', 'hosts/s', 'per-host overhead (time × parallel ÷ hosts)', 'host run p50 / p95', 'last host started after', 'grid update latency p50 / p95 / max', 'machine CPU busy', 'outcome'],
    ...agentRuns.map((r) => [
      String(r.maxParallel),
      seconds(r.wallMs),
      (r.hosts / (r.wallMs / 1000)).toFixed(1),
      millis((r.wallMs * Math.min(r.maxParallel, r.hosts)) / r.hosts),
      `${millis(percentile(r.hostRunMs, 50))} / ${millis(percentile(r.hostRunMs, 95))}`,
      seconds(r.lastStartMs),
      `${millis(percentile(r.gridLatencyMs, 50))} / ${millis(percentile(r.gridLatencyMs, 95))} / ${millis(Math.max(...r.gridLatencyMs))} (${r.gridLatencyMs.length} hosts${r.inSnapshot ? `, ${r.inSnapshot} in the snapshot` : ''})`,
      `${Math.round(r.cpuBusy * 100)} %`,
      `${outcomeOf(r.bulk)}${r.errors.length ? ` (${errorsOf(r)})` : ''}`,
    ]),
  ]);
  const cpuLines = (runs: [string, BulkFigures][]) => runs.map(([label, r]) => `- ${label}: ${cpuLine(r)}`).join('\n');
  const { firstContact, drydock, ansible: plain, pipelined } = sshRuns;
  const ansibleOutcome = (a: AnsibleOutcome) => `${a.ok}/${SSH_HOSTS} ok${a.failed ? `, ${a.failed} failed` : ''}${a.unreachable ? `, ${a.unreachable} unreachable` : ''}`;
  const sshTable = table([
    ['', 'time', 'hosts/s', 'outcome'],
    [`Drydock bulk over SSH, maxParallel ${SSH_PARALLEL}, first contact (pins host keys)`, seconds(firstContact.wallMs), (SSH_HOSTS / (firstContact.wallMs / 1000)).toFixed(1), outcomeOf(firstContact.bulk)],
    [`Drydock bulk over SSH, maxParallel ${SSH_PARALLEL}`, seconds(drydock.wallMs), (SSH_HOSTS / (drydock.wallMs / 1000)).toFixed(1), outcomeOf(drydock.bulk)],
    [`\`ansible all -m shell -a true -f ${SSH_PARALLEL}\``, seconds(plain.ms), (SSH_HOSTS / (plain.ms / 1000)).toFixed(1), ansibleOutcome(plain)],
    ['the same, `ANSIBLE_PIPELINING=True`', seconds(pipelined.ms), (SSH_HOSTS / (pipelined.ms / 1000)).toFixed(1), ansibleOutcome(pipelined)],
  ]);
  const ratio = drydock.wallMs / plain.ms;
  const verdict = `Drydock ÷ Ansible: ${ratio.toFixed(2)} (target at most 0.5: ${ratio <= 0.5 ? 'met' : 'missed'}); first contact ÷ Ansible ${(firstContact.wallMs / plain.ms).toFixed(2)}; Drydock ÷ pipelined Ansible ${(drydock.wallMs / pipelined.ms).toFixed(2)}.`;
  section = [
    `## Bulk execution, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Machine: ${bench.machine}; load average ${load} when the benchmark started. ${ansible}.`,
    `Agent fleet: ${AGENT_HOSTS} simulated hosts in one process (\`tests/support/agent-fleet.ts\`), each registered through the API and polling its own \`agent-<hostId>\` queue; ready in ${seconds(fleet.startMs)}, ${fleetRss} MiB. Each row is one bulk execution of the \`true\` script on all of them, after a 10-host warm-up; time to completion runs from \`POST /api/v1/bulk\` to the SSE \`end\` event. Grid update latency: when the SSE client received a host's final state, minus that host's \`finishedAt\`.`,
    '',
    agentTable,
    '',
    'CPU time by process during each execution (Postgres not counted):',
    '',
    cpuLines(agentRuns.map((r) => [`maxParallel ${r.maxParallel}`, r])),
    '',
    `### ${SSH_HOSTS} SSH hosts: Drydock against Ansible`,
    '',
    `${SSH_HOSTS} sshd processes on loopback ports (\`tests/support/sshd-fleet.ts\`), one key; Ansible with host key checking off, the Python interpreter named in the inventory, a fresh SSH control directory per run, warmed up on 5 hosts.`,
    '',
    sshTable,
    '',
    'CPU time by process:',
    '',
    cpuLines([['Drydock over SSH, first contact', firstContact], ['Drydock over SSH', drydock]]),
    '',
    verdict,
    '',
  ].join('\n');
} finally {
  await bench.stop();
}
console.log(`\n${section}`);

// Only the issue's sizes are recorded: a smaller trial run is printed, not mistaken for the benchmark.
if (AGENT_HOSTS !== 500 || SSH_HOSTS !== 100) {
  console.log(`not written to docs/benchmarks.md: ${AGENT_HOSTS} agent hosts and ${SSH_HOSTS} SSH hosts are not the benchmark's 500 and 100`);
  process.exit(0);
}
const file = join(REPO_ROOT, 'docs/benchmarks.md');
const previous = await readFile(file, 'utf8').catch(() => '# Benchmarks\n\nWritten by `npm run bench`; the newest result first.\n');
const [head, ...rest] = previous.split(/\n(?=## )/);
await writeFile(file, [head!.trimEnd(), '', section, ...rest].join('\n').trimEnd() + '\n');
console.log(`written to ${file}`);
