import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BulkHostView, BulkPreview, BulkView } from '@drydock/core/bulk';
import type { LogLineView } from '@drydock/core';
import { type AgentFleet, startAgentFleet } from '../support/agent-fleet.ts';
import { eventually, readSse, startTestStack, type TestStack } from '../support/stack.ts';

// Bulk executions end to end: a real stack, and one real process serving 24 agent hosts on their own queues.

let stack: TestStack;
let fleet: AgentFleet;
let catalog: string;
const FLEET = 24;

const manifests: Record<string, string> = {
  // Fails on the hosts whose id ends in a listed suffix; waits a while first so hosts overlap.
  'bulk-probe.yaml': `id: bulk-probe
name: Probe a host
script: scripts/bulk-probe.sh
interpreter: sh
host_tags: [fleet]
timeout: 120
parameters:
  - name: seconds
    type: number
    default: 0.5
  - name: fail_on
    type: string
    default: none
`,
};
const scripts: Record<string, string> = {
  'bulk-probe.sh': `echo "probing $DRYDOCK_HOST_ID"
sleep "$DRYDOCK_PARAM_SECONDS"
case ",$DRYDOCK_PARAM_FAIL_ON," in *",\${DRYDOCK_HOST_ID##*-},"*) echo "broken on purpose" >&2; exit 7;; esac
echo ok
`,
};

beforeAll(async () => {
  catalog = await mkdtemp(join(tmpdir(), 'drydock-bulk-catalog-'));
  await mkdir(join(catalog, 'manifests'));
  await mkdir(join(catalog, 'scripts'));
  for (const [name, text] of Object.entries(manifests)) await writeFile(join(catalog, 'manifests', name), text);
  for (const [name, text] of Object.entries(scripts)) await writeFile(join(catalog, 'scripts', name), text);
  // Five hosts a workflow run: every execution here continues as new several times, pauses and kills included.
  stack = await startTestStack({ env: { DRYDOCK_CATALOG_DIR: catalog, DRYDOCK_BULK_HOSTS_PER_RUN: '5' } });
  fleet = await startAgentFleet(stack, {
    count: FLEET,
    tags: (i) => (i % 2 === 0 ? ['fleet', 'even'] : ['fleet']),
    environment: (i) => (i <= 12 ? 'staging' : 'dev'),
    group: (i) => `g${1 + (i % 3)}`,
  });
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await fleet?.remove();
  await stack?.teardown();
  if (catalog) await rm(catalog, { recursive: true, force: true });
});

