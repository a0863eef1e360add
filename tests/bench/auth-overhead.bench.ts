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

async function timed(n: number, call: () => Promise<Response>, expected: number): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 10; i++) await (await call()).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await call();
    await res.arrayBuffer();
    times.push(performance.now() - t);
    if (res.status !== expected) throw new Error(`answered ${res.status}, not ${expected}`);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const start = { scriptId: 'true', hostId: 'local', params: {} };
const rows: [string, { p50: number; p95: number }, { p50: number; p95: number }][] = [];

const open = await startBenchStack({ processes: ['api', 'worker', 'agent'], env: { DRYDOCK_AUTH_MODE: 'local' } });
const machine = open.machine;
try {
  const api = open.stack.config.apiUrl;
  const list = await timed(CALLS, () => fetch(`${api}/api/v1/runs`), 200);
  const run = await timed(STARTS, () => fetch(`${api}/api/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(start) }), 201);
  rows.push(['no credential (local mode, baseline)', list, run]);
} finally {
  await open.stop();
}

// Its own first admin, through the setup link, so the session and the token below are the ones measured.
const accounts = await startBenchStack({ processes: ['api', 'worker', 'agent'], setup: false });
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
  for (const [name, headers] of [
    ['session cookie', { cookie, 'x-csrf-token': csrf }],
    ['API token', { authorization: `Bearer ${token}` }],
  ] as const) {
    const list = await timed(CALLS, () => fetch(`${api}/api/v1/runs`, { headers }), 200);
    const run = await timed(STARTS, () => fetch(`${api}/api/v1/runs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(start) }), 201);
    rows.push([name, list, run]);
  }
} finally {
  await accounts.stop();
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
  `${CALLS} sequential calls of GET /api/v1/runs (newest 50) and ${STARTS} run starts (POST /api/v1/runs, until the 201) per caller, after 10 warm-up calls each; the baseline is the open local mode, on a stack of its own, in the same process run.`,
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
