import { createRequire } from 'node:module';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createCentralActivities } from '@drydock/activities';
import { createVaultClient } from '@drydock/activities/vault';
import { type Config, migrateToLatest, openDatabase, secretBoxFromConfig, untilDatabaseAnswers } from '@drydock/core';
import { dataConverterFromConfig } from './codec.ts';
import { CENTRAL_QUEUE } from './names.ts';
import { deliveryStarter } from './notification-delivery.ts';
import { ensureNotificationWatch } from './notification-watch.ts';

export const WORKFLOWS_PATH = createRequire(import.meta.url).resolve('@drydock/workflows');

export interface CentralWorker {
  run(): Promise<void>;
  shutdown(): void;
}

/** Workflows plus central activities on the `central` queue. Run as many of these as load needs. */
export async function createCentralWorker(config: Config, databaseUrl: string): Promise<CentralWorker> {
  const database = openDatabase(databaseUrl);
  await untilDatabaseAnswers(() => database.sql`select 1`, { where: new URL(databaseUrl).host, say: (line) => console.error(line) });
  await migrateToLatest(database.db);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const secrets = secretBoxFromConfig(config);
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: CENTRAL_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities: createCentralActivities({
      db: database.db,
      secrets,
      runSecrets: { db: database.db, secrets, vault: config.vault ? createVaultClient(config.vault) : undefined },
      dataDir: config.DRYDOCK_DATA_DIR,
      blobDir: config.blobDir,
      agentlessMaxConcurrentJobs: config.DRYDOCK_AGENTLESS_MAX_CONCURRENT_JOBS,
      notifications: {
        db: database.db,
        secrets,
        server: { policy: config.notifyTargets, timeoutMs: config.DRYDOCK_NOTIFY_TIMEOUT * 1000, smtp: config.smtp },
        links: { publicUrl: config.publicUrl, temporalUiUrl: config.temporalUiUrl, namespace: config.TEMPORAL_NAMESPACE },
        starter: deliveryStarter,
        hostSilenceMs: config.DRYDOCK_HOST_UNREACHABLE_AFTER * 1000,
      },
      captureLimits: { maxFileBytes: Math.floor(config.DRYDOCK_ARTIFACT_MAX_FILE_MB * 1024 * 1024), maxRunBytes: Math.floor(config.DRYDOCK_ARTIFACT_MAX_RUN_MB * 1024 * 1024) },
    }),
    dataConverter: dataConverterFromConfig(config),
    // Runs on SSH hosts are activities here: cancellation reaches them only in a heartbeat response.
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
  });
  return {
    async run() {
      try {
        // Before polling, so a worker that cannot reach Temporal fails here, loudly, rather than watching nothing.
        await ensureNotificationWatch(new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverterFromConfig(config) }), config.DRYDOCK_NOTIFY_WATCH_INTERVAL);
        await worker.run();
      } finally {
        await connection.close();
        await database.close();
      }
    },
    shutdown() {
      // Ctrl-C reaches the process directly and again through the launcher: the second request is a no-op.
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
