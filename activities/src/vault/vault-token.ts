import type { VaultAuth } from '@drydock/core';
import { VaultError, vaultErrorText } from './vault-error.ts';
import { serviceFailure, type VaultHttp } from './vault-http.ts';

/** Where a request's X-Vault-Token comes from. */
export interface VaultTokenSource {
  token(): Promise<string>;
  /** After a 403: whether Vault still honours `token` at all (`auth/token/lookup-self`), or it expired or was revoked. */
  honoured(token: string): Promise<boolean>;
  /** Forgets a token Vault no longer honours: an AppRole logs in again on the next call. */
  discard(token: string): void;
  /** Whether a new token can be had without an operator: true for an AppRole. */
  readonly renewable: boolean;
  /** Says whose policies to fix in a permission error. */
  readonly holder: string;
}

interface Lease {
  token: string;
  /** Epoch ms after which Vault no longer honours the token; undefined for a token without expiry. */
  expiresAt?: number;
  /** Epoch ms from which the token is renewed (or replaced) before use: two thirds into its lease. */
  refreshAt?: number;
  renewable: boolean;
}

interface AuthBlock {
  client_token?: unknown;
  lease_duration?: unknown;
  renewable?: unknown;
}

export function vaultTokenSource(auth: VaultAuth, http: VaultHttp, address: string, now: () => number): VaultTokenSource {
  const honoured = async (token: string): Promise<boolean> => {
    const res = await http('GET', '/v1/auth/token/lookup-self', { token });
    const failure = serviceFailure(address, res);
    if (failure) throw failure;
    return res.status !== 403;
  };
  if (auth.method === 'token') {
    return { token: async () => auth.token, honoured, discard: () => {}, renewable: false, holder: 'token in DRYDOCK_VAULT_TOKEN' };
  }

  let lease: Lease | undefined;
  let pending: Promise<Lease> | undefined;

  const leaseFrom = (block: AuthBlock | undefined, what: string): Lease => {
    if (!block || typeof block.client_token !== 'string' || block.client_token === '') {
      throw new VaultError('rejected', `Vault's answer to the ${what} holds no auth.client_token`);
    }
    const seconds = typeof block.lease_duration === 'number' ? block.lease_duration : 0;
    const at = now();
    return {
      token: block.client_token,
      renewable: block.renewable === true,
      ...(seconds > 0 ? { expiresAt: at + seconds * 1000, refreshAt: at + (seconds * 1000 * 2) / 3 } : {}),
    };
  };

  const login = async (): Promise<Lease> => {
    const res = await http('POST', `/v1/auth/${auth.mount}/login`, { body: { role_id: auth.roleId, secret_id: auth.secretId } });
    const failure = serviceFailure(address, res);
    if (failure) throw failure;
    if (res.status !== 200) {
      const said = vaultErrorText(res.body) || `HTTP ${res.status}`;
      throw new VaultError(
        'login_failed',
        `Vault refused the AppRole login at auth/${auth.mount}: ${said}. Check DRYDOCK_VAULT_ROLE_ID and DRYDOCK_VAULT_SECRET_ID (a secret id can expire or run out of uses) and DRYDOCK_VAULT_APPROLE_MOUNT`,
      );
    }
    return leaseFrom((res.body as { auth?: AuthBlock } | undefined)?.auth, 'AppRole login');
  };

  /** Extends the lease while Vault allows; once renewal stops extending it (the role's max TTL), a new login. */
  const renewOrLogin = async (held: Lease): Promise<Lease> => {
    if (held.renewable && held.expiresAt !== undefined && now() < held.expiresAt) {
      const res = await http('POST', '/v1/auth/token/renew-self', { token: held.token, body: {} });
      const failure = serviceFailure(address, res);
      if (failure) throw failure;
      if (res.status === 200) {
        const renewed = leaseFrom((res.body as { auth?: AuthBlock } | undefined)?.auth, 'token renewal');
        const extended = renewed.expiresAt === undefined || renewed.expiresAt > held.expiresAt + 1000;
        if (extended && renewed.token === held.token) return renewed;
      }
    }
    return login();
  };

  const refresh = (held: Lease | undefined): Promise<Lease> => {
    pending ??= (held ? renewOrLogin(held) : login())
      .then((fresh) => (lease = fresh))
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  return {
    holder: `token of the AppRole (auth/${auth.mount})`,
    renewable: true,
    honoured,
    async token() {
      const held = lease;
      if (held && (held.refreshAt === undefined || now() < held.refreshAt)) return held.token;
      return (await refresh(held)).token;
    },
    discard(token) {
      if (lease?.token === token) lease = undefined;
    },
  };
}
