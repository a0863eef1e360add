import { ApplicationFailure } from '@temporalio/common';
import { credentialForActivity } from '../run-secrets.ts';
import type { AttemptContext } from './host-transport.ts';

/**
 * A host row of the given transport with its address, user and opened credential, or the non-retryable
 * failure that says what to complete: no retry helps a host defined half-way or a credential this worker
 * cannot open.
 */
export async function hostWithCredential(ctx: Pick<AttemptContext, 'db' | 'secrets' | 'vault'>, hostId: string, transport: 'ssh' | 'winrm', label: string) {
  const host = await ctx.db.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirst();
  if (!host) throw ApplicationFailure.nonRetryable(`host ${hostId} no longer exists`, 'NotFound');
  if (host.transport !== transport || !host.address || !host.username || !host.credential_id) {
    throw ApplicationFailure.nonRetryable(`host ${hostId} has no ${label} address, user and credential; complete it on the hosts page`, 'HostIncomplete');
  }
  const credential = await ctx.db.selectFrom('credentials').selectAll().where('id', '=', host.credential_id).executeTakeFirst();
  if (!credential) throw ApplicationFailure.nonRetryable(`the credential of host ${hostId} no longer exists; choose another`, 'NotFound');
  // Sealed with the master key; a vault: reference is read from Vault here.
  const secret = await credentialForActivity(ctx, credential.secret_enc, `the credential of host ${hostId}`);
  return { host: { ...host, address: host.address, username: host.username }, credentialKind: credential.kind, secret };
}
