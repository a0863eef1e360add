import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { freePort, REPO_ROOT, type RunView } from '@drydock/core';

// `npm start` as a newcomer runs it: embedded PostgreSQL, the Temporal dev server on a SQLite file, every process,
// and no open admin: the first person to follow the printed setup link sets the admin's password.

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

/** The cookies a browser keeps from an answer, as one `cookie` header. */
function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
}

async function waitForRun(id: string, cookie: string): Promise<RunView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = (await (await fetch(`${webUrl}/api/v1/runs/${id}`, { headers: { cookie } })).json()) as RunView;
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

const ADMIN = { email: 'first@example.com', name: 'First Admin', password: 'a first admin password' };

describe('npm start', () => {
  test('opens no door on a fresh start: it prints a setup link, and the person who follows it is the first admin', async () => {
    const first = launch();
    try {
      await until(first, 'Drydock is up.');
      const printed = first.output.join('');
      expect(printed).toContain(`Web UI         ${webUrl}`);
      const banner = printed.slice(printed.indexOf('Drydock is up.'));
      expect(banner).toContain('FIRST START: there is no admin yet');
      const link = /^ +(http:\/\/\S+\/setup\?token=\S+)$/m.exec(banner)?.[1];
      expect(link, banner).toBeDefined();
      expect(link!.startsWith(`${webUrl}/setup?token=`)).toBe(true);
      expect((await readFile(join(dataDir, 'setup-link'), 'utf8')).trim()).toBe(link);

      // No open admin: the API wants a credential, and a page sends the browser to sign in.
      const health = await fetch(`${webUrl}/health`);
      expect(await health.json()).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' });
      const runs = await fetch(`${webUrl}/api/v1/runs`);
      expect(runs.status).toBe(401);
      const page = await fetch(`${webUrl}/`, { redirect: 'manual' });
      expect(page.status).toBeGreaterThanOrEqual(300);
      expect(page.status).toBeLessThan(400);
      expect(page.headers.get('location')).toMatch(/^(\/|https?:\/\/[^/]+\/)sign-in/);

      // The link opens the setup page; its form sets the first admin's password and signs them in.
      const form = await fetch(link!);
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('name="password"');
      const done = await fetch(link!, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: webUrl, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: new URL(link!).searchParams.get('token')!, ...ADMIN }).toString(),
      });
      expect(done.status).toBe(302);
      expect(done.headers.get('location')).toBe('/');
      // The password works: sign in with it, as the admin will from now on.
      const signIn = await fetch(`${webUrl}/api/v1/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }) });
      expect(signIn.status).toBe(200);
      const cookie = cookiesOf(signIn);
      const { csrfToken } = (await signIn.json()) as { csrfToken: string };
      // The link worked once: it is gone from the data directory and refused when followed again.
      await expect(readFile(join(dataDir, 'setup-link'), 'utf8')).rejects.toThrow();
      const replay = await fetch(`${webUrl}/api/v1/auth/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: new URL(link!).searchParams.get('token'), email: 'mallory@example.com', name: 'Mallory', password: 'a second admin please' }),
      });
      expect(replay.status).toBe(409);

      const catalog = await fetch(`${webUrl}/`, { headers: { cookie } });
      expect(catalog.status).toBe(200);
      expect(await catalog.text()).toContain('Echo parameters');
      const started = await fetch(`${webUrl}/api/v1/runs`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
        body: JSON.stringify({ scriptId: 'echo-params', hostId: 'local', params: { message: 'kept across restarts' } }),
      });
      expect(started.status).toBe(201);
      const run = (await started.json()) as RunView;
      expect((await waitForRun(run.id, cookie)).status).toBe('succeeded');

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
        // An admin exists now: no new link, an invitation to sign in instead.
        const banner = again.output.join('').slice(again.output.join('').indexOf('Drydock is up.'));
        expect(banner).not.toContain('FIRST START');
        expect(banner).toContain(`Sign in at ${webUrl}/sign-in`);
        expect((await fetch(`${webUrl}/api/v1/runs`)).status).toBe(401);
        const kept = (await (await fetch(`${webUrl}/api/v1/runs/${run.id}`, { headers: { cookie } })).json()) as RunView;
        expect(kept).toMatchObject({ status: 'succeeded', params: { message: 'kept across restarts' } });
        const lines = (await (await fetch(`${webUrl}/api/v1/runs/${run.id}/lines`, { headers: { cookie } })).json()) as { lines: { line: string }[] };
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

  test('refuses the local mode when others could reach it, naming the setting', async () => {
    const open = launch({ DRYDOCK_AUTH_MODE: 'local', DRYDOCK_WEB_HOST: '0.0.0.0' });
    expect(await open.exited).toBe(1);
    expect(open.output.join('')).toContain('DRYDOCK_WEB_HOST: 0.0.0.0 is not a loopback address');
  });
});
