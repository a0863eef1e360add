import type { VaultAuth } from '@drydock/core';
import { formatVaultReference, type VaultReference, VaultReferenceSchema } from '@drydock/core/vault-reference';
import { VaultError, vaultErrorText } from './vault-error.ts';
import { serviceFailure, vaultHttp, type VaultHttpOptions } from './vault-http.ts';
import { vaultTokenSource } from './vault-token.ts';

export interface VaultClientOptions extends VaultHttpOptions {
  auth: VaultAuth;
  /** The clock that token leases are measured by, in epoch ms. */
  now?: () => number;
}

/** One version of a secret in a KV version 2 engine. */
export interface VaultSecret {
  data: Record<string, unknown>;
  version: number;
  createdTime: string;
}

export interface VaultClient {
  /** `GET /v1/<mount>/data/<path>`: the current version, or `version`. */
  readSecret(mount: string, path: string, options?: { version?: number }): Promise<VaultSecret>;
  /** The value a `vault:<mount>/<path>#<key>` reference points at, as text. */
  resolve(reference: string | VaultReference): Promise<string>;
}

interface KvReadBody {
  data?: {
    data?: Record<string, unknown> | null;
    metadata?: { version?: number; created_time?: string; deletion_time?: string; destroyed?: boolean } | null;
  };
}

function where(mount: string, path: string, version?: number): string {
  return `${mount}/${path}${version === undefined ? '' : ` (version ${version})`}`;
}

/** Scalars as Vault's UI shows them; objects and lists as JSON; null is no value at all. */
function asText(value: unknown, ref: VaultReference): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) {
    throw new VaultError('not_found', `key "${ref.key}" of ${where(ref.mount, ref.path, ref.version)} holds null, not a value`);
  }
  return JSON.stringify(value);
}

/**
 * A client of Vault's KV version 2 engine, signed in with a token or an AppRole. It never logs: values
 * go back to the caller, and errors name paths and keys, never values or credentials.
 */
export function createVaultClient(options: VaultClientOptions): VaultClient {
  const address = options.address.replace(/\/+$/, '');
  const http = vaultHttp(options);
  const tokens = vaultTokenSource(options.auth, http, address, options.now ?? Date.now);

  async function readSecret(mount: string, path: string, { version }: { version?: number } = {}): Promise<VaultSecret> {
    // fetch would resolve "..": a path must not climb out of its mount to another Vault endpoint.
    if ([mount, ...path.split('/')].some((s) => s === '' || s === '.' || s === '..')) {
      throw new VaultError('malformed_reference', `"${mount}/${path}" is not a secret's path: no empty, "." or ".." segments`);
    }
    const url = `/v1/${[mount, 'data', ...path.split('/')].map(encodeURIComponent).join('/')}${version === undefined ? '' : `?version=${version}`}`;
    let token = await tokens.token();
    let res = await http('GET', url, { token });
    // A 403 is a missing policy or a token that ended before its lease said (revoked, expired, Vault restored from
    // a backup): Vault says which through lookup-self. An AppRole then logs in once more; the second verdict stands.
    if (res.status === 403 && !(await tokens.honoured(token))) {
      tokens.discard(token);
      if (!tokens.renewable) {
        throw new VaultError('permission_denied', `Vault no longer honours the ${tokens.holder} (it expired or was revoked): give Drydock a new one`);
      }
      token = await tokens.token();
      res = await http('GET', url, { token });
    }
    const failure = serviceFailure(address, res);
    if (failure) throw failure;
    const body = res.body as KvReadBody | undefined;
    if (res.status === 403) {
      const said = vaultErrorText(res.body) || 'permission denied';
      throw new VaultError('permission_denied', `Vault refused to read ${where(mount, path, version)}: ${said}. The ${tokens.holder} needs a policy with "read" on ${mount}/data/${path}`);
    }
    if (res.status === 404) {
      const meta = body?.data?.metadata;
      if (meta?.destroyed) throw new VaultError('not_found', `version ${meta.version ?? version} of ${mount}/${path} was destroyed`);
      if (meta?.deletion_time) throw new VaultError('not_found', `version ${meta.version ?? version} of ${mount}/${path} was deleted at ${meta.deletion_time}; undelete it or use another version`);
      const said = vaultErrorText(res.body);
      throw new VaultError(
        'not_found',
        version === undefined
          ? `Vault has no secret at ${mount}/${path}${said ? ` (${said})` : ''}: check the path, and that a KV version 2 engine is mounted at ${mount}/`
          : `Vault has no version ${version} of ${mount}/${path}`,
      );
    }
    if (res.status !== 200) {
      throw new VaultError('rejected', `Vault refused to read ${where(mount, path, version)}: HTTP ${res.status}${vaultErrorText(res.body) ? `: ${vaultErrorText(res.body)}` : ''}`);
    }
    const data = body?.data?.data;
    const meta = body?.data?.metadata;
    if (!data || typeof data !== 'object' || typeof meta?.version !== 'number') {
      throw new VaultError('rejected', `Vault's answer for ${where(mount, path, version)} is not a KV version 2 secret: is ${mount}/ a KV version 2 engine?`);
    }
    return { data, version: meta.version, createdTime: meta.created_time ?? '' };
  }

  return {
    readSecret,
    async resolve(reference) {
      let ref: VaultReference;
      if (typeof reference === 'string') {
        const parsed = VaultReferenceSchema.safeParse(reference);
        if (!parsed.success) throw new VaultError('malformed_reference', parsed.error.issues.map((i) => i.message).join('; '));
        ref = parsed.data;
      } else {
        ref = reference;
      }
      const secret = await readSecret(ref.mount, ref.path, ref.version === undefined ? {} : { version: ref.version });
      if (!Object.hasOwn(secret.data, ref.key)) {
        const keys = Object.keys(secret.data);
        throw new VaultError(
          'not_found',
          `${formatVaultReference(ref)}: ${where(ref.mount, ref.path, secret.version)} has no key "${ref.key}"; ${keys.length > 0 ? `its keys are ${keys.map((k) => `"${k}"`).join(', ')}` : 'it has no keys'}`,
        );
      }
      return asText(secret.data[ref.key], { ...ref, version: secret.version });
    },
  };
}
