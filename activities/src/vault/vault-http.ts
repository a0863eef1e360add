import { unreachableReason } from '../cicd/cicd-error.ts';
import { VaultError, vaultErrorText } from './vault-error.ts';

export interface VaultHttpOptions {
  /** `https://vault.example.com:8200`; a trailing `/` is ignored. */
  address: string;
  /** Vault Enterprise namespace, sent as X-Vault-Namespace on every request. */
  namespace?: string;
  fetch?: typeof fetch;
  /** How long one request may take before Vault counts as unreachable. Default 10 s. */
  requestTimeoutMs?: number;
}

export interface VaultResponse {
  status: number;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
}

export type VaultHttp = (method: 'GET' | 'POST', path: string, options?: { token?: string; body?: unknown }) => Promise<VaultResponse>;

/** One HTTP round trip to Vault's API: JSON in and out; a failure to reach Vault is a VaultError('unavailable'). */
export function vaultHttp(options: VaultHttpOptions): VaultHttp {
  const base = options.address.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeout = options.requestTimeoutMs ?? 10_000;
  return async (method, path, { token, body } = {}) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers['x-vault-token'] = token;
    if (options.namespace) headers['x-vault-namespace'] = options.namespace;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeout),
        redirect: 'error',
      });
    } catch (err) {
      throw new VaultError('unavailable', `Vault at ${base} is unreachable: ${unreachableReason(err)}`);
    }
    const text = await res.text();
    if (text.trim() === '') return { status: res.status, body: undefined };
    try {
      return { status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      // A proxy's HTML error page in front of Vault: say what answered, not its body.
      if (res.status >= 500 || res.status === 429) throw new VaultError('unavailable', `Vault at ${base} answered HTTP ${res.status} with a body that is not Vault's JSON`);
      throw new VaultError('rejected', `${base} answered HTTP ${res.status} with a body that is not JSON: is DRYDOCK_VAULT_ADDR the address of Vault?`);
    }
  };
}

/** The failures every Vault endpoint shares: sealed, standby, overloaded, broken. Undefined for the caller to judge. */
export function serviceFailure(address: string, res: VaultResponse): VaultError | undefined {
  const base = address.replace(/\/+$/, '');
  const said = vaultErrorText(res.body);
  const detail = said ? `: ${said}` : '';
  if (res.status === 503) return new VaultError('unavailable', `Vault at ${base} is sealed or in maintenance (HTTP 503${detail}); unseal it, or try again once it is back`);
  if (res.status === 429 || res.status === 412 || res.status >= 500) {
    return new VaultError('unavailable', `Vault at ${base} could not answer (HTTP ${res.status}${detail}); try again later`);
  }
  return undefined;
}
