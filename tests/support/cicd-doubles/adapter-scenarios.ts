import { expect } from 'vitest';
import { CicdError, type CicdBuildHandle, type CicdProvider } from '@drydock/activities/cicd';
import type { DoubleServer } from './double-server.ts';
import type { ScriptedRun } from './scripted-run.ts';

// What every CI/CD adapter test asks of its adapter in the same words, whichever double is behind it.

/** The CicdError a call fails with; any other outcome fails the test. */
export async function cicdFailure(promise: Promise<unknown>): Promise<CicdError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CicdError) return err;
    throw err;
  }
  throw new Error('expected a CicdError');
}

/** Reads the log from `cursor` until it is complete, moving the build on by `step` between reads. */
export async function readLogsToEnd(provider: CicdProvider, handle: CicdBuildHandle, step: () => void, cursor?: string): Promise<{ text: string; cursor: string; reads: number }> {
  let text = '';
  let at = cursor;
  for (let reads = 1; reads <= 100; reads++) {
    const chunk = await provider.logs(handle, at);
    text += chunk.text;
    at = chunk.cursor;
    if (chunk.complete) return { text, cursor: at, reads };
    step();
  }
  throw new Error('the log never completed');
}

/** Each scripted line appears exactly once in the log (`shown` turns a log line back into the scripted one). */
export function expectEachLineOnce(text: string, lines: string[], shown: (logLine: string, line: string) => boolean = (l, line) => l === line): void {
  const logLines = text.split('\n');
  for (const line of lines) expect(logLines.filter((l) => shown(l, line)), line).toHaveLength(1);
}

/**
 * The provider goes away mid-build (connection refused, then a proxy's 502) while the build moves on, and comes
 * back: each failure is retryable, and the log read on from the cursor taken before loses and repeats nothing.
 */
export async function expectOutageSurvived(options: { provider: CicdProvider; handle: CicdBuildHandle; server: DoubleServer; run: ScriptedRun; lines: string[]; shown?: (logLine: string, line: string) => boolean }): Promise<void> {
  const { provider, handle, server, run } = options;
  run.advanceUntil((r) => r.stages[0]!.state === 'success');
  const before = await provider.logs(handle);
  await server.down('refuse');
  run.advanceUntil((r) => r.stages[1]!.state === 'success');
  expect(await cicdFailure(provider.status(handle))).toMatchObject({ reason: 'unreachable', retryable: true });
  expect(await cicdFailure(provider.logs(handle, before.cursor))).toMatchObject({ reason: 'unreachable', retryable: true });
  await server.up();
  await server.down('502');
  expect(await cicdFailure(provider.logs(handle, before.cursor))).toMatchObject({ reason: 'unavailable', retryable: true });
  await server.up();
  run.finish();
  const after = await provider.logs(handle, before.cursor);
  expect(after.complete).toBe(true);
  expectEachLineOnce(before.text + after.text, options.lines, options.shown);
  expect((await provider.status(handle)).state).toBe('succeeded');
}
