import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { expect, test } from 'vitest';

// Histories recorded with the lock workflow as it was before its state became the HostLock class (decision 024):
// three runs of one lock (queue, priorities, emergency, busy, extend and its limit, refused requests, release,
// withdrawal, force release, a workflow requester, the acquire signal, TTL expiry, continue-as-new, idle completion)
// and the requesting workflow's own. Lock workflows running when a deploy lands must replay on the new code.
const recorded = JSON.parse(readFileSync(new URL('./fixtures/host-lock-histories.json', import.meta.url), 'utf8')) as { workflowId: string; history: string }[];

test('lock workflows recorded before the lock state became a class replay on the code as it is', async () => {
  const histories = recorded.map(({ workflowId, history }) => ({ workflowId, history: proto.temporal.api.history.v1.History.decode(Buffer.from(history, 'base64')) }));
  const results = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: createRequire(import.meta.url).resolve('./host-lock.test-workflows.ts') }, histories)) {
    results.push({ workflowId: result.workflowId, error: result.error ? String(result.error) : null });
  }
  expect(results).toHaveLength(4);
  expect(results.filter((r) => r.error)).toEqual([]);
});
