import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Client, Connection, WithStartWorkflowOperation, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, test, vi } from 'vitest';
import { acquireHostLock, type HostLockMirror } from '@drydock/activities';
import type { AcquireResult, LockLease, LockRequest } from '@drydock/core';
import { CENTRAL_QUEUE, ensureNamespace, ensureSearchAttributes, lockWorkflowId } from '@drydock/temporal';
import { HOST_LOCK_BUSY, HOST_LOCK_LOST, HOST_LOCK_TIMEOUT } from './host-lock-client.ts';
import { finishSignal, lockHoldingWorkflow } from './host-lock.test-workflows.ts';
import { acquireSignal, acquireUpdate, extendUpdate, forceReleaseUpdate, lockStateQuery, releaseSignal } from './host-lock.messages.ts';
import { hostLockWorkflow, type HostLockInput } from './host-lock.workflow.ts';

// The lock against a real Temporal dev server, in a namespace of its own so its worker can poll `central`.
// Requesting workflows take the lock through the real acquireHostLock activity; the Postgres mirror is a recorder.

const namespace = `wf-lock-${randomBytes(4).toString('hex')}`;
let native: NativeConnection;
let connection: Connection;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const mirrors: HostLockMirror[] = [];
const waitingRuns: string[] = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  await ensureNamespace(connection, namespace, 1);
  await ensureSearchAttributes(connection, namespace);
  client = new Client({ connection, namespace });
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  worker = await Worker.create({
    connection: native,
    namespace,
    taskQueue: CENTRAL_QUEUE,
    workflowsPath: createRequire(import.meta.url).resolve('./host-lock.test-workflows.ts'),
    activities: {
      acquireHostLock,
      async recordHostLock(m: HostLockMirror) {
        if (m.hostId.startsWith('h-down-')) throw new Error('connection refused (Postgres is down)');
        mirrors.push(m);
      },
      async markRunWaitingForLock({ runId }: { runId: string }) {
        waitingRuns.push(runId);
      },
    },
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await native?.close();
});

