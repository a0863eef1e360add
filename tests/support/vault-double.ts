import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// No Vault server can be installed here. This double speaks the part of Vault's HTTP API that Drydock uses, with
// Vault's documented shapes: KV version 2 reads with versions (`GET /v1/<mount>/data/<path>`), AppRole login
// (`POST /v1/auth/<mount>/login`), `auth/token/renew-self` and `auth/token/lookup-self`, the X-Vault-Token header,
// ACL paths with a trailing `*`, token TTLs against a clock the test controls, and errors as `{"errors":[...]}`.

export interface VaultTokenSpec {
  /** ACL paths the token may read, as a Vault policy writes them: `secret/data/app/db`, `secret/data/app/*`. */
  read: string[];
  /** Seconds until the token expires; 0 never. */
  ttlSeconds?: number;
  /** Seconds past which renewals stop extending it. Default: 4 × ttl. */
  maxTtlSeconds?: number;
  renewable?: boolean;
}

export interface VaultAppRoleSpec extends Omit<VaultTokenSpec, 'read'> {
  roleId: string;
  secretId: string;
  read: string[];
  /** Where the AppRole auth method is mounted. Default `approle`. */
  mount?: string;
}

export interface VaultRequestRecord {
  method: string;
  /** Path without the query. */
  path: string;
  query: string;
  status: number;
  /** Whether the request carried X-Vault-Token, and the namespace it named; never the token itself. */
  withToken: boolean;
  namespace?: string;
}

export interface VaultDouble {
  address: string;
  /** Every request, in order, for tests that check what crossed the wire. */
  requests: VaultRequestRecord[];
  /** Enables a KV version 2 engine at `mount`. */
  mountKv(mount: string): void;
  /** Writes a new version of the secret; returns its number. */
  putSecret(mount: string, path: string, data: Record<string, unknown>): number;
  deleteVersion(mount: string, path: string, version: number): void;
  destroyVersion(mount: string, path: string, version: number): void;
  createToken(spec: VaultTokenSpec): string;
  revokeToken(token: string): void;
  /** Revokes every token created under `prefix`, as `vault lease revoke -prefix auth/approle/` does. */
  revokePrefix(prefix: string): void;
  addAppRole(spec: VaultAppRoleSpec): void;
  sealed: boolean;
  close(): Promise<void>;
}

interface Version {
  data: Record<string, unknown>;
  created: number;
  deleted?: number;
  destroyed: boolean;
}

interface TokenState {
  read: string[];
  /** The path that created it: `auth/token/create`, `auth/approle/login`. */
  createdBy: string;
  issued: number;
  expiresAt?: number;
  maxExpiresAt?: number;
  ttlSeconds: number;
  renewable: boolean;
  accessor: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function aclAllows(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : p === path));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the double on 127.0.0.1 and a free port. `now` is the clock its tokens expire by (epoch ms). */
