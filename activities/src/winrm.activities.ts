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
import { captureOverWinrm } from './winrm/winrm-capture.ts';
import { hostPort } from './winrm/winrm-error.ts';
import { type RunWinrmInvocation, winrmOperations } from './winrm/winrm-operations.ts';
import { runOverWinrm, runWinrmInvocation, type WinrmTarget } from './winrm/winrm-transport.ts';

export interface WinrmActivityDeps {
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

export function createWinrmActivities({ db, secrets, runSecrets, blobDir, captureLimits, agentlessMaxConcurrentJobs = 4 }: WinrmActivityDeps) {
  const capture = blobDir !== undefined && captureLimits !== undefined ? { store: runArtifactWriter(db, directoryBlobStore(blobDir)), limits: captureLimits } : null;
  async function targetOf(hostId: string): Promise<WinrmTarget> {
    const host = await db.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirst();
    if (!host) throw ApplicationFailure.nonRetryable(`host ${hostId} no longer exists`, 'NotFound');
    if (host.transport !== 'winrm' || !host.address || !host.username || !host.credential_id) {
      throw ApplicationFailure.nonRetryable(`host ${hostId} has no WinRM address, user and credential; complete it on the hosts page`, 'HostIncomplete');
    }
    const cred = await db.selectFrom('credentials').selectAll().where('id', '=', host.credential_id).executeTakeFirst();
    if (!cred || cred.kind !== 'password') throw ApplicationFailure.nonRetryable(`host ${hostId} needs a password credential for WinRM`, 'NotFound');
    // Sealed with the master key; a vault: reference is read from Vault here.
    const password = await credentialForActivity({ secrets, vault: runSecrets?.vault }, cred.secret_enc, `the credential of host ${hostId}`);
    return {
      host: host.address,
      port: host.port ?? 5986,
      https: true,
      username: host.username,
      password,
      auth: host.auth_method ?? 'ntlm',
      certFingerprint: host.host_key,
    };
  }

  return {
    /** One attempt of a run on a Windows host without an agent, from a central worker, over WinRM (HTTPS). */
    async runScriptOverWinrm(input: { job: AgentScriptJob; hostId: string }): Promise<AgentScriptResult> {
      const { hostId } = input;
      const job = await withRunSecrets(runSecrets, await withScriptContent(db, input.job));
      const info = Context.current().info;
      const attempt = info.attempt;
      const cap = await hostSlotCap(db, input.hostId, agentlessMaxConcurrentJobs);
      const holder = `${info.workflowExecution?.workflowId ?? input.job.runId}/${info.activityId}/${attempt}`;
      const target = await targetOf(hostId);
      const where = `${target.username}@${hostPort(target)}`;
      const extraEnv = { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: hostId, DRYDOCK_ATTEMPT: String(attempt) };
      const wanted = job.capture && (job.capture.environment_snapshot || job.capture.artifacts.length > 0) ? job.capture : undefined;
      // Every program after the first runs against the certificate the first one saw, pinned or not.
      let seen: WinrmTarget = target;
      const run: RunWinrmInvocation = async (invocation, context) => {
        const ran = await runWinrmInvocation(seen, invocation, context);
        await landed(ran.certFingerprint);
        return ran;
      };
      const landed = async (fingerprint: string) => {
        // The certificate seen first is pinned; later runs refuse another one before sending credentials.
        await db.updateTable('hosts').set({ host_key: fingerprint }).where('id', '=', hostId).where('host_key', 'is', null).execute();
        await noteHostReached(db, hostId);
        seen = { ...seen, certFingerprint: seen.certFingerprint ?? fingerprint };
      };
      return executeJob({
        job,
        hostId,
        via: `over WinRM (${target.username}@${target.host}:${target.port}, ${target.auth})`,
        sink: new DbLogSink(db, job.runId, attempt),
        run: (onLine, signal) =>
          withHostSlot(
            { db, hostId, cap, holder, signal, onWait: (line) => onLine({ stream: 'system', line, ts: new Date() }) },
            () =>
              withContactNoted(db, hostId, async () => {
                // A host operation runs as fixed PowerShell programs on the host, judged like the agent's (winrm/winrm-operations.ts).
                if (job.operation) return runJobOperation(job, onLine, signal, winrmOperations({ target, where, run }));
                const ran = await runOverWinrm({ target, job, onLine, signal, extraEnv });
                await landed(ran.certFingerprint);
                return ran.exit;
              }),
            cancelledWhileWaiting,
          ),
        capture: wanted
          ? async (_exit, log, cancelled) => {
              if (!capture) {
                log('nothing captured: this worker was started without a blob store (blobDir and captureLimits)');
                return;
              }
              await captureOverWinrm({
                run,
                job,
                capture: wanted,
                attempt,
                scriptEnv: jobVariables(job, extraEnv),
                limits: capture.limits,
                store: (file) => capture.store({ runId: job.runId, attempt, ...file }),
                log,
                signal: AbortSignal.any([cancelled, AbortSignal.timeout(CAPTURE_BUDGET_MS)]),
              });
            }
          : undefined,
      });
    },
  };
}

export type WinrmActivities = ReturnType<typeof createWinrmActivities>;
