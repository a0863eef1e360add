import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunView } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Host operations through the whole system: catalog → workflow → agent → structured result on the run.

let stack: TestStack;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(join(tmpdir(), 'drydock-ops-'));
});
afterAll(async () => {
  await stack?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startAction(actionId: string, params: Record<string, unknown>): Promise<RunView> {
  const res = await stack.api('/api/v1/runs', { method: 'POST', json: { actionId, hostId: 'local', params } });
  if (res.status !== 201) throw new Error(`start ${actionId}: ${res.status} ${await res.text()}`);
  return (await res.json()) as RunView;
}

describe('host operations', () => {
  test('a file validation from the catalog reports each check, and fails naming the checks that failed', async () => {
    const file = join(dir, 'backup.tar');
    await writeFile(file, Buffer.alloc(2 * 1024 * 1024));
    const ok = await stack.waitForRun((await stack.startRun('check-file', { path: file, min_mb: 1, age: '1h' })).id);
    expect(ok.status).toBe('succeeded');
    expect(ok.result?.ok).toBe(true);
    expect(ok.result?.checks.map((c) => c.name)).toEqual(['exists', 'readable', 'size_gt_mb:1', 'modified_within:1h']);

    await utimes(file, new Date('2020-01-01'), new Date('2020-01-01'));
    const stale = await stack.waitForRun((await stack.startRun('check-file', { path: file, min_mb: 5, age: '24h' })).id);
    expect(stale.status).toBe('failed');
    expect(stale.error).toMatch(/^checks failed: size_gt_mb:5, modified_within:24h/);
    expect(stale.result?.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['size_gt_mb:5', 'modified_within:24h']);
    expect((await stack.lines(stale.id)).some((l) => l.line.includes('modified_within:24h'))).toBe(true);
  });

  test('a database query action reads a scalar in range with a secret password that appears nowhere', async () => {
    const url = new URL(stack.databaseUrl);
    const created = await stack.api('/api/v1/actions', {
      method: 'POST',
      json: {
        id: 'count-runs',
        name: 'Count runs',
        operation: {
          type: 'database_query',
          engine: 'postgresql',
          connection: { host: url.hostname, port: Number(url.port || 5432), database: url.pathname.slice(1), user: decodeURIComponent(url.username), password_param: 'db_password' },
          query: 'select count(*) from runs where status = {{status}}',
          expect: { min: 1 },
        },
        parameters: [
          { name: 'status', type: 'enum', options: ['succeeded', 'failed'], default: 'succeeded' },
          { name: 'db_password', type: 'secret' },
        ],
      },
    });
    expect(created.status).toBe(201);
    const password = decodeURIComponent(url.password) || 'unused-with-trust-auth';
    const run = await stack.waitForRun((await startAction('count-runs', { status: 'succeeded', db_password: password })).id);
    expect(run.status).toBe('succeeded');
    expect(Number(run.result?.value)).toBeGreaterThanOrEqual(1);
    const log = (await stack.lines(run.id)).map((l) => l.line).join('\n');
    if (url.password) expect(log).not.toContain(decodeURIComponent(url.password));
  });

  test('an operation with an unknown placeholder or a bad check is refused field by field', async () => {
    const bad = await stack.api('/api/v1/actions', {
      method: 'POST',
      json: { id: 'bad-op', name: 'Bad', operation: { type: 'file_validation', path: '{{nope}}', checks: ['exists', 'size_gt_mb:x'] } },
    });
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as { error: { fields: Record<string, string[]> } };
    expect(Object.keys(error.fields).some((k) => k.startsWith('operation'))).toBe(true);
  });
});
