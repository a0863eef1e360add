import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db, SecretBox } from '@drydock/core';
import { directoryBlobStore } from '@drydock/core/blob-store';
import { DEFAULT_CAPTURE_LIMITS } from '@drydock/core/job-data';
import type { AgentScriptJob, AgentScriptResult } from '@drydock/core/run-contract';
import { CAPTURE_BUDGET_MS, type CaptureLimits, jobVariables } from './central-capture.ts';
import { DbLogSink } from './db-log-sink.ts';
import { noteHostReached, withContactNoted } from './host-contact.ts';
import { cancelledWhileWaiting, hostSlotCap, withHostSlot } from './host-slots.ts';
import { executeJob } from './job-execution.ts';
import { runArtifactWriter } from './run-artifacts.ts';
import { type RunSecretSource, withRunSecrets } from './run-secrets.ts';
import { withScriptContent } from './script-content.ts';
import type { ContainerRequest, HostTransport } from './transport/host-transport.ts';
import { HOST_TRANSPORTS } from './transport/transports.ts';

export interface AgentlessActivityDeps {
  db: Db;
  secrets: SecretBox;
  /** Where a job's secret parameters are resolved (sealed rows, Vault); without it a job that has some fails. */
  runSecrets?: RunSecretSource;
  /** Where captured files go (the blob store the API serves downloads from) and how much may go; without them nothing is captured. */
  blobDir?: string;
  captureLimits?: CaptureLimits;
  /** Jobs a host runs at once unless its host row says otherwise; default 4. */
  agentlessMaxConcurrentJobs?: number;
}

export interface AgentlessAttemptInput {
  job: AgentScriptJob;
  hostId: string;
  /** Set for `runner: docker` jobs, which only a Docker engine runs. */
  container?: ContainerRequest;
}

/**
 * One attempt of a run on a host without an agent, from a central worker, whatever the transport: the host's
 * row says which (transport/transports.ts). The body is the same for all: the script's content, a slot on
 * the host, the log into Postgres, contact noted on the host, the capture into the blob store.
 */
export function createAgentlessActivities({ db, secrets, runSecrets, blobDir, captureLimits, agentlessMaxConcurrentJobs = 4 }: AgentlessActivityDeps) {
  const store = blobDir !== undefined && captureLimits !== undefined ? runArtifactWriter(db, directoryBlobStore(blobDir)) : null;

  async function transportOf(hostId: string, container: ContainerRequest | undefined): Promise<HostTransport> {
    const host = await db.selectFrom('hosts').select('transport').where('id', '=', hostId).executeTakeFirst();
    if (!host) throw ApplicationFailure.nonRetryable(`host ${hostId} no longer exists`, 'NotFound');
    // A container job goes to an engine whatever else the host is; the Docker transport says so when it is not one.
    const transport = HOST_TRANSPORTS.get(container ? 'docker' : host.transport);
    if (!transport) throw ApplicationFailure.nonRetryable(`host ${hostId} is reached through its agent, not from a central worker`, 'HostIncomplete');
    return transport;
  }

  async function runAgentless(input: AgentlessAttemptInput): Promise<AgentScriptResult> {
    const { hostId } = input;
    const job = await withRunSecrets(runSecrets, await withScriptContent(db, input.job));
    const info = Context.current().info;
    const attempt = info.attempt;
    const transport = await transportOf(hostId, input.container);
    const cap = await hostSlotCap(db, hostId, agentlessMaxConcurrentJobs);
    const holder = `${info.workflowExecution?.workflowId ?? job.runId}/${info.activityId}/${attempt}`;
    const extraEnv = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: hostId, DRYDOCK_ATTEMPT: String(attempt) };
    const contact = await transport.open({
      db,
      secrets,
      vault: runSecrets?.vault,
      hostId,
      job,
      attempt,
      extraEnv,
      captureLimits: captureLimits ?? DEFAULT_CAPTURE_LIMITS,
      container: input.container,
      // The identity seen first is pinned; later contacts refuse another one before sending credentials.
      pin: async (id, identity) => {
        if (identity) await db.updateTable('hosts').set({ host_key: identity }).where('id', '=', id).where('host_key', 'is', null).execute();
      },
      reached: () => noteHostReached(db, hostId),
    });
    try {
      return await executeJob({
        job,
        hostId,
        via: contact.via,
        sink: new DbLogSink(db, job.runId, attempt),
        run: (onLine, signal) =>
          withHostSlot(
            { db, hostId, cap, holder, signal, onWait: (line) => onLine({ stream: 'system', line, ts: new Date() }) },
            () => withContactNoted(db, hostId, () => contact.run(onLine, signal)),
            cancelledWhileWaiting,
          ),
        capture: async (_exit, log, cancelled) => {
          if (store === null || captureLimits === undefined) {
            log('nothing captured: this worker was started without a blob store (blobDir and captureLimits)');
            return;
          }
          await contact.capture({
            limits: captureLimits,
            store: (file) => store({ runId: job.runId, attempt, ...file }),
            log,
            signal: AbortSignal.any([cancelled, AbortSignal.timeout(CAPTURE_BUDGET_MS)]),
            scriptEnv: jobVariables(job, extraEnv),
          });
        },
      });
    } finally {
      await contact.close();
    }
  }

  return {
    runAgentless,
    // The names the script-run workflow calls; each is the same body, which goes by the host's transport.
    runScriptOverSsh: (input: { job: AgentScriptJob; hostId: string }) => runAgentless(input),
    runScriptOverWinrm: (input: { job: AgentScriptJob; hostId: string }) => runAgentless(input),
    runScriptInDocker: (input: { job: AgentScriptJob; hostId: string; container: ContainerRequest }) => runAgentless(input),
  };
}

export type AgentlessActivities = ReturnType<typeof createAgentlessActivities>;
