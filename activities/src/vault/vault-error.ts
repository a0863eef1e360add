import { ReasonError } from '@drydock/core/errors';

export type VaultErrorReason =
  /** The reference is not `vault:<mount>/<path>#<key>`: nothing was asked of Vault. */
  | 'malformed_reference'
  /** Vault answered 403: the token's policies do not allow the read. */
  | 'permission_denied'
  /** No such secret, version or key. */
  | 'not_found'
  /** Vault is sealed, in maintenance, overloaded or cannot be reached: worth trying again later. */
  | 'unavailable'
  /** Vault refused the AppRole login. */
  | 'login_failed'
  /** Vault refused the request for another reason, or answered in a shape that is not Vault's. */
  | 'rejected';

/** Reading a secret from Vault failed; `message` says what to fix and never holds a secret value, token or secret id. */
export class VaultError extends ReasonError<VaultErrorReason> {}

/** Vault's `errors` as one line; its multi-error text ("1 error occurred:\n\t* permission denied\n\n") reduced to the errors. */
export function vaultErrorText(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors)) return '';
  return errors
    .filter((e): e is string => typeof e === 'string')
    .flatMap((e) => {
      const items = [...e.matchAll(/^\t\* (.+)$/gm)].map((m) => m[1]!);
      return items.length > 0 ? items : [e.trim()];
    })
    .filter(Boolean)
    .join('; ');
}
