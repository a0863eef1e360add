import { runJobOperation } from '../operations/job-operation.ts';
import { hostWithCredential } from '../transport/host-definition.ts';
import type { AttemptContext, HostTransport, TransportAttempt } from '../transport/host-transport.ts';
import { captureOverSsh, removeWorkDir } from './ssh-capture.ts';
import { hostPort, openSession } from './ssh-connection.ts';
import { sshOperations } from './ssh-operations.ts';
import { runJobInSession, type SshSession, type SshTarget } from './ssh-transport.ts';

async function targetOf(ctx: AttemptContext, hostId: string): Promise<Omit<SshTarget, 'jump'> & { jumpHostId: string | null }> {
  const { host, credentialKind, secret } = await hostWithCredential(ctx, hostId, 'ssh', 'SSH');
  return {
    host: host.address,
    port: host.port ?? 22,
    username: host.username,
    auth: credentialKind === 'ssh_key' ? { kind: 'ssh_key', privateKey: secret } : { kind: 'password', password: secret },
    knownHostKey: host.host_key,
    jumpHostId: host.jump_host_id,
  };
}

/** SSH hosts: one session for the attempt and its capture, so the script's kept work directory is read where it was left. */
export const sshTransport: HostTransport = {
  kind: 'ssh',
  async open(ctx): Promise<TransportAttempt> {
    const { job, hostId } = ctx;
    const { jumpHostId, ...target } = await targetOf(ctx, hostId);
    const jump = jumpHostId ? await targetOf(ctx, jumpHostId) : undefined;
    const full: SshTarget = { ...target, ...(jump ? { jump: { host: jump.host, port: jump.port, username: jump.username, auth: jump.auth, knownHostKey: jump.knownHostKey } } : {}) };
    const where = `${target.username}@${hostPort(target)}`;
    const keepWorkDir = job.capture !== undefined && (job.capture.environment_snapshot || job.capture.artifacts.length > 0);
    let session: SshSession | null = null;
    let workDir: string | null = null;
    return {
      via: `over SSH (${target.username}@${target.host}:${target.port}${jumpHostId ? ` via ${jumpHostId}` : ''})`,
      async run(onLine, signal) {
        session = await openSession(full, signal);
        await ctx.pin(hostId, session.hostKey);
        if (jumpHostId) await ctx.pin(jumpHostId, session.jumpHostKey);
        await ctx.reached();
        // A host operation runs as fixed sh programs on the host, judged like the agent's (ssh-operations.ts).
        if (job.operation) return runJobOperation(job, onLine, signal, sshOperations({ session, where }));
        const exit = await runJobInSession(session, { target: full, job, onLine, signal, extraEnv: ctx.extraEnv, keepWorkDir });
        workDir = exit.workDir;
        return exit;
      },
      async capture(c) {
        if (session === null || job.capture === undefined) return;
        await captureOverSsh({ session, where, job, capture: job.capture, attempt: ctx.attempt, workDir, ...c });
        if (workDir !== null) await removeWorkDir(session, where, workDir, c.log);
        workDir = null;
      },
      async close() {
        const open = session as SshSession | null;
        if (open === null) return;
        // Not captured (cancelled, or the attempt failed before capture): the kept directory goes all the same; the log is closed by now.
        if (workDir !== null) await removeWorkDir(open, where, workDir, () => {});
        open.close();
      },
    };
  },
};
