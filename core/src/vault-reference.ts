import { z } from 'zod';

// Browser-safe: the API checks references on input, the worker and the agent resolve them.

export const VAULT_REFERENCE_PREFIX = 'vault:';

/** A key of a secret in Vault's KV version 2 engine: `vault:<mount>/<path>[?version=<n>]#<key>`. */
export interface VaultReference {
  /** The KV v2 engine's mount: the first segment (`secret` in `vault:secret/app/db#password`). */
  mount: string;
  /** The secret's path inside the mount, without leading or trailing `/`. */
  path: string;
  key: string;
  /** A fixed version of the secret; the current one when absent. */
  version?: number;
}

const SEGMENT = /^[A-Za-z0-9_.@=+~-]+$/;
const EXAMPLE = 'vault:secret/app/db#password';

export function isVaultReference(text: string): boolean {
  return text.trim().startsWith(VAULT_REFERENCE_PREFIX);
}

/** The reference's parts, or what is wrong with `text` in words that say how to write it. */
function referenceProblem(text: string): { problem: string } | { reference: VaultReference } {
  if (!text.startsWith(VAULT_REFERENCE_PREFIX)) return { problem: `a Vault reference starts with "${VAULT_REFERENCE_PREFIX}", like ${EXAMPLE}` };
  const body = text.slice(VAULT_REFERENCE_PREFIX.length);
  const hash = body.indexOf('#');
  if (hash < 0) return { problem: `name the key after "#", like ${EXAMPLE}` };
  const key = body.slice(hash + 1);
  if (key.length === 0) return { problem: `the key after "#" is empty; name the key of the secret, like ${EXAMPLE}` };
  let location = body.slice(0, hash);
  let version: number | undefined;
  const query = location.indexOf('?');
  if (query >= 0) {
    const match = /^version=([1-9][0-9]{0,9})$/.exec(location.slice(query + 1));
    if (!match) return { problem: 'after "?" only version=<n> may follow, n a whole number from 1, like vault:secret/app/db?version=3#password' };
    version = Number(match[1]);
    location = location.slice(0, query);
  }
  const segments = location.split('/');
  if (segments.length < 2 || segments.some((s) => s === '')) {
    return { problem: `give the mount and the secret's path as <mount>/<path>, without empty segments, like ${EXAMPLE}` };
  }
  for (const segment of segments) {
    if (segment === '.' || segment === '..') return { problem: `"${segment}" cannot be a segment of a Vault path` };
    if (!SEGMENT.test(segment)) return { problem: `"${segment}" may hold only letters, digits and . _ - @ = + ~` };
  }
  const [mount, ...path] = segments;
  return { reference: { mount: mount!, path: path.join('/'), key, ...(version === undefined ? {} : { version }) } };
}

/** A reference as text turned into its parts; a malformed one fails with a message that says how to write it. */
export const VaultReferenceSchema = z.string().transform((text, ctx) => {
  const result = referenceProblem(text.trim());
  if ('problem' in result) {
    ctx.addIssue({ code: 'custom', message: `not a Vault reference: ${result.problem}` });
    return z.NEVER;
  }
  return result.reference;
});

export function formatVaultReference(ref: VaultReference): string {
  return `${VAULT_REFERENCE_PREFIX}${ref.mount}/${ref.path}${ref.version === undefined ? '' : `?version=${ref.version}`}#${ref.key}`;
}
