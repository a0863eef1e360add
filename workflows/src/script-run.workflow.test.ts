import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { CentralActivities, ScriptForRun } from '@drydock/activities';
import type { AgentActivities, AgentScriptJob, RunOutcome, ScriptRunInput } from '@drydock/core';
import { SCRIPT_FAILED } from '@drydock/core';
import { agentQueue, WORKFLOWS_PATH } from '@drydock/temporal';
import { RUN_FAILED, scriptRunWorkflow } from './script-run.workflow.ts';

// The workflow against a real Temporal dev server, with fake activities passed in: no module mocking.

let native: NativeConnection;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
});
afterAll(async () => {
  await connection?.close();
  await native?.close();
});

const SCRIPT: ScriptForRun = {
  name: 'Fake',
  version: 'abc123',
  interpreter: 'sh',
  scriptPath: 'scripts/fake.sh',
  content: 'exit 0',
  commandTemplate: null,
  operation: null,
  timeoutSeconds: 30,
  retries: 1,
  retryDelaySeconds: 0,
  secretNames: [],
  successCriteria: { exit_codes: [0], output_contains: [], output_not_contains: [] },
  transport: 'agent',
};

/** A failed run's workflow fails in Temporal too, with RunFailed and the outcome as its details. */
async function failedOutcome(result: Promise<RunOutcome>): Promise<RunOutcome> {
  const err = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(RUN_FAILED);
  return (cause as ApplicationFailure).details?.[0] as RunOutcome;
}

/** An agent that never had to answer for a lost attempt: it knows nothing of any. */
const unknownAttempts: Pick<AgentActivities, 'recoverAttempt'> = {
  async recoverAttempt({ attempt }) {
    return { state: 'unknown', reason: `no record of attempt ${attempt}` };
  },
};

/** An attempt whose agent stops heartbeating, as when Temporal is away: it ends only when its worker shuts down. */
async function silentAttempt(): Promise<never> {
  await Context.current().cancelled;
  throw new Error('unreachable');
}

function harness(agentActivities: Partial<AgentActivities> | undefined, script: Partial<ScriptForRun> | Error = {}, heartbeatTimeoutMs = 5_000) {
  const agent = agentActivities ? { ...unknownAttempts, ...agentActivities } : undefined;
  const id = randomBytes(4).toString('hex');
  const recorded: { started: number; finished: RunOutcome[] } = { started: 0, finished: [] };
  // Only what a run on an agent host calls: other central activities are not registered, so a stray call fails the test.
  const central: Pick<CentralActivities, 'beginRun' | 'recordRunFinished'> = {
    async beginRun() {
      if (script instanceof Error) throw ApplicationFailure.nonRetryable(script.message, 'NotFound');
      recorded.started++;
      return { ...SCRIPT, ...script };
    },
    async recordRunFinished({ outcome }) {
      recorded.finished.push(outcome);
    },
  };
  const input: ScriptRunInput = {
    runId: `00000000-0000-7000-8000-${id.padStart(12, '0')}`,
    teamId: 'default',
    source: 'script',
    scriptId: 'fake',
    version: 'abc123',
    hostId: `h-${id}`,
    params: {},
    initiator: { id: 'u', name: 'tester' },
    offlineTimeoutMs: 1_500,
    heartbeatTimeoutMs,
  };
  const taskQueue = `wf-test-${id}`;
  const run = async <T>(body: () => Promise<T>): Promise<T> => {
    const workers = [
      await Worker.create({ connection: native, taskQueue, workflowsPath: WORKFLOWS_PATH, activities: central }),
      ...(agent
        ? [
            await Worker.create({
              connection: native,
              taskQueue: agentQueue(input.hostId),
              activities: agent,
              maxHeartbeatThrottleInterval: '200ms',
              shutdownGraceTime: '100ms',
            }),
          ]
        : []),
    ];
    const running = body();
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    await Promise.all(workers.map((w) => w.runUntil(settled)));
    return running;
  };
  const start = () => client.workflow.start(scriptRunWorkflow, { taskQueue, workflowId: `run/${input.runId}`, args: [input] });
  return { input, recorded, run, start };
}

const failure = (message: string, attempt: number) =>
  ApplicationFailure.create({ type: SCRIPT_FAILED, message, details: [{ exitCode: 7, durationMs: 5, stderrTail: 'boom on stderr', timedOut: false, attempt }] });