export async function startVaultDouble(options: { now?: () => number } = {}): Promise<VaultDouble> {
  const now = options.now ?? Date.now;
  const kv = new Map<string, Map<string, Version[]>>();
  const tokens = new Map<string, TokenState>();
  const approles = new Map<string, VaultAppRoleSpec & { mount: string }>();
  const requests: VaultRequestRecord[] = [];

  const issueToken = (spec: VaultTokenSpec, createdBy = 'auth/token/create'): string => {
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    const ttl = spec.ttlSeconds ?? 0;
    const issued = now();
    tokens.set(token, {
      read: spec.read,
      createdBy,
      issued,
      ttlSeconds: ttl,
      renewable: spec.renewable ?? ttl > 0,
      accessor: randomBytes(12).toString('base64url'),
      ...(ttl > 0 ? { expiresAt: issued + ttl * 1000, maxExpiresAt: issued + (spec.maxTtlSeconds ?? ttl * 4) * 1000 } : {}),
    });
    return token;
  };

  /** The token's state if Vault would honour it now; expired tokens are revoked, as Vault's expiration manager does. */
  const live = (token: string | undefined): TokenState | undefined => {
    if (!token) return undefined;
    const state = tokens.get(token);
    if (state?.expiresAt !== undefined && now() >= state.expiresAt) {
      tokens.delete(token);
      return undefined;
    }
    return state;
  };

  const authBlock = (token: string, state: TokenState) => {
    const remaining = state.expiresAt === undefined ? 0 : Math.round((state.expiresAt - now()) / 1000);
    return {
      client_token: token,
      accessor: state.accessor,
      policies: ['default', 'drydock-read'],
      token_policies: ['default', 'drydock-read'],
      metadata: {},
      lease_duration: remaining,
      renewable: state.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: true,
    };
  };

  const envelope = (fields: Record<string, unknown>) => ({
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: null,
    ...fields,
  });

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: Error) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [`1 error occurred:\n\t* ${err.message}\n\n`] }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault');
    const token = req.headers['x-vault-token'] as string | undefined;
    const namespace = req.headers['x-vault-namespace'] as string | undefined;
    const record: VaultRequestRecord = { method: req.method ?? '', path: url.pathname, query: url.search, status: 0, withToken: token !== undefined, ...(namespace ? { namespace } : {}) };
    requests.push(record);
    const reply = (status: number, body?: unknown) => {
      record.status = status;
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    // Vault's answer to a request its ACLs refuse; a token it does not know adds "invalid token".
    const denied = (invalidToken: boolean) =>
      reply(403, { errors: [invalidToken ? '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n' : '1 error occurred:\n\t* permission denied\n\n'] });
    if (double.sealed) return reply(503, { errors: ['Vault is sealed'] });
    if (!url.pathname.startsWith('/v1/')) return reply(404, { errors: [] });
    const route = url.pathname.slice('/v1/'.length);

    const login = /^auth\/(.+)\/login$/.exec(route);
    if (login && req.method === 'POST') {
      const body = await readJson(req);
      if (!body) return reply(400, { errors: ['failed to parse JSON input'] });
      const role = typeof body.role_id === 'string' ? approles.get(body.role_id) : undefined;
      if (typeof body.role_id !== 'string' || body.role_id === '') return reply(400, { errors: ['missing role_id'] });
      if (!role || role.mount !== login[1] || body.secret_id !== role.secretId) return reply(400, { errors: ['invalid role or secret ID'] });
      const issued = issueToken(role, route);
      return reply(200, envelope({ auth: authBlock(issued, tokens.get(issued)!) }));
    }

    if (route === 'auth/token/renew-self' && (req.method === 'POST' || req.method === 'PUT')) {
      await readJson(req);
      const state = live(token);
      if (!state) return denied(true);
      if (!state.renewable) return reply(400, { errors: ['lease is not renewable'] });
      const at = now();
      const wanted = at + state.ttlSeconds * 1000;
      const capped = state.maxExpiresAt !== undefined && wanted > state.maxExpiresAt;
      state.expiresAt = capped ? state.maxExpiresAt : wanted;
      return reply(
        200,
        envelope({
          auth: authBlock(token!, state),
          warnings: capped ? [`TTL of "${state.ttlSeconds}s" exceeded the effective max_ttl; TTL value is capped accordingly`] : null,
        }),
      );
    }

    if (route === 'auth/token/lookup-self' && req.method === 'GET') {
      const state = live(token);
      if (!state) return denied(true);
      return reply(
        200,
        envelope({ data: { accessor: state.accessor, policies: ['default', 'drydock-read'], ttl: state.expiresAt === undefined ? 0 : Math.round((state.expiresAt - now()) / 1000), renewable: state.renewable } }),
      );
    }

    const slash = route.indexOf('/');
    const mount = slash < 0 ? route : route.slice(0, slash);
    const engine = kv.get(mount);
    const rest = slash < 0 ? '' : route.slice(slash + 1);
    if (!engine || !rest.startsWith('data/')) return reply(404, { errors: [`no handler for route "${route}". route entry not found.`] });
    if (req.method !== 'GET') return reply(405, { errors: ['1 error occurred:\n\t* unsupported operation\n\n'] });
    const state = live(token);
    if (!state) return denied(true);
    const path = decodeURIComponent(rest.slice('data/'.length));
    if (!aclAllows(state.read, `${mount}/data/${path}`)) return denied(false);

    const versions = engine.get(path);
    if (!versions) return reply(404, { errors: [] });
    const wanted = url.searchParams.get('version');
    const number = wanted && Number(wanted) > 0 ? Number(wanted) : versions.length;
    const version = versions[number - 1];
    if (!version) return reply(404, { errors: [] });
    const metadata = {
      created_time: iso(version.created),
      custom_metadata: null,
      deletion_time: version.deleted === undefined ? '' : iso(version.deleted),
      destroyed: version.destroyed,
      version: number,
    };
    if (version.destroyed || version.deleted !== undefined) return reply(404, envelope({ data: { data: null, metadata } }));
    return reply(200, envelope({ data: { data: version.data, metadata } }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const versionsOf = (mount: string, path: string): Version[] => {
    const engine = kv.get(mount);
    if (!engine) throw new Error(`no KV engine at ${mount}/ in the double: mountKv('${mount}') first`);
    let versions = engine.get(path);
    if (!versions) engine.set(path, (versions = []));
    return versions;
  };

  const double: VaultDouble = {
    address: `http://127.0.0.1:${port}`,
    requests,
    sealed: false,
    mountKv(mount) {
      if (!kv.has(mount)) kv.set(mount, new Map());
    },
    putSecret(mount, path, data) {
      const versions = versionsOf(mount, path);
      versions.push({ data: structuredClone(data), created: now(), destroyed: false });
      return versions.length;
    },
    deleteVersion(mount, path, version) {
      const v = versionsOf(mount, path)[version - 1];
      if (!v) throw new Error(`${mount}/${path} has no version ${version}`);
      v.deleted = now();
    },
    destroyVersion(mount, path, version) {
      const v = versionsOf(mount, path)[version - 1];
      if (!v) throw new Error(`${mount}/${path} has no version ${version}`);
      v.destroyed = true;
      v.data = {};
    },
    createToken: (spec) => issueToken(spec),
    revokeToken(token) {
      tokens.delete(token);
    },
    revokePrefix(prefix) {
      for (const [token, state] of tokens) if (state.createdBy.startsWith(prefix)) tokens.delete(token);
    },
    addAppRole(spec) {
      approles.set(spec.roleId, { ...spec, mount: spec.mount ?? 'approle' });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return double;
}
