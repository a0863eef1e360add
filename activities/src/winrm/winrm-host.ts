import { ApplicationFailure } from '@temporalio/common';
import { runJobOperation } from '../operations/job-operation.ts';
import { hostWithCredential } from '../transport/host-definition.ts';
import type { HostTransport, TransportAttempt } from '../transport/host-transport.ts';
import { captureOverWinrm } from './winrm-capture.ts';
import { hostPort } from './winrm-error.ts';
import { type RunWinrmInvocation, winrmOperations } from './winrm-operations.ts';
import { runOverWinrm, runWinrmInvocation, type WinrmTarget } from './winrm-transport.ts';

/** Windows hosts without an agent, over WinRM (always HTTPS, 5986 unless set, NTLM or Basic); no connection outlives a program. */
export const winrmTransport: HostTransport = {
  kind: 'winrm',
  async open(ctx): Promise<TransportAttempt> {
    const { job, hostId } = ctx;
    const { host, credentialKind, secret } = await hostWithCredential(ctx, hostId, 'winrm', 'WinRM');
    if (credentialKind !== 'password') throw ApplicationFailure.nonRetryable(`host ${hostId} needs a password credential for WinRM`, 'NotFound');
    const target: WinrmTarget = {
      host: host.address,
      port: host.port ?? 5986,
      https: true,
      username: host.username,
      password: secret,
      auth: host.auth_method ?? 'ntlm',
      certFingerprint: host.host_key,
    };
    const where = `${target.username}@${hostPort(target)}`;
    // Every program after the first runs against the certificate the first one saw, pinned or not.
    let seen: WinrmTarget = target;
    const landed = async (fingerprint: string) => {
      await ctx.pin(hostId, fingerprint);
      await ctx.reached();
      seen = { ...seen, certFingerprint: seen.certFingerprint ?? fingerprint };
    };
    const run: RunWinrmInvocation = async (invocation, context) => {
      const ran = await runWinrmInvocation(seen, invocation, context);
      await landed(ran.certFingerprint);
      return ran;
    };
    return {
      via: `over WinRM (${target.username}@${target.host}:${target.port}, ${target.auth})`,
      async run(onLine, signal) {
        // A host operation runs as fixed PowerShell programs on the host, judged like the agent's (winrm-operations.ts).
        if (job.operation) return runJobOperation(job, onLine, signal, winrmOperations({ target, where, run }));
        const ran = await runOverWinrm({ target, job, onLine, signal, extraEnv: ctx.extraEnv });
        await landed(ran.certFingerprint);
        return ran.exit;
      },
      async capture(c) {
        if (job.capture === undefined) return;
        await captureOverWinrm({ run, job, capture: job.capture, attempt: ctx.attempt, ...c });
      },
      async close() {},
    };
  },
};
