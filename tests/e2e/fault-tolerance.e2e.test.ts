import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LogLineView, RunView } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

/** Running, as opposed to gone or a zombie waiting for an init that may never reap it. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The log of one attempt, as a user reads it: every line once, in order, none missing. */
function expectWholeLog(lines: LogLineView[], ticks: number) {
  const attempt = lines.filter((l) => l.attempt === 1);
  expect(attempt.map((l) => l.seq)).toEqual(attempt.map((_, i) => i));
  const tickLines = attempt.filter((l) => l.line.startsWith('tick ')).map((l) => l.line);
  expect(tickLines).toEqual(Array.from({ length: ticks }, (_, i) => `tick ${i + 1}`));
  expect(attempt.at(-1)?.line).toMatch(/^exited with code 0 after/);
}

/** Every address process `pid` listens on for TCP, from /proc: what another machine could reach. */
async function listeningAddresses(pid: number): Promise<string[]> {
  const sockets = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) sockets.add(inode);
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const row of (await readFile(`/proc/net/${table}`, 'utf8')).split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      // Column 3 is the state (0A: LISTEN), column 9 the socket's inode.
      if (cols[3] !== '0A' || !sockets.has(cols[9]!)) continue;
      const [hex, port] = cols[1]!.split(':') as [string, string];
      const address =
        table === 'tcp'
          ? hex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.')
          : hex === '0'.repeat(32)
            ? '::'
            : hex === '00000000000000000000000001000000'
              ? '::1'
              : `ipv6 ${hex}`;
      out.push(`${address}:${parseInt(port, 16)}`);
    }
  }
  return out;
}

