import { ApplicationFailure, condition, defineSignal, setHandler } from '@temporalio/workflow';
import type { LockType } from '@drydock/core/host-lock';
import { withHostLock } from './host-lock-client.ts';

// The workflow bundle of host-lock.workflow.test.ts: the lock itself and a workflow that takes it.
export { hostLockWorkflow } from './host-lock.workflow.ts';

export const finishSignal = defineSignal<[{ fail?: string }]>('finish');

export interface LockHoldingInput {
  hostId: string;
  name: string;
  type?: LockType;
  priority?: number;
  ttlSeconds?: number;
  waitTimeoutMs?: number;
  queue?: boolean;
}

/** Takes a host's lock and holds it until told to finish (or to fail); reports whether it had to wait. */
export async function lockHoldingWorkflow(input: LockHoldingInput): Promise<{ waited: boolean; leaseId: string }> {
  let finish: { fail?: string } | null = null;
  setHandler(finishSignal, (f) => void (finish = f));
  let waited = false;
  return withHostLock(
    input.hostId,
    {
      type: input.type,
      priority: input.priority,
      ttlSeconds: input.ttlSeconds ?? 60,
      waitTimeoutMs: input.waitTimeoutMs,
      queue: input.queue,
      reason: `test ${input.name}`,
      holder: { kind: 'run', id: input.name, name: input.name },
      onWaiting: async () => void (waited = true),
    },
    async (lock) => {
      await condition(() => finish !== null);
      const { fail } = finish!;
      if (fail) throw ApplicationFailure.nonRetryable(fail, 'TestFailure');
      return { waited, leaseId: lock.leaseId };
    },
  );
}