describe('scriptRunWorkflow', () => {
  test('retries a failed attempt as the manifest allows and records the attempt that succeeded', async () => {
    const jobs: AgentScriptJob[] = [];
    const h = harness({
      async runScript(job) {
        jobs.push(job);
        const attempt = job.attempt!;
        if (attempt === 1) throw failure('exited with code 7', attempt);
        return { attempt, exitCode: 0, durationMs: 5, stderrTail: '' };
      },
    });
    const outcome = await h.run(async () => (await h.start()).result());
    expect(outcome).toEqual({ status: 'succeeded', exitCode: 0, error: null, attempts: 2, result: null });
    expect(h.recorded).toEqual({ started: 1, finished: [outcome] });
    expect(jobs[0]).toMatchObject({ runId: h.input.runId, interpreter: 'sh', content: 'exit 0', timeoutSeconds: 30 });
    // The workflow numbers the attempts; each is a separate activity that Temporal does not retry.
    expect(jobs.map((j) => j.attempt)).toEqual([1, 2]);
  });

  test('fails with the exit code and stderr tail when every attempt fails', async () => {
    const h = harness({
      async runScript(job) {
        throw failure('exited with code 7', job.attempt!);
      },
    });
    const outcome = await h.run(async () => failedOutcome((await h.start()).result()));
    expect(outcome).toEqual({ status: 'failed', exitCode: 7, error: 'exited with code 7\nboom on stderr', attempts: 2, result: null });
    expect(h.recorded.finished).toEqual([outcome]);
  });

  test('fails as offline when no agent polls the host queue within the bound', async () => {
    const h = harness(undefined);
    const outcome = await h.run(async () => failedOutcome((await h.start()).result()));
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe(`host ${h.input.hostId} is offline: no agent picked up the run`);
    expect(h.recorded.finished).toEqual([outcome]);
  });

  test('records a run whose script vanished from the catalog as failed, instead of leaving it queued', async () => {
    const h = harness(undefined, new Error('script fake was not found'));
    const outcome = await h.run(async () => failedOutcome((await h.start()).result()));
    expect(outcome).toMatchObject({ status: 'failed', error: 'script fake was not found' });
    expect(h.recorded).toEqual({ started: 0, finished: [outcome] });
  });

  test('a cancelled run waits for the agent to stop, is recorded as cancelled, and ends cancelled in Temporal', async () => {
    let agentSawCancel = false;
    let startedResolve: () => void = () => {};
    const agentStarted = new Promise<void>((r) => (startedResolve = r));
    const h = harness({
      async runScript() {
        const ctx = Context.current();
        startedResolve();
        const beat = setInterval(() => ctx.heartbeat(), 100);
        try {
          await ctx.cancelled;
        } catch (err) {
          agentSawCancel = err instanceof CancelledFailure;
          throw err;
        } finally {
          clearInterval(beat);
        }
        throw new Error('unreachable');
      },
    });
    const error = await h.run(async () => {
      const handle = await h.start();
      await agentStarted;
      await handle.cancel();
      return handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(agentSawCancel).toBe(true);
    expect(h.recorded.finished).toEqual([{ status: 'cancelled', exitCode: null, error: 'cancelled by request', attempts: 0 }]);
  });

  test('an attempt Temporal lost sight of is asked about, and the host\'s answer is the run\'s outcome', async () => {
    const asked: { runId: string; attempt: number }[] = [];
    let runs = 0;
    const h = harness(
      {
        async runScript() {
          runs++;
          return silentAttempt();
        },
        async recoverAttempt(question) {
          asked.push(question);
          return { state: 'succeeded', result: { attempt: question.attempt, exitCode: 0, durationMs: 8_000, stderrTail: '' } };
        },
      },
      {},
      1_500,
    );
    const outcome = await h.run(async () => (await h.start()).result());
    expect(outcome).toEqual({ status: 'succeeded', exitCode: 0, error: null, attempts: 1, result: null });
    expect(asked).toEqual([{ runId: h.input.runId, attempt: 1 }]);
    // The script ran once: no second attempt was started before the host was asked.
    expect(runs).toBe(1);
  });

  test('a failure the host reports after the loss is the run\'s failure, retried as the manifest allows', async () => {
    const jobs: number[] = [];
    const h = harness(
      {
        async runScript(job) {
          jobs.push(job.attempt!);
          if (job.attempt === 1) return silentAttempt();
          return { attempt: job.attempt!, exitCode: 0, durationMs: 5, stderrTail: '' };
        },
        async recoverAttempt({ attempt }) {
          return {
            state: 'failed',
            failure: { type: SCRIPT_FAILED, message: 'exited with code 3', nonRetryable: false, details: { exitCode: 3, durationMs: 5, stderrTail: '', timedOut: false, attempt } },
          };
        },
      },
      { retries: 1 },
      1_500,
    );
    const outcome = await h.run(async () => (await h.start()).result());
    expect(outcome).toEqual({ status: 'succeeded', exitCode: 0, error: null, attempts: 2, result: null });
    expect(jobs).toEqual([1, 2]);
  });

  test('when the host knows nothing of the lost attempt (its agent died), the run fails as a lost host', async () => {
    const h = harness({ runScript: silentAttempt }, { retries: 0 }, 1_500);
    const outcome = await h.run(async () => failedOutcome((await h.start()).result()));
    expect(outcome).toMatchObject({ status: 'failed', error: `host ${h.input.hostId} stopped responding mid-run (no heartbeat from its agent or SSH session)` });
  });
});
