import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject, vi } from 'vitest';
import type { LogLineView, RunView } from '@drydock/core';
import { freePort, REPO_ROOT } from '@drydock/core';
import { dropDatabase, ensureDatabase, type ProcessName, type Stack, startStack } from '@drydock/launcher';
import { type ApiCall, apiCaller, asAdmin, firstAdmin, type StackAdmin } from './first-admin.ts';

export { type ApiCall, type StackAdmin, TEST_ADMIN } from './first-admin.ts';

export const REGISTRATION_SECRET = 'test-registration-secret-0123456789';
export const CODEC_KEY = randomBytes(32).toString('base64');
export const MASTER_KEY = randomBytes(32).toString('base64');

/**
 * Polls `check` with vitest's `vi.waitFor` (which, unlike `expect.poll`, also works in `beforeAll`) until `ok` holds
 * for its value, and returns that value. A check that throws (a process restarting, say) counts as "not yet"; on
 * timeout the failure shows the last value seen.
 */
export function eventually<T>(check: () => Promise<T>, ok: (value: T) => boolean, options: { timeout?: number; interval?: number; message?: string } = {}): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (!ok(value)) throw new Error(`${options.message ?? 'still not there'}: ${JSON.stringify(value)}`);
      return value;
    },
    { timeout: options.timeout ?? 30_000, interval: options.interval ?? 200 },
  );
}

export interface TestStack extends Stack {
  /**
   * Calls the API as the admin, with their API token; a call that brings its own `authorization` or `cookie`
   * header is made with that instead. Without an admin (`setup: false`, or the local mode) it sends no credential.
   */
  api: ApiCall;
  /** Calls the API with no credential at all, as someone who has not signed in. */
  anonymous: ApiCall;
  /** The first admin; a stack started with `setup: false` (or in the local mode) has none, and this throws. */
  admin: StackAdmin;
  /** `Authorization: Bearer <admin token>`, for calls made without `api` (SSE, a web page's fetch). */
  adminHeaders(): Record<string, string>;
  startRun(scriptId: string, params?: Record<string, unknown>, hostId?: string): Promise<RunView>;
  /** The run as the API has it now: poll it with `expect.poll`. */
  run(id: string): Promise<RunView>;
  waitForRun(id: string, until?: (run: RunView) => boolean, timeoutMs?: number): Promise<RunView>;
  lines(id: string): Promise<LogLineView[]>;
  waitForLine(id: string, match: RegExp, timeoutMs?: number): Promise<LogLineView>;
  database: string;
  teardown(): Promise<void>;
}

export const FINAL = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export interface TestStackOptions {
  processes?: ProcessName[];
  env?: Record<string, string>;
  /** A Temporal dev server of its own, on a SQLite file in the stack's data dir, as `npm start` runs it: one a test may kill. */
  ownTemporal?: boolean;
  /** An embedded PostgreSQL of its own, as `npm start` runs it, instead of a database on the shared server. */
  ownPostgres?: boolean;
  /** Restart whatever dies, as `npm start` does; otherwise a killed process stays down until the test starts it. */
  restart?: boolean;
  /** The launcher's own lines ([temporal] exited …), for the test to read. */
  log?: (line: string) => void;
  /**
   * Whether to complete the first start's setup (accounts mode, the default), as a person would: through the
   * setup link the API wrote, then an API token for `api`. False leaves the stack with no admin, for tests of
   * the first start itself.
   */
  setup?: boolean;
}