/** Health as a monitor sees it: an answer, never a hang (the request gives up after 10 s). */
async function health(stack: TestStack): Promise<{ status: number; body: { status: string; database: string; temporal: string; reason?: string } }> {
  const res = await stack.api('/health', { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as { status: string; database: string; temporal: string; reason?: string } };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Kills process `pid` and keeps its `port` taken, so the server the launcher restarts cannot come back until
 * released: an outage as long as the test needs. The port listens but never accepts, as a host that stopped
 * answering (connections stall, then time out); the killed server's connections linger in TIME_WAIT, hence
 * SO_REUSEADDR. Node cannot listen without accepting; python3 can. It is started before the kill, so it takes
 * the port before the launcher's restart can.
 */
async function killAndHoldPort(pid: number, port: number): Promise<() => Promise<void>> {
  const program = [
    'import socket, sys, time',
    's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    'print("ready", flush=True); sys.stdin.readline()',
    'for _ in range(500):',
    '    try:',
    '        s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); break',
    '    except OSError: time.sleep(0.002)',
    'else: sys.exit("port %s did not come free" % sys.argv[1])',
    'print("held", flush=True); sys.stdin.read()',
  ].join('\n');
  const holder = spawn('python3', ['-c', program, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  const lines = createInterface({ input: holder.stdout! });
  const said = (word: string) =>
    new Promise<void>((resolve, reject) => {
      lines.once('line', (line) => (line === word ? resolve() : reject(new Error(`the port holder said ${line}`))));
      holder.once('exit', (code) => reject(new Error(`holding port ${port} failed (exit ${code})`)));
    });
  await said('ready');
  const held = said('held');
  process.kill(pid, 'SIGKILL');
  holder.stdin!.write('go\n');
  await held;
  return async () => {
    holder.stdin!.end();
    await exited;
  };
}

/** Until the agent has recorded how each run's attempt ended: the scripts are done, whatever Temporal and the API know. */
async function outcomesOnDisk(stack: TestStack, runs: RunView[]): Promise<void> {
  const journal = join(stack.config.DRYDOCK_DATA_DIR, 'agents', 'journal', 'local');
  await until('every script to end', async () => (runs.every((r) => existsSync(join(journal, `${r.id}-1`, 'outcome.json'))) ? true : undefined), 60_000);
}

async function sleepers(stack: TestStack, count: number, seconds: number): Promise<RunView[]> {
  const runs: RunView[] = [];
  for (let i = 0; i < count; i++) runs.push(await stack.startRun('sleep', { seconds }));
  for (const run of runs) await stack.waitForLine(run.id, /^tick 2$/, 60_000);
  return runs;
}

/** Every run ended as its script did, with its whole log; the launcher said the crash once and the return once. */
async function expectSucceededAfterRestart(
  stack: TestStack,
  runs: RunView[],
  server: { said: string[]; name: string; address: string; killed: number; pid: () => number | undefined },
): Promise<void> {
  for (const run of runs) {
    const final = await stack.waitForRun(run.id, undefined, 120_000);
    expect(final, final.error ?? '').toMatchObject({ status: 'succeeded', exitCode: 0, attempts: 1 });
    expectWholeLog(await stack.lines(run.id), 6);
  }
  expect(server.pid()).not.toBe(server.killed);
  expect(server.said.filter((l) => l.startsWith(`[${server.name}] exited`))).toEqual([`[${server.name}] exited (SIGKILL); starting it again on ${server.address}`]);
  expect(server.said.filter((l) => l.startsWith(`[${server.name}] running again`))).toHaveLength(1);
}

describe('kill -9 of a Drydock process in the middle of a run', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('the central worker: the run completes once it is back, with a whole log', async () => {
    const run = await stack.startRun('sleep', { seconds: 6 });
    await stack.waitForLine(run.id, /^tick 2$/);
    await stack.processes.worker!.kill('SIGKILL');
    await stack.waitForLine(run.id, /^tick 4$/);
    await stack.processes.worker!.start();

    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded', exitCode: 0, attempts: 1 });
    expectWholeLog(await stack.lines(run.id), 6);
  });

  test('the API: the agent holds its log lines until the API is back, then the log is whole', async () => {
    const run = await stack.startRun('sleep', { seconds: 6 });
    await stack.waitForLine(run.id, /^tick 1$/);
    await stack.processes.api!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 4_000));
    await stack.processes.api!.start();

    const final = await stack.waitForRun(run.id);
    expect(final).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expectWholeLog(await stack.lines(run.id), 6);
  });

  test('the agent: the run fails with the reason, the restarted agent ends the orphaned script, and the log says so', async () => {
    const run = await stack.startRun('sleep', { seconds: 30 });
    const child = Number((await stack.waitForLine(run.id, /^child pid \d+$/)).line.split(' ').at(-1));
    await stack.waitForLine(run.id, /^tick 1$/);
    const pid = stack.processes.agent!.pid;
    await stack.processes.agent!.kill('SIGKILL');
    // The script outlives the agent that started it...
    expect(alive(child)).toBe(true);
    await stack.processes.agent!.start();
    // ...until the agent's next start ends the process group it left behind.
    expect(alive(child)).toBe(false);

    // The heartbeat timeout (10 s in tests) notices the dead attempt; the new agent knows it died with its process.
    const final = await stack.waitForRun(run.id, undefined, 40_000);
    expect(final.status).toBe('failed');
    expect(final.error).toBe('host local stopped responding mid-run (no heartbeat from its agent or SSH session)');
    const lines = await stack.lines(run.id);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i));
    expect(lines.at(-1)?.line).toBe(`the agent process that ran attempt 1 (pid ${pid}) ended before the attempt did; its script was ended`);
  });
});