function hostLock(options: Omit<HostLockInput, 'hostId'> = {}, prefix = 'h') {
  const hostId = `${prefix}-${randomBytes(4).toString('hex')}`;
  const handle = () => client.workflow.getHandle<typeof hostLockWorkflow>(lockWorkflowId(hostId));
  const acquire = (leaseId: string, req: Partial<LockRequest> = {}): Promise<AcquireResult> =>
    client.workflow.executeUpdateWithStart(acquireUpdate, {
      args: [{ leaseId, type: 'execution', priority: 0, ttlSeconds: 60, maxExtensions: 3, reason: `test ${leaseId}`, holder: { kind: 'user', id: leaseId, name: leaseId }, ...req }],
      startWorkflowOperation: new WithStartWorkflowOperation(hostLockWorkflow, {
        workflowId: lockWorkflowId(hostId),
        taskQueue: CENTRAL_QUEUE,
        args: [{ hostId, ...options }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
  const state = () => handle().query(lockStateQuery);
  const holderAndQueue = async () => {
    const s = await state();
    return { holder: s.holder?.leaseId ?? null, queue: s.queue.map((l) => l.leaseId) };
  };
  const release = (leaseId: string) => handle().signal(releaseSignal, { leaseId });
  const extend = (leaseId: string) => handle().executeUpdate(extendUpdate, { args: [{ leaseId }] });
  const forceRelease = (reason: string) => handle().executeUpdate(forceReleaseUpdate, { args: [{ by: 'admin@drydock.local', reason }] });
  const holdFor = (name: string, extra: Partial<Parameters<typeof lockHoldingWorkflow>[0]> = {}) =>
    client.workflow.start(lockHoldingWorkflow, { taskQueue: CENTRAL_QUEUE, workflowId: `holder/${hostId}/${name}`, args: [{ hostId, name, ...extra }] });
  return { hostId, handle, acquire, state, holderAndQueue, release, extend, forceRelease, holdFor };
}

const until = <T>(check: () => Promise<T>, timeout = 10_000) => vi.waitFor(check, { timeout, interval: 100 });

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  const cause = err instanceof WorkflowFailedError || err instanceof WorkflowUpdateFailedError ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) throw new Error(`expected an application failure, got ${String(err)}`);
  return cause;
}

describe('hostLockWorkflow', () => {
  test('one holder at a time; waiters are granted emergency first, then by priority, then by arrival', async () => {
    const lock = hostLock();
    expect(await lock.acquire('a')).toMatchObject({ status: 'granted', lease: { leaseId: 'a' } });
    expect(await lock.acquire('b')).toMatchObject({ status: 'queued', position: 1, holder: { leaseId: 'a' } });
    await lock.acquire('c', { priority: 5 });
    await lock.acquire('d', { type: 'emergency' });
    expect(await lock.acquire('e', { priority: 5 })).toMatchObject({ status: 'queued', position: 3 });
    expect(await lock.holderAndQueue()).toEqual({ holder: 'a', queue: ['d', 'c', 'e', 'b'] });
    // Asking again with the same lease id is the same request.
    expect(await lock.acquire('c', { priority: 5 })).toMatchObject({ status: 'queued', position: 2 });

    const granted: string[] = [];
    for (const leaseId of ['a', 'd', 'c', 'e']) {
      await lock.release(leaseId);
      await until(async () => expect((await lock.state()).holder?.leaseId).not.toBe(leaseId));
      granted.push((await lock.state()).holder!.leaseId);
    }
    expect(granted).toEqual(['d', 'c', 'e', 'b']);
    const last = mirrors.filter((m) => m.hostId === lock.hostId).at(-1);
    expect(last?.holder?.leaseId).toBe('b');
    expect(last?.queue).toEqual([]);
  });

  test('a lease nobody releases expires on its own after its TTL, and the next waiter gets the lock', async () => {
    const lock = hostLock();
    const granted = await lock.acquire('forgotten', { ttlSeconds: 2 });
    expect(granted.status).toBe('granted');
    const lease = (granted as { lease: LockLease }).lease;
    expect(Date.parse(lease.expiresAt!) - Date.parse(lease.acquiredAt!)).toBe(2_000);
    await lock.acquire('next');
    expect(await lock.holderAndQueue()).toEqual({ holder: 'forgotten', queue: ['next'] });
    await until(async () => expect(await lock.holderAndQueue()).toEqual({ holder: 'next', queue: [] }), 8_000);
    // The expired lease cannot be extended or brought back.
    expect((await failureOf(lock.extend('forgotten'))).type).toBe('NotLockHolder');
    expect(await lock.acquire('forgotten')).toEqual({ status: 'ended' });
  });

  test('a lease extends by its TTL up to its maximum count, and only its holder extends it', async () => {
    const lock = hostLock();
    const first = (await lock.acquire('long-job', { ttlSeconds: 30, maxExtensions: 2 })) as { lease: LockLease };
    const once = await lock.extend('long-job');
    const twice = await lock.extend('long-job');
    expect(Date.parse(once.expiresAt!) - Date.parse(first.lease.expiresAt!)).toBe(30_000);
    expect(Date.parse(twice.expiresAt!) - Date.parse(first.lease.expiresAt!)).toBe(60_000);
    expect(twice.extensions).toBe(2);

    const limit = await failureOf(lock.extend('long-job'));
    expect(limit.type).toBe('ExtensionLimit');
    expect(limit.message).toContain('already extended 2 times');
    await lock.acquire('other');
    const stranger = await failureOf(lock.extend('other'));
    expect(stranger.type).toBe('NotLockHolder');
    expect(stranger.message).toContain('held by lease long-job');
  });

  test('release is idempotent: a repeated, stale or unknown lease id changes nothing', async () => {
    const lock = hostLock();
    await lock.acquire('first');
    await lock.acquire('second');
    await lock.acquire('third');
    await lock.release('first');
    await until(async () => expect(await lock.holderAndQueue()).toEqual({ holder: 'second', queue: ['third'] }));
    await lock.release('first');
    await lock.release('never-asked');
    await lock.acquire('fourth');
    expect(await lock.holderAndQueue()).toEqual({ holder: 'second', queue: ['third', 'fourth'] });
    // A late duplicate of a released request is not queued again.
    expect(await lock.acquire('first')).toEqual({ status: 'ended' });
    // Without queueing, a busy lock says who holds it.
    expect(await lock.acquire('impatient', { queue: false })).toMatchObject({ status: 'busy', holder: { leaseId: 'second' } });
    expect((await lock.state()).queue.map((l) => l.leaseId)).toEqual(['third', 'fourth']);
  });

  test('an admin force release revokes the holder with who and why, stops its work, and the next waiter gets the lock', async () => {
    const lock = hostLock();
    const holder = await lock.holdFor('stuck-run');
    await until(async () => expect((await lock.state()).holder?.holder.name).toBe('stuck-run'));
    await lock.acquire('waiting');
    const revoked = await lock.forceRelease('the run hangs on a dead NFS mount');
    expect(revoked?.holder.name).toBe('stuck-run');
    await until(async () => expect((await lock.holderAndQueue()).holder).toBe('waiting'));

    const lost = await failureOf(holder.result());
    expect(lost.type).toBe(HOST_LOCK_LOST);
    expect(lost.message).toBe(`the lock of host ${lock.hostId} was force-released by admin@drydock.local: the run hangs on a dead NFS mount; the work under it was stopped`);
    // A force release needs a reason, and releasing nothing is no error.
    expect((await failureOf(lock.forceRelease('  '))).type).toBe('InvalidLockRequest');
    await lock.release('waiting');
    await until(async () => expect((await lock.holderAndQueue()).holder).toBe(null));
    expect(await lock.forceRelease('nothing held')).toBeNull();
  });

  test('a cancelled waiter withdraws and leaves the holder and the other waiters alone', async () => {
    const lock = hostLock();
    await lock.acquire('maintenance', { type: 'maintenance', reason: 'kernel upgrade' });
    const waiter = await lock.holdFor('cancelled-run');
    await until(async () => expect((await lock.state()).queue).toHaveLength(1));
    await lock.acquire('behind');
    await until(async () => expect((await lock.state()).queue.map((l) => l.holder.name)).toEqual(['cancelled-run', 'behind']));
    await waiter.cancel();
    const err = await waiter.result().then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    await until(async () => expect(await lock.holderAndQueue()).toEqual({ holder: 'maintenance', queue: ['behind'] }));
  });

  test('two workflows serialize on a host; the lock is released also when the work fails', async () => {
    const lock = hostLock();
    const first = await lock.holdFor('first', { priority: 1 });
    await until(async () => expect((await lock.state()).holder?.holder.name).toBe('first'));
    const second = await lock.holdFor('second');
    await until(async () => expect((await lock.state()).queue.map((l) => l.holder.name)).toEqual(['second']));

    await first.signal(finishSignal, { fail: 'the script broke' });
    const failed = await failureOf(first.result());
    expect(failed.message).toBe('the script broke');
    await until(async () => expect((await lock.state()).holder?.holder.name).toBe('second'));
    await second.signal(finishSignal, {});
    expect(await second.result()).toMatchObject({ waited: true });
    await until(async () => expect(await lock.holderAndQueue()).toEqual({ holder: null, queue: [] }));
  });

  test('a waiter gives up after its wait timeout, naming who keeps the lock; queue: false fails at once', async () => {
    const lock = hostLock();
    await lock.acquire('maint', { type: 'maintenance', reason: 'disk replacement', holder: { kind: 'user', id: 'u1', name: 'ops@example.com' } });
    const patient = await lock.holdFor('patient', { waitTimeoutMs: 1_500 });
    const timeout = await failureOf(patient.result());
    expect(timeout.type).toBe(HOST_LOCK_TIMEOUT);
    expect(timeout.message).toBe(
      `gave up after waiting 2 s for the lock of host ${lock.hostId}, kept by the maintenance lock held by ops@example.com (disk replacement); start again once it is released`,
    );
    const hasty = await lock.holdFor('hasty', { queue: false });
    expect((await failureOf(hasty.result())).type).toBe(HOST_LOCK_BUSY);
    await until(async () => expect(await lock.holderAndQueue()).toEqual({ holder: 'maint', queue: [] }));
  });

  test('a request by signal-with-start queues like one by update, and a duplicate of it is the same request', async () => {
    const lock = hostLock();
    await lock.acquire('by-update');
    const request: LockRequest = { leaseId: 'by-signal', type: 'execution', priority: 0, ttlSeconds: 60, maxExtensions: 3, reason: 'fire and forget', holder: { kind: 'user', id: 'u', name: 'u' } };
    for (let i = 0; i < 2; i++) {
      await client.workflow.signalWithStart(hostLockWorkflow, {
        workflowId: lockWorkflowId(lock.hostId),
        taskQueue: CENTRAL_QUEUE,
        args: [{ hostId: lock.hostId }],
        signal: acquireSignal,
        signalArgs: [request],
      });
    }
    await until(async () => expect(await lock.holderAndQueue()).toEqual({ holder: 'by-update', queue: ['by-signal'] }));
  });

  test('a mirror that cannot be written holds up neither grants nor continue-as-new', async () => {
    const lock = hostLock({ changesPerRun: 4 }, 'h-down');
    await lock.acquire('first');
    const firstRun = (await lock.handle().describe()).runId;
    await lock.acquire('second');
    await lock.acquire('third');
    await lock.release('first');
    await until(async () => expect(await lock.holderAndQueue()).toEqual({ holder: 'second', queue: ['third'] }));
    await until(async () => expect((await lock.handle().describe()).runId).not.toBe(firstRun), 15_000);
    await lock.release('second');
    await until(async () => expect((await lock.holderAndQueue()).holder).toBe('third'));
    expect(mirrors.filter((m) => m.hostId === lock.hostId)).toEqual([]);
  });

  test('an idle lock completes, and the next request starts it again', async () => {
    const lock = hostLock({ idleLingerMs: 300 });
    await lock.acquire('once');
    const firstRun = (await lock.handle().describe()).runId;
    await lock.release('once');
    await lock.handle().result();
    expect((await lock.handle().describe()).status.name).toBe('COMPLETED');
    expect(await lock.acquire('again')).toMatchObject({ status: 'granted' });
    expect((await lock.handle().describe()).runId).not.toBe(firstRun);
  });

  test('continue-as-new carries the holder, the queue and the arrival order over', async () => {
    const lock = hostLock({ changesPerRun: 4 });
    await lock.acquire('keeper', { ttlSeconds: 120 });
    const firstRun = (await lock.handle().describe()).runId;
    for (let i = 0; i < 6; i++) {
      await lock.acquire(`w${i}`, { priority: i % 2 });
    }
    await until(async () => expect((await lock.handle().describe()).runId).not.toBe(firstRun));
    await until(async () => expect(await lock.holderAndQueue()).toEqual({ holder: 'keeper', queue: ['w1', 'w3', 'w5', 'w0', 'w2', 'w4'] }));
    await lock.release('keeper');
    await until(async () => expect((await lock.holderAndQueue()).holder).toBe('w1'));
  });
});
