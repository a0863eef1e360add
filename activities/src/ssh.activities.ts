import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db, SecretBox } from '@drydock/core';
import type { AgentScriptJob, AgentScriptResult } from '@drydock/core/run-contract';
import { DbLogSink } from './db-log-sink.ts';
import { executeJob } from './job-execution.ts';
import { runOverSsh, type SshTarget } from './ssh/ssh-transport.ts';

export interface SshActivityDeps {
  db: Db;
  secrets: SecretBox;
}

export function createSshActivities({ db, secrets }: SshActivityDeps) {
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
    let secret: string;
    try {
      secret = secrets.open(cred.secret_enc);
    } catch (err) {
      // A worker without the master key the credential was sealed with cannot help; no retry will either.
      throw ApplicationFailure.nonRetryable(`the credential of host ${hostId} cannot be opened on this worker: ${(err as Error).message}`, 'CredentialUnavailable');
    }
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
      const { job, hostId } = input;
      const attempt = Context.current().info.attempt;
      const { jumpHostId, ...target } = await targetOf(undefined, hostId);
      const jump = jumpHostId ? await targetOf(undefined, jumpHostId) : undefined;
      const full: SshTarget = { ...target, ...(jump ? { jump: { host: jump.host, port: jump.port, username: jump.username, auth: jump.auth, knownHostKey: jump.knownHostKey } } : {}) };
      const result = await executeJob({
        job,
        hostId,
        via: `over SSH (${target.username}@${target.host}:${target.port}${jumpHostId ? ` via ${jumpHostId}` : ''})`,
        sink: new DbLogSink(db, job.runId, attempt),
        run: async (onLine, signal) => {
          const ran = await runOverSsh({
            target: full,
            job,
            onLine,
            signal,
            extraEnv: { DRYDOCK_RUN_ID: job.runId, DRYDOCK_SCRIPT_ID: job.scriptId, DRYDOCK_HOST_ID: hostId, DRYDOCK_ATTEMPT: String(attempt) },
          });
          await pin(hostId, ran.hostKey);
          if (jumpHostId) await pin(jumpHostId, ran.jumpHostKey);
          await db.updateTable('hosts').set({ last_seen_at: new Date() }).where('id', '=', hostId).execute();
          return ran.exit;
        },
      });
      return result;
    },
  };
}

export type SshActivities = ReturnType<typeof createSshActivities>;