/**
 * A whole Drydock (API, central worker, agent, optionally web) on the shared Temporal and Postgres, isolated by
 * namespace and database; or, for tests that kill them, on a Temporal and a PostgreSQL of its own.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const suffix = randomBytes(4).toString('hex');
  const serverUrl = inject('postgresServerUrl');
  const database = options.ownPostgres ? 'drydock' : `drydock_t_${suffix}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'drydock-test-'));
  // As root, an embedded Postgres runs as the `postgres` user, which must be able to reach its data directory.
  if (options.ownPostgres) await chmod(dataDir, 0o755);
  const databaseUrl = options.ownPostgres ? undefined : await ensureDatabase(serverUrl, database);
  const env: Record<string, string | undefined> = {
    ...process.env,
    DRYDOCK_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ...(options.ownPostgres ? { DRYDOCK_PG_PORT: String(await freePort()) } : {}),
    ...(options.ownTemporal
      ? { TEMPORAL_ADDRESS: undefined, DRYDOCK_TEMPORAL_BIN: inject('temporalBin'), DRYDOCK_TEMPORAL_PORT: String(await freePort()), DRYDOCK_TEMPORAL_UI_PORT: String(await freePort()) }
      : { TEMPORAL_ADDRESS: inject('temporalAddress') }),
    TEMPORAL_NAMESPACE: `t-${suffix}`,
    DRYDOCK_TEMPORAL_UI_URL: 'http://localhost:8233',
    DRYDOCK_API_PORT: String(await freePort()),
    DRYDOCK_WEB_PORT: String(await freePort()),
    DRYDOCK_AGENT_REGISTRATION_SECRET: REGISTRATION_SECRET,
    DRYDOCK_CODEC_KEY: CODEC_KEY,
    DRYDOCK_MASTER_KEY: MASTER_KEY,
    DRYDOCK_CATALOG_DIR: join(REPO_ROOT, 'examples/scripts-repo'),
    DRYDOCK_AGENT_OFFLINE_TIMEOUT: '4',
    DRYDOCK_AGENT_HEARTBEAT_TIMEOUT: '10',
    ...options.env,
  };
  const stack = await startStack({ env, processes: options.processes ?? ['api', 'worker', 'agent'], restart: options.restart, log: options.log });
  const base = stack.config.apiUrl;

  const anonymous = apiCaller(base);
  let admin: StackAdmin | undefined;
  try {
    const wantsAdmin = options.setup !== false && stack.config.DRYDOCK_AUTH_MODE === 'accounts' && stack.processes.api !== undefined;
    if (wantsAdmin) admin = await firstAdmin(stack.config.DRYDOCK_DATA_DIR, anonymous);
  } catch (err) {
    await stack.stop();
    if (!options.ownPostgres) await dropDatabase(serverUrl, database).catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const adminHeaders = (): Record<string, string> => (admin ? { authorization: `Bearer ${admin.token}` } : {});
  const api = asAdmin(anonymous, admin);
  const getRun = async (id: string) => (await (await api(`/api/v1/runs/${id}`)).json()) as RunView;
  const lines = async (id: string) => ((await (await api(`/api/v1/runs/${id}/lines`)).json()) as { lines: LogLineView[] }).lines;

  return {
    ...stack,
    database,
    api,
    anonymous,
    get admin(): StackAdmin {
      if (!admin) throw new Error('this stack has no admin: it was started with setup: false, or in the local mode');
      return admin;
    },
    adminHeaders,
    async startRun(scriptId, params = {}, hostId = 'local') {
      const res = await api('/api/v1/runs', { method: 'POST', json: { scriptId, hostId, params } });
      if (res.status !== 201) throw new Error(`start ${scriptId} failed: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as RunView;
    },
    async waitForRun(id, until = (r) => FINAL.includes(r.status), timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // A fault test may have the API restarting: no answer is "not yet".
        const run = await getRun(id).catch(() => undefined);
        if (run && until(run)) return run;
        if (Date.now() > deadline) throw new Error(`run ${id} is still ${run?.status ?? 'unknown (the API does not answer)'} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    run: getRun,
    lines,
    async waitForLine(id, match, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = (await lines(id)).find((l) => match.test(l.line));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no log line of run ${id} matched ${match} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async teardown() {
      await stack.stop();
      if (!options.ownPostgres) await dropDatabase(serverUrl, database).catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads an SSE stream until the server ends it, returning every event. */
export async function readSse(url: string, init: RequestInit = {}, timeoutMs = 45_000): Promise<{ event: string; id?: string; data: string }[]> {
  const res = await fetch(url, { ...init, headers: { accept: 'text/event-stream', ...init.headers }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
  const events: { event: string; id?: string; data: string }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let idx;
    while ((idx = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, idx);
      buffer = buffer.slice(idx + 2);
      const e: { event: string; id?: string; data: string } = { event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) e.event = line.slice(6).trim();
        else if (line.startsWith('id:')) e.id = line.slice(3).trim();
        else if (line.startsWith('data:')) e.data += line.slice(5).trim();
      }
      if (block.startsWith(':')) continue;
      events.push(e);
      if (e.event === 'end') return events;
    }
  }
  return events;
}
