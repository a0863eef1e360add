import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BulkHostView, BulkView } from '@drydock/core/bulk';
import { type AgentFleet, startAgentFleet } from '../support/agent-fleet.ts';
import { eventually, startTestStack, type TestStack } from '../support/stack.ts';

// The fault case at its size: a 200-host execution survives kill -9 of the central worker and of the
// API, in turn, with every host run exactly once and the counts right.

const HOSTS = 200;
let stack: TestStack;
let fleet: AgentFleet;

beforeAll(async () => {
  // 60 hosts a workflow run: the execution also crosses continue-as-new boundaries while processes die. The
  // production offline bound (60 s), not the tests' 4 s: 200 hosts polling from one process on a loaded CI machine
  // can take longer than 4 s to pick a job up, which is not what this test is about.
  stack = await startTestStack({ env: { DRYDOCK_BULK_HOSTS_PER_RUN: '60', DRYDOCK_AGENT_OFFLINE_TIMEOUT: '60' } });
  fleet = await startAgentFleet(stack, { count: HOSTS, prefix: 'scale', tags: ['scale'] });
}, 240_000);

afterAll(async () => {
  await fleet?.stop();
  await fleet?.remove();
  await stack?.teardown();
});

const view = async (id: string) => (await (await stack.api(`/api/v1/bulk/${id}`)).json()) as BulkView;

// The API is killed mid-test: an answer that does not come is "not yet".
const waitFor = (id: string, until: (b: BulkView) => boolean, timeoutMs: number) =>
  eventually(() => view(id).catch(() => null), (b) => b !== null && until(b), { timeout: timeoutMs, interval: 250, message: `bulk ${id}` }).then((b) => b as BulkView);

test('kill -9 of the central worker, then of the API, during a 200-host execution: nothing lost, nothing run twice', async () => {
  const res = await stack.api('/api/v1/bulk', { method: 'POST', json: { scriptId: 'true', selector: { tags: ['scale'] }, options: { maxParallel: 40 } } });
  expect(res.status).toBe(201);
  const bulk = (await res.json()) as BulkView;
  expect(bulk.total).toBe(HOSTS);

  await waitFor(bulk.id, (b) => b.counts.succeeded >= 30, 120_000);
  await stack.processes.worker!.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1_000));
  await stack.processes.worker!.start();

  await waitFor(bulk.id, (b) => b.counts.succeeded >= 110, 180_000);
  await stack.processes.api!.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1_000));
  await stack.processes.api!.start();

  const done = await waitFor(bulk.id, (b) => ['succeeded', 'failed', 'cancelled'].includes(b.status), 240_000);
  const { hosts } = (await (await stack.api(`/api/v1/bulk/${bulk.id}/hosts`)).json()) as { hosts: BulkHostView[] };
  const unwell = hosts.filter((h) => h.state !== 'succeeded').map((h) => `${h.hostId} ${h.state}: ${h.error}`);
  expect(unwell, unwell.slice(0, 5).join('\n')).toEqual([]);
  expect(done).toMatchObject({ status: 'succeeded', counts: { succeeded: HOSTS, failed: 0, pending: 0, running: 0, skipped: 0 } });
  expect(new Set(hosts.map((h) => h.hostId)).size).toBe(HOSTS);
  // One attempt each: no host ran twice, though the worker that started many of them died.
  const { runs } = (await (await stack.api(`/api/v1/runs?limit=200&script=true&status=succeeded`)).json()) as { runs: { id: string; attempts: number }[] };
  const ours = new Set(hosts.map((h) => h.runId));
  const attempts = runs.filter((r) => ours.has(r.id)).map((r) => r.attempts);
  expect(attempts).toHaveLength(HOSTS);
  expect(attempts.every((a) => a === 1)).toBe(true);
}, 600_000);