async function start(body: Record<string, unknown>): Promise<BulkView> {
  const res = await stack.api('/api/v1/bulk', { method: 'POST', json: { scriptId: 'bulk-probe', ...body } });
  if (res.status !== 201) throw new Error(`bulk start: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as BulkView;
}
const view = async (id: string) => (await (await stack.api(`/api/v1/bulk/${id}`)).json()) as BulkView;
const hostsOf = async (id: string) => ((await (await stack.api(`/api/v1/bulk/${id}/hosts`)).json()) as { hosts: BulkHostView[] }).hosts;

const waitFor = (id: string, until: (b: BulkView) => boolean, timeoutMs = 90_000) => eventually(() => view(id), until, { timeout: timeoutMs, message: `bulk ${id}` });
const final = (b: BulkView) => ['succeeded', 'failed', 'cancelled'].includes(b.status);

/** The most hosts running at one moment, from the run rows' start and end times. */
function peakParallel(hosts: BulkHostView[]): number {
  const edges = hosts.filter((h) => h.startedAt && h.finishedAt).flatMap((h) => [[Date.parse(h.startedAt!), 1] as const, [Date.parse(h.finishedAt!), -1] as const]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (now += d));
  return peak;
}

describe('choosing hosts', () => {
  test('the preview says how many hosts, which are left out and why, and the waves', async () => {
    const res = await stack.api('/api/v1/bulk/preview', {
      method: 'POST',
      json: { scriptId: 'bulk-probe', selector: { environment: 'staging', tags: ['even'] }, options: { canary: 1, batchSize: '50%' } },
    });
    expect(res.status).toBe(200);
    const preview = (await res.json()) as BulkPreview;
    expect(preview.hosts.map((h) => h.id)).toEqual(['fleet-002', 'fleet-004', 'fleet-006', 'fleet-008', 'fleet-010', 'fleet-012']);
    expect(preview.waves).toEqual([1, 3, 2]);

    const named = (await (await stack.api('/api/v1/bulk/preview', { method: 'POST', json: { scriptId: 'bulk-probe', selector: { hostIds: ['fleet-001', 'local', 'nope'] } } })).json()) as BulkPreview;
    expect(named.hosts.map((h) => h.id)).toEqual(['fleet-001']);
    expect(named.excluded).toEqual([
      { id: 'nope', reason: 'not a registered host' },
      { id: 'local', reason: 'host local lacks the tags this script needs: fleet' },
    ]);
  });

  test('nothing starts when no selected host can run it, or the parameters are wrong', async () => {
    const none = await stack.api('/api/v1/bulk', { method: 'POST', json: { scriptId: 'bulk-probe', selector: { hostIds: ['local'] } } });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('no selected host can run bulk-probe');
    const bad = await stack.api('/api/v1/bulk', { method: 'POST', json: { scriptId: 'bulk-probe', selector: { group: 'g1' }, params: { seconds: 'soon' } } });
    expect(bad.status).toBe(400);
    expect(((await (await stack.api('/api/v1/bulk')).json()) as { executions: BulkView[] }).executions).toEqual([]);
  });
});

describe('a bulk execution', () => {
  test('runs every host once, never more than maxParallel at a time, wave after wave, with a live grid', async () => {
    const bulk = await start({ selector: { tags: ['fleet'] }, params: { seconds: 1 }, options: { maxParallel: 4, canary: 2, batchSize: 10 } });
    expect(bulk).toMatchObject({ status: 'running', total: FLEET, waves: [2, 10, 10, 2] });
    const events = await readSse(`${stack.config.apiUrl}/api/v1/bulk/${bulk.id}/events`, { headers: stack.adminHeaders() }, 120_000);
    expect(events[0]!.event).toBe('snapshot');
    expect(events.at(-1)!.event).toBe('end');
    const seen = new Map<string, string>();
    for (const e of events.filter((e) => e.event !== 'end')) for (const h of (JSON.parse(e.data) as { hosts: BulkHostView[] }).hosts) seen.set(h.hostId, h.state);
    expect([...seen.values()].every((s) => s === 'succeeded')).toBe(true);
    expect(seen.size).toBe(FLEET);

    const done = await view(bulk.id);
    expect(done).toMatchObject({ status: 'succeeded', counts: { succeeded: FLEET, failed: 0, pending: 0, running: 0 }, etaMs: 0 });
    const hosts = await hostsOf(bulk.id);
    expect(peakParallel(hosts)).toBeLessThanOrEqual(4);
    expect(peakParallel(hosts)).toBeGreaterThan(1);
    // Rolling waves: no host of a wave starts before every host of the wave before it has finished.
    for (let w = 1; w < done.waves.length; w++) {
      const lastEnd = Math.max(...hosts.filter((h) => h.wave === w - 1).map((h) => Date.parse(h.finishedAt!)));
      const firstStart = Math.min(...hosts.filter((h) => h.wave === w).map((h) => Date.parse(h.startedAt!)));
      expect(firstStart).toBeGreaterThanOrEqual(lastEnd);
    }
    // 24 hosts, five a run: the execution continued as new, and its last run is not its first.
    const temporal = new Client({ connection: await Connection.connect({ address: stack.config.temporalAddress }), namespace: stack.config.TEMPORAL_NAMESPACE });
    const latest = await temporal.workflow.getHandle(done.workflowId).describe();
    expect(latest.runId).not.toBe(new URL(done.temporalUrl).pathname.split('/').at(-2));
    expect(latest.status.name).toBe('COMPLETED');
    await temporal.connection.close();
    const run = (await (await stack.api(`/api/v1/runs/${hosts[5]!.runId}/lines`)).json()) as { lines: LogLineView[] };
    expect(run.lines.map((l) => l.line)).toContain(`probing ${hosts[5]!.hostId}`);
    expect(run.lines.filter((l) => l.line.startsWith('attempt '))).toHaveLength(1);
  }, 150_000);

  test('stops starting hosts at the failure threshold; the rest are skipped; re-run takes the failed hosts only', async () => {
    const bulk = await start({ selector: { group: 'g2' }, params: { seconds: 0, fail_on: '001,004' }, options: { maxParallel: 1, failureThreshold: 2 } });
    const done = await waitFor(bulk.id, final);
    expect(done.status).toBe('failed');
    expect(done.stopReason).toBe('stopped starting hosts: 2 failed, reaching the failure threshold of 2');
    const hosts = await hostsOf(bulk.id);
    expect(hosts.map((h) => [h.hostId, h.state])).toEqual([
      ['fleet-001', 'failed'],
      ['fleet-004', 'failed'],
      ...hosts.slice(2).map((h) => [h.hostId, 'skipped']),
    ]);
    expect(hosts[0]).toMatchObject({ exitCode: 7 });
    expect(done.counts).toMatchObject({ failed: 2, skipped: hosts.length - 2, succeeded: 0 });

    const res = await stack.api(`/api/v1/bulk/${bulk.id}/rerun-failed`, { method: 'POST', json: { params: { fail_on: 'none' } } });
    expect(res.status).toBe(201);
    const again = (await res.json()) as BulkView;
    expect(again).toMatchObject({ rerunOf: bulk.id, total: 2, selector: { hostIds: ['fleet-001', 'fleet-004'] } });
    expect(await waitFor(again.id, final)).toMatchObject({ status: 'succeeded', counts: { succeeded: 2 } });
  }, 120_000);

  test('pause holds new hosts back while running ones finish; resume goes on', async () => {
    const bulk = await start({ selector: { environment: 'dev' }, params: { seconds: 1.5 }, options: { maxParallel: 2 } });
    await waitFor(bulk.id, (b) => b.counts.running > 0);
    expect((await stack.api(`/api/v1/bulk/${bulk.id}/pause`, { method: 'POST' })).status).toBe(202);
    const paused = await waitFor(bulk.id, (b) => b.status === 'paused' && b.counts.running === 0, 30_000);
    const started = (await hostsOf(bulk.id)).filter((h) => h.startedAt !== null).length;
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await hostsOf(bulk.id)).filter((h) => h.startedAt !== null).length).toBe(started);
    expect(paused.counts.pending).toBe(12 - started);
    expect((await stack.api(`/api/v1/bulk/${bulk.id}/resume`, { method: 'POST' })).status).toBe(202);
    expect(await waitFor(bulk.id, final, 60_000)).toMatchObject({ status: 'succeeded', counts: { succeeded: 12 } });
  }, 120_000);

  test('cancel stops running hosts and starts no more', async () => {
    const bulk = await start({ selector: { tags: ['even'] }, params: { seconds: 60 }, options: { maxParallel: 3 } });
    await waitFor(bulk.id, (b) => b.counts.running === 3);
    expect((await stack.api(`/api/v1/bulk/${bulk.id}/cancel`, { method: 'POST' })).status).toBe(202);
    const done = await waitFor(bulk.id, final, 60_000);
    expect(done).toMatchObject({ status: 'cancelled', counts: { cancelled: 12, running: 0, pending: 0 } });
    expect((await stack.api(`/api/v1/bulk/${bulk.id}/pause`, { method: 'POST' })).status).toBe(409);
  }, 120_000);
});

describe('faults', () => {
  test('kill -9 of the central worker mid-execution: every host runs exactly once and the counts are right', async () => {
    const bulk = await start({ selector: { tags: ['fleet'] }, params: { seconds: 1, fail_on: '003' }, options: { maxParallel: 6 } });
    await waitFor(bulk.id, (b) => b.counts.succeeded + b.counts.failed >= 3);
    await stack.processes.worker!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_500));
    await stack.processes.worker!.start();
    const done = await waitFor(bulk.id, final, 120_000);
    expect(done).toMatchObject({ status: 'failed', counts: { succeeded: FLEET - 1, failed: 1 } });
    for (const h of await hostsOf(bulk.id)) {
      const { lines } = (await (await stack.api(`/api/v1/runs/${h.runId}/lines`)).json()) as { lines: LogLineView[] };
      expect(lines.filter((l) => l.line.startsWith('probing ')), h.hostId).toHaveLength(1);
    }
  }, 180_000);

  test('kill -9 of the API mid-execution: the execution goes on without it, and the grid is whole when it is back', async () => {
    const bulk = await start({ selector: { tags: ['fleet'] }, params: { seconds: 0.5 }, options: { maxParallel: 4 } });
    await waitFor(bulk.id, (b) => b.counts.succeeded >= 2);
    await stack.processes.api!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    await stack.processes.api!.start();
    const done = await waitFor(bulk.id, final, 120_000);
    expect(done).toMatchObject({ status: 'succeeded', counts: { succeeded: FLEET } });
    const events = await readSse(`${stack.config.apiUrl}/api/v1/bulk/${bulk.id}/events`, { headers: stack.adminHeaders() });
    expect(events.map((e) => e.event)).toEqual(['snapshot', 'end']);
    expect((JSON.parse(events[0]!.data) as { hosts: BulkHostView[] }).hosts.filter((h) => h.state === 'succeeded')).toHaveLength(FLEET);
  }, 180_000);

  test('kill -9 of the agents mid-execution: killed attempts are retried as the options allow once the agents are back, and nothing runs twice otherwise', async () => {
    const crash = await startAgentFleet(stack, { count: 6, prefix: 'crash', tags: ['fleet', 'crash'] });
    try {
      const bulk = await start({ selector: { tags: ['crash'] }, params: { seconds: 4 }, options: { maxParallel: 6, retries: 1 } });
      // Five hosts a workflow run here: five run together, the sixth after the continue-as-new.
      await waitFor(bulk.id, (b) => b.counts.running === 5);
      await new Promise((r) => setTimeout(r, 1_000));
      const killed = new Set((await hostsOf(bulk.id)).filter((h) => h.state === 'running').map((h) => h.hostId));
      expect(killed.size).toBe(5);
      await crash.kill();
      const back = await startAgentFleet(stack, { count: 6, prefix: 'crash', tags: ['fleet', 'crash'], dir: crash.dir });
      try {
        const done = await waitFor(bulk.id, final, 120_000);
        expect(done).toMatchObject({ status: 'succeeded', counts: { succeeded: 6 } });
        for (const h of await hostsOf(bulk.id)) {
          const run = (await (await stack.api(`/api/v1/runs/${h.runId}`)).json()) as { attempts: number };
          expect(run.attempts, h.hostId).toBe(killed.has(h.hostId) ? 2 : 1);
          const { lines } = (await (await stack.api(`/api/v1/runs/${h.runId}/lines`)).json()) as { lines: LogLineView[] };
          expect(lines.filter((l) => l.line === 'ok'), h.hostId).toHaveLength(1);
        }
      } finally {
        await back.stop();
      }
    } finally {
      await crash.remove();
    }
  }, 180_000);
});
