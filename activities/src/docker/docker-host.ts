import { ApplicationFailure } from '@temporalio/common';
import { contentTypeOf, maskEnvironment } from '@drydock/core/job-data';
import { type ContainerSnapshot, ENVIRONMENT_SNAPSHOT_NAME } from '@drydock/core/run-contract';
import { unrecorded } from '../operations/inventory-answers.ts';
import type { HostTransport, TransportAttempt } from '../transport/host-transport.ts';
import { type DockerRunResult, runInDocker } from './docker-transport.ts';

/** Docker engines: each attempt a fresh container, whose files are copied out before it is removed. */
export const dockerTransport: HostTransport = {
  kind: 'docker',
  async open(ctx): Promise<TransportAttempt> {
    const { job, hostId, container } = ctx;
    const host = await ctx.db.selectFrom('hosts').select(['transport', 'address']).where('id', '=', hostId).executeTakeFirst();
    if (!host) throw ApplicationFailure.nonRetryable(`host ${hostId} no longer exists`, 'NotFound');
    if (host.transport !== 'docker' || !host.address) {
      throw ApplicationFailure.nonRetryable(`host ${hostId} is not a Docker engine; runner docker runs go to hosts added with transport docker`, 'HostIncomplete');
    }
    if (!container) throw ApplicationFailure.nonRetryable(`host ${hostId} is a Docker engine; it runs manifests with runner docker only`, 'Unsupported');
    const socketPath = host.address;
    let ran: DockerRunResult | undefined;
    return {
      via: `in a container of ${container.image} (${container.network ? 'network' : 'no network'})`,
      async run(onLine, signal) {
        ran = await runInDocker({
          image: container.image,
          job,
          onLine,
          signal,
          socketPath,
          network: container.network,
          readOnlyRootFs: container.read_only,
          limits: { memoryMb: container.memory_mb, cpus: container.cpus, pids: container.pids },
          extraEnv: ctx.extraEnv,
          captureLimits: ctx.captureLimits,
        });
        await ctx.reached();
        return ran.exit;
      },
      // The container is gone by now: its files were copied out before it was removed.
      async capture({ store, log, scriptEnv }) {
        if (!ran) return;
        for (const file of ran.artifacts) {
          const stored = await store({ name: file.name, kind: 'artifact', contentType: contentTypeOf(file.name), content: file.content });
          log(`captured ${file.name} (${stored.size} bytes, sha256 ${stored.sha256.slice(0, 12)})`);
        }
        if (!job.capture?.environment_snapshot || !ran.container) return;
        const snapshot: ContainerSnapshot = {
          capturedAt: new Date().toISOString(),
          container: {
            ...ran.container,
            network: container.network,
            readOnly: container.read_only,
            limits: { memoryMb: container.memory_mb ?? null, cpus: container.cpus ?? null, pids: container.pids ?? null },
          },
          environment: maskEnvironment(job, scriptEnv),
          // The container is stopped by now and ran no service manager; its image's package database is not read.
          ...unrecorded(job.capture, 'not recorded in containers'),
        };
        await store({ name: ENVIRONMENT_SNAPSHOT_NAME, kind: 'environment', contentType: 'application/json', content: Buffer.from(JSON.stringify(snapshot, null, 2)) });
        log(`captured the environment snapshot of the container (${ran.container.image})`);
      },
      async close() {},
    };
  },
};
