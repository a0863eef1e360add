import { ApplicationFailure } from '@temporalio/common';
import { type Db, isVaultReference, type SecretBox } from '@drydock/core';
import { type AgentScriptJob, SECRET_UNAVAILABLE, type SecretRefs } from '@drydock/core/run-contract';
import { type VaultClient, VaultError } from './vault/index.ts';

/** Where a run's secret values come from: its sealed rows, opened with the master key, and Vault for vault: references. */
export interface RunSecretSource {
  db: Db;
  secrets: SecretBox;
  /** Absent when no Vault is configured: a vault: reference then fails the attempt, saying so. */
  vault?: VaultClient | undefined;
}

/** A secret of a run could not be resolved; `retryable` when trying later may help (Vault down or sealed). */
export class RunSecretError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable = false) {
    super(message);
    this.name = 'RunSecretError';
    this.retryable = retryable;
  }
}

/**
 * Every sealed secret of a run by parameter name, in clear: its own rows, or its bulk execution's. `refs`
 * narrows them to the ones a job names and makes a missing one an error.
 */
export async function openRunSecrets(source: RunSecretSource, runId: string, refs?: SecretRefs): Promise<Record<string, string>> {
  const run = await source.db.selectFrom('runs').select(['id', 'bulk_id']).where('id', '=', runId).executeTakeFirst();
  const rows = run
    ? await source.db
        .selectFrom('run_secrets')
        .select(['id', 'name', 'value_enc', 'vault_ref'])
        .where((eb) => (run.bulk_id === null ? eb('run_id', '=', run.id) : eb.or([eb('run_id', '=', run.id), eb('bulk_id', '=', run.bulk_id)])))
        .execute()
    : [];
  const wanted = refs ? Object.entries(refs).map(([name, ref]) => ({ name, id: ref.secretRef })) : rows.map((r) => ({ name: r.name, id: r.id }));
  const values: Record<string, string> = {};
  for (const { name, id } of wanted) {
    const row = rows.find((r) => r.id === id && r.name === name);
    if (!row) throw new RunSecretError(`the secret parameter ${name} of run ${runId} is no longer held: its run has ended, or it was swept as a run that never ended; start the run again`);
    values[name] = await openRow(source, name, row);
  }
  return values;
}

async function openRow(source: RunSecretSource, name: string, row: { value_enc: string | null; vault_ref: string | null }): Promise<string> {
  if (row.vault_ref !== null) {
    if (!source.vault) {
      throw new RunSecretError(`the secret parameter ${name} is ${row.vault_ref}, but Drydock has no Vault to ask: set DRYDOCK_VAULT_ADDR and a token or an AppRole`);
    }
    try {
      return await source.vault.resolve(row.vault_ref);
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
      throw new RunSecretError(`the secret parameter ${name} (${row.vault_ref}) could not be read from Vault: ${err.message}`, err.reason === 'unavailable');
    }
  }
  try {
    return source.secrets.open(row.value_enc!);
  } catch (err) {
    // A process without the master key the value was sealed with cannot help; no retry will either.
    throw new RunSecretError(`the secret parameter ${name} cannot be opened here: ${(err as Error).message}`);
  }
}

/**
 * A stored credential's value: sealed with the master key, and when what was sealed is a vault: reference,
 * the value it names, read from Vault now. `what` names the credential in messages ("the credential of host x").
 */
export async function openCredentialValue(source: Pick<RunSecretSource, 'secrets' | 'vault'>, sealed: string, what: string): Promise<string> {
  let stored: string;
  try {
    stored = source.secrets.open(sealed);
  } catch (err) {
    throw new RunSecretError(`${what} cannot be opened on this worker: ${(err as Error).message}`);
  }
  if (!isVaultReference(stored)) return stored;
  if (!source.vault) throw new RunSecretError(`${what} is ${stored.trim()}, but Drydock has no Vault to ask: set DRYDOCK_VAULT_ADDR and a token or an AppRole`);
  try {
    return await source.vault.resolve(stored.trim());
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    throw new RunSecretError(`${what} (${stored.trim()}) could not be read from Vault: ${err.message}`, err.reason === 'unavailable');
  }
}

/** openCredentialValue for an activity: a failure is the attempt's, as a Temporal failure that says why. */
export async function credentialForActivity(source: Pick<RunSecretSource, 'secrets' | 'vault'>, sealed: string, what: string): Promise<string> {
  try {
    return await openCredentialValue(source, sealed, what);
  } catch (err) {
    if (!(err instanceof RunSecretError)) throw err;
    throw ApplicationFailure.create({ type: 'CredentialUnavailable', message: err.message, nonRetryable: !err.retryable });
  }
}

/** A job's secret parameters with their values: what an executor runs with. Jobs without references are returned as they are. */
export function withSecretValues(job: AgentScriptJob, values: Record<string, string>): AgentScriptJob {
  const resolved: AgentScriptJob = { ...job, params: { ...job.params, ...values } };
  delete resolved.secretRefs;
  return resolved;
}

/** A central worker's job with its secrets resolved from Postgres and Vault; a failure fails the attempt with a reason. */
export async function withRunSecrets(source: RunSecretSource | undefined, job: AgentScriptJob): Promise<AgentScriptJob> {
  if (!job.secretRefs || Object.keys(job.secretRefs).length === 0) return job;
  if (!source) throw ApplicationFailure.nonRetryable(`run ${job.runId} has secret parameters, and this worker was started without a way to resolve them`, SECRET_UNAVAILABLE);
  try {
    return withSecretValues(job, await openRunSecrets(source, job.runId, job.secretRefs));
  } catch (err) {
    if (!(err instanceof RunSecretError)) throw err;
    throw ApplicationFailure.create({ type: SECRET_UNAVAILABLE, message: err.message, nonRetryable: !err.retryable });
  }
}
