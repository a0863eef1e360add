import type { Insertable } from 'kysely';
import type { RunSecretTable } from './db/schema.ts';
import { ValidationError } from './errors.ts';
import { newId } from './ids.ts';
import type { Parameter, ParamValues } from './manifest.ts';
import type { SecretRefs } from './run-contract.ts';
import type { SecretBox } from './secret-box.ts';
import { formatVaultReference, isVaultReference, VaultReferenceSchema } from './vault-reference.ts';

/** Who a run's sealed secrets belong to: the run itself, or a bulk execution whose runs all share them. */
export type RunSecretOwner = { teamId: string } & ({ runId: string } | { bulkId: string });

export interface SealedRunSecrets {
  /** The parameters without the secret ones: what the workflow input carries as values. */
  params: ParamValues;
  /** The secret parameters as references; empty when the entry has none. */
  secretRefs: SecretRefs;
  /** The rows to insert into run_secrets before the workflow starts. */
  rows: Insertable<RunSecretTable>[];
}

/**
 * Takes the secret parameters out of validated values: each is sealed with the master key (or kept as its
 * vault: reference, checked here so a malformed one is a 400, not a failed run) into a row the run owns until
 * it ends, and replaced by a reference to that row.
 */
export function sealRunSecrets(box: SecretBox, parameters: readonly Parameter[], values: ParamValues, owner: RunSecretOwner, expiresAt: Date): SealedRunSecrets {
  const params: ParamValues = {};
  const secretRefs: SecretRefs = {};
  const rows: Insertable<RunSecretTable>[] = [];
  const fields: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(values)) {
    const secret = parameters.find((p) => p.name === name)?.type === 'secret' && typeof value === 'string';
    if (!secret) {
      params[name] = value;
      continue;
    }
    const id = newId();
    let sealed: { value_enc: string; vault_ref: null } | { value_enc: null; vault_ref: string };
    if (isVaultReference(value)) {
      const parsed = VaultReferenceSchema.safeParse(value);
      if (!parsed.success) {
        fields[name] = parsed.error.issues.map((i) => i.message);
        continue;
      }
      sealed = { value_enc: null, vault_ref: formatVaultReference(parsed.data) };
    } else {
      sealed = { value_enc: box.seal(value), vault_ref: null };
    }
    secretRefs[name] = { secretRef: id };
    rows.push({
      id,
      team_id: owner.teamId,
      run_id: 'runId' in owner ? owner.runId : null,
      bulk_id: 'bulkId' in owner ? owner.bulkId : null,
      name,
      ...sealed,
      expires_at: expiresAt,
    });
  }
  if (Object.keys(fields).length > 0) throw new ValidationError('a secret parameter names a Vault reference that is not one', fields);
  return { params, secretRefs, rows };
}
