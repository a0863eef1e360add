import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '@drydock/core';
import { directoryBlobStore } from '@drydock/core/blob-store';
import { contentTypeOf, maskEnvironment, paramEnvName } from '@drydock/core/job-data';
import type { ContainerOptions } from '@drydock/core/manifest';
import { type AgentScriptJob, type AgentScriptResult, type ContainerSnapshot, ENVIRONMENT_SNAPSHOT_NAME } from '@drydock/core/run-contract';
import { DbLogSink } from './db-log-sink.ts';
import { type CaptureLimits, type DockerRunResult, runInDocker } from './docker/docker-transport.ts';
import { noteHostReached, withContactNoted } from './host-contact.ts';
import { cancelledWhileWaiting, hostSlotCap, withHostSlot } from './host-slots.ts';
import { withScriptContent } from './script-content.ts';
import { type RunSecretSource, withRunSecrets } from './run-secrets.ts';
import { executeJob } from './job-execution.ts';
import { unrecorded } from './operations/inventory-answers.ts';
import { runArtifactWriter } from './run-artifacts.ts';

export interface DockerActivityDeps {
  db: Db;
  /** Where a job's secret parameters are resolved (sealed rows, Vault); without it a job that has some fails. */
  runSecrets?: RunSecretSource;
  /** Where captured files go: the same blob store the API serves downloads from. */
  blobDir: string;
  captureLimits: CaptureLimits;
  /** Jobs an engine runs at once unless its host row says otherwise. */
  agentlessMaxConcurrentJobs: number;
}

export function createDockerActivities({ db, runSecrets, blobDir, captureLimits, agentlessMaxConcurrentJobs }: DockerActivityDeps) {
  const storeFile = runArtifactWriter(db, directoryBlobStore(blobDir));

  async function engineOf(hostId: string): Promise<string> {
    const host = await db.selectFrom('hosts').select(['transport', 'address']).where('id', '=', hostId).executeTakeFirst();
    if (!host) throw ApplicationFailure.nonRetryable(`host ${hostId} no longer exists`, 'NotFound');
    if (host.transport !== 'docker' || !host.address) {
      throw ApplicationFailure.nonRetryable(`host ${hostId} is not a Docker engine; runner docker runs go to hosts added with transport docker`, 'HostIncomplete');
    }
    return host.address;
  }

  return {
    /** One attempt of a `runner: docker` run: a fresh container on the host's engine, from a central worker. */
    async runScriptInDocker(input: { job: AgentScriptJob; hostId: string; container: { image: string } & ContainerOptions }): Promise<AgentScriptResult> {
      const { hostId, container } = input;
      const job = await withRunSecrets(runSecrets, await withScriptContent(db, input.job));
      const info = Context.current().info;
      const attempt = info.attempt;
      const socketPath = await engineOf(hostId);
      const cap = await hostSlotCap(db, hostId, agentlessMaxConcurrentJobs);
      const holder = `${info.workflowExecution?.workflowId ?? job.runId}/${info.activityId}/${attempt}`;
      const extraEnv = { DRYDOCK_HOST_ID: hostId, DRYDOCK_ATTEMPT: String(attempt) };
      let ran: DockerRunResult | undefined;
      return executeJob({
        job,
        hostId,
        via: `in a container of ${container.image} (${container.network ? 'network' : 'no network'})`,
        sink: new DbLogSink(db, job.runId, attempt),
        run: (onLine, signal) =>
          withHostSlot(
            { db, hostId, cap, holder, signal, onWait: (line) => onLine({ stream: 'system', line, ts: new Date() }) },
            () =>
              withContactNoted(db, hostId, async () => {
                ran = await runInDocker({
                  image: container.image,
                  job,
                  onLine,
                  signal,
                  socketPath,
                  network: container.network,
                  readOnlyRootFs: container.read_only,
                  limits: { memoryMb: container.memory_mb, cpus: container.cpus, pids: container.pids },
                  extraEnv,
                  captureLimits,
                });
                await noteHostReached(db, hostId);
                return ran.exit;
              }),
            cancelledWhileWaiting,
          ),
        // The container is gone by now: its files were copied out before it was removed.
        capture: async (_exit, log) => {
          if (!ran) return;
          for (const file of ran.artifacts) {
            const stored = await storeFile({ runId: job.runId, attempt, name: file.name, kind: 'artifact', contentType: contentTypeOf(file.name), content: file.content });
            log(`captured ${file.name} (${stored.size} bytes, sha256 ${stored.sha256.slice(0, 12)})`);
          }
          if (job.capture?.environment_snapshot && ran.container) {
            const env: Record<string, string> = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, ...extraEnv };
            for (const [name, value] of Object.entries(job.params)) env[paramEnvName(name)] = Array.isArray(value) ? value.join(',') : String(value);
            const snapshot: ContainerSnapshot = {
              capturedAt: new Date().toISOString(),
              container: {
                ...ran.container,
                network: container.network,
                readOnly: container.read_only,
                limits: { memoryMb: container.memory_mb ?? null, cpus: container.cpus ?? null, pids: container.pids ?? null },
              },
              environment: maskEnvironment(job, env),
              // The container is stopped by now and ran no service manager; its image's package database is not read.
              ...unrecorded(job.capture, 'not recorded in containers'),
            };
            await storeFile({
              runId: job.runId,
              attempt,
              name: ENVIRONMENT_SNAPSHOT_NAME,
              kind: 'environment',
              contentType: 'application/json',
              content: Buffer.from(JSON.stringify(snapshot, null, 2)),
            });
            log(`captured the environment snapshot of the container (${ran.container.image})`);
          }
        },
      });
    },
  };
}

export type DockerActivities = ReturnType<typeof createDockerActivities>;
