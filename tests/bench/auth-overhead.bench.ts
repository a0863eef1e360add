import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '@drydock/core';
import { startBenchStack } from '../support/bench-stack.ts';

// What signing in costs a call: GET /api/v1/runs and POST /api/v1/runs without a credential (the open local
// mode: the baseline), with a session cookie and with an API token (accounts mode), in the same process run.

const CALLS = Number(process.env.BENCH_AUTH_CALLS ?? 300);
const STARTS = Number(process.env.BENCH_AUTH_STARTS ?? 50);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Caller {
  name: string;
  api: string;
  headers: Record<string, string>;
}

/**
 * `n` rounds, each timing one call per caller in turn, after 10 warm-up rounds: load that comes and goes on the
 * machine lands on every caller alike, which one caller after the other (the first version of this bench) did not.
 */
async function interleaved(callers: Caller[], n: number, call: (c: Caller) => Promise<Response>, expected: number): Promise<{ p50: number; p95: number }[]> {
  const times: number[][] = callers.map(() => []);
  for (let round = 0; round < n + 10; round++) {
    for (const [i, caller] of callers.entries()) {
      const t = performance.now();
      const res = await call(caller);
      await res.arrayBuffer();
      if (round >= 10) times[i]!.push(performance.now() - t);
      if (res.status !== expected) throw new Error(`${caller.name}: answered ${res.status}, not ${expected}`);
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return { p50: percentile(t, 50), p95: percentile(t, 95) };
  });
}

const start = { scriptId: 'true', hostId: 'local', params: {} };

// The open local mode (the baseline) and accounts mode, on two stacks running at once.
const [open, accounts] = await Promise.all([
  startBenchStack({ processes: ['api', 'worker', 'agent'], env: { DRYDOCK_AUTH_MODE: 'local' } }),
  // Its own first admin, through the setup link, so the session and the token below are the ones measured.
  startBenchStack({ processes: ['api', 'worker', 'agent'], setup: false }),
]);
const machine = open.machine;
const rows: [string, { p50: number; p95: number }, { p50: number; p95: number }][] = [];
try {
  const api = accounts.stack.config.apiUrl;
  const link = (await readFile(join(accounts.stack.config.DRYDOCK_DATA_DIR, 'setup-link'), 'utf8')).trim();
  const setup = await fetch(`${api}/api/v1/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: new URL(link).searchParams.get('token'), email: 'bench@example.com', name: 'Bench', password: 'a long bench password 0123' }),
  });
  if (!setup.ok) throw new Error(`setup failed: ${setup.status} ${await setup.text()}`);
  const cookie = setup.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const csrf = ((await setup.json()) as { csrfToken: string }).csrfToken;
  const made = await fetch(`${api}/api/v1/tokens`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', scopes: ['read', 'run'] }) });
  const token = ((await made.json()) as { token: string }).token;
  const callers: Caller[] = [
    { name: 'no credential (local mode, baseline)', api: open.stack.config.apiUrl, headers: {} },
    { name: 'session cookie', api, headers: { cookie, 'x-csrf-token': csrf } },
    { name: 'API token', api, headers: { authorization: `Bearer ${token}` } },
  ];
  const lists = await interleaved(callers, CALLS, (c) => fetch(`${c.api}/api/v1/runs`, { headers: c.headers }), 200);
  const runs = await interleaved(callers, STARTS, (c) => fetch(`${c.api}/api/v1/runs`, { method: 'POST', headers: { ...c.headers, 'content-type': 'application/json' }, body: JSON.stringify(start) }), 201);
  for (const [i, c] of callers.entries()) rows.push([c.name, lists[i]!, runs[i]!]);
} finally {
  await Promise.all([open.stop(), accounts.stop()]);
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const base = rows[0]!;
const table = [
  '| caller | GET /api/v1/runs p50 | p95 | POST /api/v1/runs p50 | p95 | added at p50 (list / start) |',
  '|---|---|---|---|---|---|',
  ...rows.map(([name, list, run]) => `| ${name} | ${ms(list.p50)} | ${ms(list.p95)} | ${ms(run.p50)} | ${ms(run.p95)} | ${ms(list.p50 - base[1].p50)} / ${ms(run.p50 - base[2].p50)} |`),
];
const worst = Math.max(...rows.slice(1).map(([, list, run]) => Math.max(list.p50 - base[1].p50, run.p50 - base[2].p50)));
const section = [
  `## Authentication overhead, ${new Date().toISOString().slice(0, 10)}`,
  '',
  `Machine: ${machine}.`,
  `${CALLS} sequential calls of GET /api/v1/runs (newest 50) and ${STARTS} run starts (POST /api/v1/runs, until the 201) per caller, after 10 warm-up rounds, the callers taking turns call by call; the baseline is the open local mode, on a stack of its own running beside the accounts-mode stack.`,
  '',
  ...table,
  '',
  `Target: authentication adds under 2 ms at p50: the most it adds is ${ms(worst)} (${worst < 2 ? 'met' : 'missed'}).`,
  '',
].join('\n');
console.log(`\n${section}`);
const file = join(REPO_ROOT, 'docs/benchmarks.md');
const doc = await readFile(file, 'utf8');
const at = doc.indexOf('\n## ');
await writeFile(file, `${doc.slice(0, at + 1)}${section}\n${doc.slice(at + 1)}`);
console.log(`written to ${file}`);