describe('kill -9 of the Temporal dev server while six runs sleep (npm start shape: the launcher supervises it)', () => {
  let stack: TestStack;
  const said: string[] = [];
  beforeAll(async () => {
    stack = await startTestStack({ ownTemporal: true, restart: true, log: (line) => said.push(line), env: { DRYDOCK_AGENT_OFFLINE_TIMEOUT: '30' } });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('a hung server: /health answers degraded with the reason instead of hanging', async () => {
    const pid = stack.devServer!.pid!;
    expect(await listeningAddresses(pid)).not.toEqual([]);
    expect((await listeningAddresses(pid)).every((a) => a.startsWith('127.0.0.1:'))).toBe(true);
    process.kill(pid, 'SIGSTOP');
    try {
      const during = await health(stack);
      expect(during).toEqual({
        status: 503,
        body: {
          status: 'degraded',
          database: 'ok',
          temporal: `unreachable at ${stack.temporalAddress} (no answer within 2 s)`,
          reason: `temporal: unreachable at ${stack.temporalAddress} (no answer within 2 s)`,
        },
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until('/health to be ok again', async () => ((await health(stack)).status === 200 ? true : undefined), 30_000);
  });

  test('kill -9: noticed, said once, restarted on the same port and data; scripts that end meanwhile are recorded succeeded with their whole logs', async () => {
    const runs = await sleepers(stack, 6, 6);
    const pid = stack.devServer!.pid!;
    // Temporal stays away until every script has ended: what the agent learns meanwhile must not be lost.
    const release = await killAndHoldPort(pid, Number(stack.temporalAddress.split(':')[1]));
    try {
      await outcomesOnDisk(stack, runs);
    } finally {
      await release();
    }

    await expectSucceededAfterRestart(stack, runs, { said, name: 'temporal', address: stack.temporalAddress, killed: pid, pid: () => stack.devServer!.pid });
    // The workers and the agent reconnected by themselves, saying so at most once (a stalled call says nothing), none per retry.
    for (const name of ['worker', 'agent'] as const) {
      const output = stack.processes[name]!.output;
      expect(output.filter((l) => /Temporal at \S+ does not answer/.test(l)).length, name).toBeLessThanOrEqual(1);
      expect(output.filter((l) => /retried \d+ times|Error when recording heartbeat/.test(l)), name).toEqual([]);
    }
  }, 300_000);
});

describe('kill -9 of embedded PostgreSQL during three runs (npm start shape: the launcher supervises it)', () => {
  let stack: TestStack;
  const said: string[] = [];
  beforeAll(async () => {
    stack = await startTestStack({ ownPostgres: true, restart: true, log: (line) => said.push(line) });
  });
  afterAll(async () => {
    await stack?.teardown();
  });

  test('Drydock connects as a role that is no superuser, with passwords only this install knows, on loopback only', async () => {
    const secrets = JSON.parse(await readFile(join(stack.config.DRYDOCK_DATA_DIR, 'secrets.json'), 'utf8')) as Record<string, string>;
    expect(secrets.postgresPassword).toMatch(/^[\w-]{32}$/);
    expect(secrets.postgresAppPassword).toMatch(/^[\w-]{32}$/);
    const url = new URL(stack.databaseUrl);
    expect(url.username).toBe('drydock_app');
    expect(decodeURIComponent(url.password)).toBe(secrets.postgresAppPassword);

    const app = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [role] = await app`select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user`;
      expect(role).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false });
      const owners = await app`select distinct pg_get_userbyid(relowner) as owner from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`;
      expect(owners).toEqual([{ owner: 'drydock_app' }]);
    } finally {
      await app.end();
    }
    // The password of installs before this one opens nothing.
    const old = postgres(`postgres://drydock:drydock@127.0.0.1:${url.port}/postgres`, { max: 1, onnotice: () => {}, connect_timeout: 5 });
    await expect(old`select 1`).rejects.toMatchObject({ code: '28P01' });
    await old.end();
    expect((await listeningAddresses(stack.postgres!.pid!)).map((a) => a.replace(/:\d+$/, ''))).toEqual(['127.0.0.1']);
  });

  test('kill -9: noticed, said once, restarted; every run ends succeeded with its whole log, though its end came while the database was away', async () => {
    const runs = await sleepers(stack, 3, 6);
    const pid = stack.postgres!.pid!;
    const port = Number(new URL(stack.databaseUrl).port);
    const release = await killAndHoldPort(pid, port);
    try {
      // Asked until it answers: the API may be starting again (postgres.js can crash a process whose database dies).
      const during = await until('/health to say the database is away', async () => {
        const h = await health(stack);
        return h.status === 503 ? h : undefined;
      }, 30_000);
      expect(during.body.reason).toMatch(new RegExp(`database.* 127\\.0\\.0\\.1:${port} `));
      // The API cannot store a line meanwhile; the agent keeps them, and the outcome, on disk.
      await outcomesOnDisk(stack, runs);
    } finally {
      await release();
    }

    await expectSucceededAfterRestart(stack, runs, { said, name: 'postgres', address: `127.0.0.1:${port}`, killed: pid, pid: () => stack.postgres!.pid });
    // The outage was said, not a line per failed log write: at most once by each API process, once by the agent.
    const api = stack.processes.api!.output;
    const starts = api.filter((l) => l.startsWith('API listening on')).length;
    expect(api.filter((l) => /database at \S+ (does not answer|answers)|waiting for the database/.test(l)).length).toBeLessThanOrEqual(2 * starts);
    expect(api.filter((l) => / failed:/.test(l))).toEqual([]);
    expect(stack.processes.agent!.output.filter((l) => /the API at \S+ does not answer/.test(l))).toHaveLength(1);
  }, 300_000);
});
