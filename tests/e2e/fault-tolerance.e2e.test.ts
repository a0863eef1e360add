import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LogLineView } from '@drydock/core';
import { startTestStack, type TestStack } from '../support/stack.ts';

/** Running, as opposed to gone or a zombie waiting for an init that may never reap it. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.teardown();
});

/** The log of one attempt, as a user reads it: every line once, in order, none missing. */
function expectWholeLog(lines: LogLineView[], ticks: number) {
  const attempt = lines.filter((l) => l.attempt === 1);
  expect(attempt.map((l) => l.seq)).toEqual(attempt.map((_, i) => i));
  const tickLines = attempt.filter((l) => l.line.startsWith('tick ')).map((l) => l.line);
  expect(tickLines).toEqual(Array.from({ length: ticks }, (_, i) => `tick ${i + 1}`));
  expect(attempt.at(-1)?.line).toMatch(/^exited with code 0 after/);
}

describe('kill -9 in the middle of a run', () => {
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

  test('the agent: the run fails with the reason within the heartbeat timeout, and the restarted agent ends the orphaned script', async () => {
    const run = await stack.startRun('sleep', { seconds: 30 });
    const child = Number((await stack.waitForLine(run.id, /^child pid \d+$/)).line.split(' ').at(-1));
    await stack.waitForLine(run.id, /^tick 1$/);
    await stack.processes.agent!.kill('SIGKILL');
    // The script outlives the agent that started it...
    expect(alive(child)).toBe(true);
    await stack.processes.agent!.start();
    // ...until the agent's next start ends the process group it left behind.
    expect(alive(child)).toBe(false);

    // The heartbeat timeout (10 s in tests) notices the dead attempt; the manifest allows no retries.
    const final = await stack.waitForRun(run.id, undefined, 40_000);
    expect(final.status).toBe('failed');
    expect(final.error).toBe('host local stopped responding mid-run (no heartbeat from its agent or SSH session)');
  });
});
