import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { ensureNamespace } from '@drydock/temporal';

/** A real worker in a namespace of its own, running the workflows of one `*.test-workflows.ts` file. */
export interface SandboxWorker {
  client: Client;
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * Starts a worker on the test run's Temporal dev server that bundles `workflowsPath` (an absolute path) and runs
 * it in Temporal's workflow sandbox, for tests that check core code behaves the same there as outside.
 */
export async function startSandboxWorker(name: string, workflowsPath: string): Promise<SandboxWorker> {
  const namespace = `${name}-${randomBytes(4).toString('hex')}`;
  const taskQueue = `${name}-test`;
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  await ensureNamespace(connection, namespace, 1);
  const native = await NativeConnection.connect({ address: inject('temporalAddress') });
  const worker = await Worker.create({ connection: native, namespace, taskQueue, workflowsPath });
  const running = worker.run();
  return {
    client: new Client({ connection, namespace }),
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await native.close();
      await connection.close();
    },
  };
}
