import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db, SecretBox } from '@drydock/core';
import type { AgentScriptJob, AgentScriptResult } from '@drydock/core/run-contract';
import { DbLogSink } from './db-log-sink.ts';
import { executeJob } from './job-execution.ts';
import { runOverWinrm, type WinrmTarget } from './winrm/winrm-transport.ts';

export interface WinrmActivityDeps {
  db: Db;
  secrets: SecretBox;
}

export function createWinrmActivities({ db, secrets }: WinrmActivityDeps) {
  async function targetOf(hostId: string): Promise<WinrmTarget> {
    const host = await db.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirst();
    if (!host) throw ApplicationFailure.nonRetryable(`host ${hostId} no longer exists`, 'NotFound');
    if (host.transport !== 'winrm' || !host.address || !host.username || !host.credential_id) {
      throw ApplicationFailure.nonRetryable(`host ${hostId} has no WinRM address, user and credential; complete it on the hosts page`, 'HostIncomplete');
    }
    const cred = await db.selectFrom('credentials').selectAll().where('id', '=', host.credential_id).executeTakeFirst();
    if (!cred || cred.kind !== 'password') throw ApplicationFailure.nonRetryable(`host ${hostId} needs a password credential for WinRM`, 'NotFound');
    let password: string;
    try {
      password = secrets.open(cred.secret_enc);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`the credential of host ${hostId} cannot be opened on this worker: ${(err as Error).message}`, 'CredentialUnavailable');
    }
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
      const { job, hostId } = input;
      const attempt = Context.current().info.attempt;
      const target = await targetOf(hostId);
      return executeJob({
        job,
        hostId,
        via: `over WinRM (${target.username}@${target.host}:${target.port}, ${target.auth})`,
        sink: new DbLogSink(db, job.runId, attempt),
        run: async (onLine, signal) => {
          const ran = await runOverWinrm({
            target,
            job,
            onLine,
            signal,
            extraEnv: { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: hostId, DRYDOCK_ATTEMPT: String(attempt) },
          });
          // The certificate seen first is pinned; later runs refuse another one before sending credentials.
          await db.updateTable('hosts').set({ host_key: ran.certFingerprint }).where('id', '=', hostId).where('host_key', 'is', null).execute();
          await db.updateTable('hosts').set({ last_seen_at: new Date() }).where('id', '=', hostId).execute();
          return ran.exit;
        },
      });
    },
  };
}

export type WinrmActivities = ReturnType<typeof createWinrmActivities>;
