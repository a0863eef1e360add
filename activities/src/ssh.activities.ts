import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db, SecretBox } from '@drydock/core';
import type { AgentScriptJob, AgentScriptResult } from '@drydock/core/run-contract';
import { directoryBlobStore } from '@drydock/core/blob-store';
import { CAPTURE_BUDGET_MS, type CaptureLimits, jobVariables } from './central-capture.ts';
import { DbLogSink } from './db-log-sink.ts';
import { noteHostReached, withContactNoted } from './host-contact.ts';
import { cancelledWhileWaiting, hostSlotCap, withHostSlot } from './host-slots.ts';
import { withScriptContent } from './script-content.ts';
import { credentialForActivity, type RunSecretSource, withRunSecrets } from './run-secrets.ts';
import { executeJob } from './job-execution.ts';
import { runJobOperation } from './operations/job-operation.ts';
import { runArtifactWriter } from './run-artifacts.ts';
import { captureOverSsh, removeWorkDir } from './ssh/ssh-capture.ts';
import { hostPort, openSession } from './ssh/ssh-connection.ts';
import { sshOperations } from './ssh/ssh-operations.ts';
import { runJobInSession, type SshSession, type SshTarget } from './ssh/ssh-transport.ts';

export interface SshActivityDeps {
  db: Db;
  /** Where a job's secret parameters are resolved (sealed rows, Vault); without it a job that has some fails. */
  runSecrets?: RunSecretSource;
  secrets: SecretBox;
  /** Where captured files go (the blob store the API serves downloads from) and how much may go; without them nothing is captured. */
  blobDir?: string;
  captureLimits?: CaptureLimits;
  /** Jobs the host runs at once unless its host row says otherwise; default 4. */
  agentlessMaxConcurrentJobs?: number;
}

export function createSshActivities({ db, secrets, runSecrets, blobDir, captureLimits, agentlessMaxConcurrentJobs = 4 }: SshActivityDeps) {
  const capture = blobDir !== undefined && captureLimits !== undefined ? { store: runArtifactWriter(db, directoryBlobStore(blobDir)), limits: captureLimits } : null;
  async function targetOf(teamId: string | undefined, hostId: string): Promise<Omit<SshTarget, 'jump'> & { jumpHostId: string | null }> {
    let q = db.selectFrom('hosts').selectAll().where('id', '=', hostId);
    if (teamId) q = q.where('team_id', '=', teamId);
    const host = await q.executeTakeFirst();
    if (!host) throw ApplicationFailure.nonRetryable(`host ${hostId} no longer exists`, 'NotFound');
    if (host.transport !== 'ssh' || !host.address || !host.username || !host.credential_id) {
      throw ApplicationFailure.nonRetryable(`host ${hostId} has no SSH address, user and credential; complete it on the hosts page`, 'HostIncomplete');
    }
    const cred = await db.selectFrom('credentials').selectAll().where('id', '=', host.credential_id).executeTakeFirst();
    if (!cred) throw ApplicationFailure.nonRetryable(`the credential of host ${hostId} no longer exists; choose another`, 'NotFound');
    // Sealed with the master key; a vault: reference is read from Vault here.
    const secret = await credentialForActivity({ secrets, vault: runSecrets?.vault }, cred.secret_enc, `the credential of host ${hostId}`);
    return {
      host: host.address,
      port: host.port ?? 22,
      username: host.username,
      auth: cred.kind === 'ssh_key' ? { kind: 'ssh_key', privateKey: secret } : { kind: 'password', password: secret },
      knownHostKey: host.host_key,
      jumpHostId: host.jump_host_id,
    };
  }

  /** Pins a host key on first use; a key already pinned is verified by the transport, never replaced here. */
  async function pin(hostId: string, key: string | null): Promise<void> {
    if (!key) return;
    await db.updateTable('hosts').set({ host_key: key }).where('id', '=', hostId).where('host_key', 'is', null).execute();
  }

  return {
    /** One attempt of a run on an agentless host, from a central worker, over SSH. */
    async runScriptOverSsh(input: { job: AgentScriptJob; hostId: string }): Promise<AgentScriptResult> {
      const { hostId } = input;
      const job = await withRunSecrets(runSecrets, await withScriptContent(db, input.job));
      const info = Context.current().info;
      const attempt = info.attempt;
      const cap = await hostSlotCap(db, input.hostId, agentlessMaxConcurrentJobs);
      const holder = `${info.workflowExecution?.workflowId ?? input.job.runId}/${info.activityId}/${attempt}`;
      const { jumpHostId, ...target } = await targetOf(undefined, hostId);
      const jump = jumpHostId ? await targetOf(undefined, jumpHostId) : undefined;
      const full: SshTarget = { ...target, ...(jump ? { jump: { host: jump.host, port: jump.port, username: jump.username, auth: jump.auth, knownHostKey: jump.knownHostKey } } : {}) };
      const where = `${target.username}@${hostPort(target)}`;
      const extraEnv = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: hostId, DRYDOCK_ATTEMPT: String(attempt) };
      const wanted = job.capture && (job.capture.environment_snapshot || job.capture.artifacts.length > 0) ? job.capture : undefined;
      // One connection for the attempt and its capture, so the script's kept work directory is read where it was left.
      let session: SshSession | null = null;
      let workDir: string | null = null;
      try {
        return await executeJob({
          job,
          hostId,
          via: `over SSH (${target.username}@${target.host}:${target.port}${jumpHostId ? ` via ${jumpHostId}` : ''})`,
          sink: new DbLogSink(db, job.runId, attempt),
          run: (onLine, signal) =>
            withHostSlot(
              { db, hostId, cap, holder, signal, onWait: (line) => onLine({ stream: 'system', line, ts: new Date() }) },
              () =>
                withContactNoted(db, hostId, async () => {
                  session = await openSession(full, signal);
                  await pin(hostId, session.hostKey);
                  if (jumpHostId) await pin(jumpHostId, session.jumpHostKey);
                  await noteHostReached(db, hostId);
                  // A host operation runs as fixed sh programs on the host, judged like the agent's (ssh/ssh-operations.ts).
                  if (job.operation) return runJobOperation(job, onLine, signal, sshOperations({ session, where }));
                  const exit = await runJobInSession(session, { target: full, job, onLine, signal, extraEnv, keepWorkDir: wanted !== undefined });
                  workDir = exit.workDir;
                  return exit;
                }),
              cancelledWhileWaiting,
            ),
          capture: wanted
            ? async (_exit, log, cancelled) => {
                if (session === null) return;
                if (!capture) {
                  log('nothing captured: this worker was started without a blob store (blobDir and captureLimits)');
                  return;
                }
                await captureOverSsh({
                  session,
                  where,
                  job,
                  capture: wanted,
                  attempt,
                  workDir,
                  scriptEnv: jobVariables(job, extraEnv),
                  limits: capture.limits,
                  store: (file) => capture.store({ runId: job.runId, attempt, ...file }),
                  log,
                  signal: AbortSignal.any([cancelled, AbortSignal.timeout(CAPTURE_BUDGET_MS)]),
                });
                if (workDir !== null) await removeWorkDir(session, where, workDir, log);
                workDir = null;
              }
            : undefined,
        });
      } finally {
        const open = session as SshSession | null;
        if (open !== null) {
          // Not captured (cancelled, or the attempt failed before capture): the kept directory goes all the same; the log is closed by now.
          if (workDir !== null) await removeWorkDir(open, where, workDir, () => {});
          open.close();
        }
      }
    },
  };
}

export type SshActivities = ReturnType<typeof createSshActivities>;
