import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { freePort, REPO_ROOT, type RunView } from '@drydock/core';

// `npm start` as a newcomer runs it: embedded PostgreSQL, the Temporal dev server on a SQLite file, every process.

let dataDir: string;
let env: NodeJS.ProcessEnv;
let webUrl: string;

interface Launched {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

function launch(extraEnv: NodeJS.ProcessEnv = {}): Launched {
  // Its own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
  const child = spawn(process.execPath, [join(REPO_ROOT, 'launcher/src/main.ts')], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function until(launched: Launched, text: string, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!launched.output.join('').includes(text)) {
    if (launched.child.exitCode !== null) throw new Error(`launcher exited ${launched.child.exitCode}:\n${launched.output.join('').slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${launched.output.join('').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForRun(id: string): Promise<RunView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = (await (await fetch(`${webUrl}/api/v1/runs/${id}`)).json()) as RunView;
    if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'drydock-start-'));
  await chmod(dataDir, 0o755);
  const webPort = await freePort();
  webUrl = `http://127.0.0.1:${webPort}`;
  env = { ...process.env, DRYDOCK_DATA_DIR: dataDir, DRYDOCK_TEMPORAL_BIN: inject('temporalBin') };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  Object.assign(env, {
    DRYDOCK_WEB_PORT: String(webPort),
    DRYDOCK_API_PORT: String(await freePort()),
    DRYDOCK_PG_PORT: String(await freePort()),
    DRYDOCK_TEMPORAL_PORT: String(await freePort()),
    DRYDOCK_TEMPORAL_UI_PORT: String(await freePort()),
  });
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  test('brings everything up on embedded defaults, stops cleanly on Ctrl-C, and keeps data for the next start', async () => {
    const first = launch();
    try {
      await until(first, 'Drydock is up.');
      expect(first.output.join('')).toContain(`Web UI         ${webUrl.replace('127.0.0.1', '127.0.0.1')}`);

      const health = await fetch(`${webUrl}/health`);
      expect(await health.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
      const catalog = await fetch(`${webUrl}/`);
      expect(catalog.status).toBe(200);
      expect(await catalog.text()).toContain('Echo parameters');

      const started = await fetch(`${webUrl}/api/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scriptId: 'echo-params', hostId: 'local', params: { message: 'kept across restarts' } }),
      });
      expect(started.status).toBe(201);
      const run = (await started.json()) as RunView;
      expect((await waitForRun(run.id)).status).toBe('succeeded');

      // A second start while the first runs: a clear message, not a stack trace.
      const second = launch();
      expect(await second.exited).toBe(1);
      expect(second.output.join('')).toMatch(/drydock: port \d+ for .+ is already in use: stop what uses it, or set DRYDOCK_\w+_PORT to another port/);

      process.kill(-first.child.pid!, 'SIGINT');
      expect(await first.exited).toBe(0);
      expect(first.output.join('')).not.toContain('restarting');
      expect(first.output.join('')).toContain('[drydock] stopped');
      await expect(fetch(`${webUrl}/health`)).rejects.toThrow();

      const again = launch();
      try {
        await until(again, 'Drydock is up.');
        const kept = (await (await fetch(`${webUrl}/api/v1/runs/${run.id}`)).json()) as RunView;
        expect(kept).toMatchObject({ status: 'succeeded', params: { message: 'kept across restarts' } });
        const lines = (await (await fetch(`${webUrl}/api/v1/runs/${run.id}/lines`)).json()) as { lines: { line: string }[] };
        expect(lines.lines.map((l) => l.line)).toContain('message=kept across restarts');
        // The workflow survived too: the dev server keeps its history in the SQLite file under the data dir.
        const connection = await Connection.connect({ address: `127.0.0.1:${env.DRYDOCK_TEMPORAL_PORT}` });
        try {
          const description = await new Client({ connection }).workflow.getHandle(run.workflowId).describe();
          expect(description.status.name).toBe('COMPLETED');
        } finally {
          await connection.close();
        }
      } finally {
        process.kill(-again.child.pid!, 'SIGINT');
        expect(await again.exited).toBe(0);
      }
    } finally {
      if (first.child.exitCode === null) process.kill(-first.child.pid!, 'SIGKILL');
    }
  }, 400_000);
});
