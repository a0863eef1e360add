import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunView } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

// A run's reproduction bundle, downloaded and opened as a user would: untarred, checked with sha256sum -c,
// searched for the secret, and its reproduce.sh run against the same Drydock.

let stack: TestStack;
let sql: postgres.Sql;
let work: string;
let run: RunView;
const secret = `bundle-secret-${randomBytes(8).toString('hex')}`;

/** A token of a service account with `role` in `team`, made where the API keeps tokens (its hash). */
async function tokenFor(team: string, role: string, scopes: string[]): Promise<string> {
  const token = `ddp_${randomBytes(24).toString('base64url')}`;
  const account = randomUUID();
  await sql`insert into service_accounts (id, team_id, name, role) values (${account}, ${team}, ${`bundle-${role}-${account.slice(0, 8)}`}, ${role})`;
  await sql`insert into api_tokens (id, team_id, service_account_id, name, scopes, token_hash, prefix)
            values (${randomUUID()}, ${team}, ${account}, 'bundle test', ${scopes}, ${createHash('sha256').update(token).digest('hex')}, ${token.slice(0, 10)})`;
  return token;
}

/** Downloads the bundle of `runId` and untars it into a folder of its own; answers the folder the bundle makes. */
async function downloadBundle(runId: string): Promise<{ res: Response; dir: string }> {
  const res = await stack.api(`/api/v1/runs/${runId}/bundle`);
  expect(res.status).toBe(200);
  const into = await mkdtemp(join(work, 'bundle-'));
  const archive = join(into, 'bundle.tar.gz');
  await writeFile(archive, Buffer.from(await res.arrayBuffer()));
  execFileSync('tar', ['-xzf', archive, '-C', into]);
  await rm(archive);
  return { res, dir: join(into, `drydock-run-${runId}`) };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

beforeAll(async () => {
  stack = await startTestStack();
  sql = postgres(stack.databaseUrl, { max: 2, onnotice: () => {} });
  work = await mkdtemp(join(tmpdir(), 'drydock-bundle-test-'));
  run = await stack.startRun('capture-demo', { api_token: secret, big_mb: 1 });
  run = await stack.waitForRun(run.id);
}, 120_000);
afterAll(async () => {
  await sql?.end();
  await stack?.teardown();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the reproduction bundle of a run', () => {
  test('holds the run, its script at its version, log, captures, host, history and reproduce scripts; its checksums verify; no secret in it', async () => {
    expect(run).toMatchObject({ status: 'succeeded' });
    const { res, dir } = await downloadBundle(run.id);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="drydock-run-${run.id}.tar.gz"`);

    expect(await filesUnder(dir)).toEqual(
      [
        'SHA256SUMS',
        'artifacts/attempt-1/out/big.bin',
        'artifacts/attempt-1/out/report.txt',
        'environment/attempt-1-drydock-environment.json',
        'host.json',
        'log.txt',
        'manifest.json',
        'parameters.json',
        'reproduce.ps1',
        'reproduce.sh',
        'run.json',
        'script/capture-demo.sh',
        'temporal-history.json',
      ].sort(),
    );
    const check = spawnSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(check.stdout.trim().split('\n')).toHaveLength(12);

    const read = (name: string) => readFile(join(dir, name), 'utf8');
    const script = (await sql<{ script_content: string }[]>`select script_content from script_versions where script_id = 'capture-demo' and version = ${run.scriptVersion}`)[0]!;
    expect(await read('script/capture-demo.sh')).toBe(script.script_content);
    expect(JSON.parse(await read('manifest.json'))).toMatchObject({ version: run.scriptVersion, manifest: { id: 'capture-demo', script: 'scripts/capture-demo.sh' } });
    expect(JSON.parse(await read('parameters.json'))).toEqual({ big_mb: 1, api_token: '••••••' });
    expect(await read('log.txt')).toContain('token has');
    expect(await read('artifacts/attempt-1/out/report.txt')).toContain(`run: ${run.id} attempt: 1 host: local`);
    expect(JSON.parse(await read('host.json'))).toMatchObject({ id: 'local', transport: 'agent' });

    const history = JSON.parse(await read('temporal-history.json')) as { events: { eventType: string; workflowExecutionStartedEventAttributes?: { workflowType: { name: string }; input: { payloads: { data: string }[] } } }[] };
    expect(history.events[0]?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    expect(history.events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    const started = history.events[0]!.workflowExecutionStartedEventAttributes!;
    expect(started.workflowType.name).toBe('scriptRunWorkflow');
    // Decoded for this caller: the input reads as the run's own, not as ciphertext.
    expect(JSON.parse(Buffer.from(started.input.payloads[0]!.data, 'base64').toString('utf8'))).toMatchObject({ runId: run.id, scriptId: 'capture-demo', params: { big_mb: 1 } });
    expect(history.events.some((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED')).toBe(true);

    // The secret is nowhere: not in a file's text, nor in the compressed or uncompressed archive.
    for (const name of await filesUnder(dir)) expect((await readFile(join(dir, name))).includes(secret), name).toBe(false);
    const raw = Buffer.from(await (await stack.api(`/api/v1/runs/${run.id}/bundle`)).arrayBuffer());
    expect(execFileSync('gzip', ['-dc'], { input: raw, maxBuffer: 64 * 1024 * 1024 }).includes(secret)).toBe(false);
  });

  test('reproduce.sh api local starts a new run of the same version with the same parameters, which succeeds', async () => {
    const { dir } = await downloadBundle(run.id);
    const team = (await sql<{ team_id: string }[]>`select team_id from runs where id = ${run.id}`)[0]!.team_id;
    const token = await tokenFor(team, 'operator', ['read', 'run']);
    const bare = spawnSync('sh', ['reproduce.sh', 'api', 'local'], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, DRYDOCK_URL: stack.config.apiUrl, DRYDOCK_TOKEN: token } });
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('DRYDOCK_PARAM_API_TOKEN');

    const started = spawnSync('sh', ['reproduce.sh', 'api', 'local'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, DRYDOCK_URL: stack.config.apiUrl, DRYDOCK_TOKEN: token, DRYDOCK_PARAM_API_TOKEN: secret },
    });
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    const again = JSON.parse(started.stdout) as RunView;
    expect(again.id).not.toBe(run.id);
    expect(again).toMatchObject({ scriptId: 'capture-demo', scriptVersion: run.scriptVersion, hostId: 'local', params: { big_mb: 1, api_token: '••••••' } });
    expect(await stack.waitForRun(again.id)).toMatchObject({ status: 'succeeded', scriptVersion: run.scriptVersion });
    expect((await stack.lines(again.id)).map((l) => l.line)).toContain(`token has ${secret.length} characters`);
  });

  test('a captured file whose stored copy is gone is named in MISSING.txt, and the rest still verifies', async () => {
    const other = await stack.waitForRun((await stack.startRun('capture-demo', { big_mb: 0 })).id);
    expect(other.status).toBe('succeeded');
    await rm(join(stack.config.blobDir, 'objects', 'runs', other.id, '1', 'out', 'report.txt'));
    const { dir } = await downloadBundle(other.id);
    const files = await filesUnder(dir);
    expect(files).not.toContain('artifacts/attempt-1/out/report.txt');
    expect(files).toContain('artifacts/attempt-1/out/big.bin');
    expect(await readFile(join(dir, 'MISSING.txt'), 'utf8')).toMatch(/^artifacts\/attempt-1\/out\/report\.txt: it could not be read: its stored file is gone/m);
    expect(spawnSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: dir }).status).toBe(0);
  });

  test("a viewer of another team gets 404, as for a run that does not exist", async () => {
    await sql`insert into teams (id, name) values ('bundle-other', 'Another team')`;
    const token = await tokenFor('bundle-other', 'viewer', ['read']);
    const res = await stack.api(`/api/v1/runs/${run.id}/bundle`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('capture-demo');
    expect((await stack.api(`/api/v1/runs/${randomUUID()}/bundle`)).status).toBe(404);
  });
});
