import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type GroupMap, GroupMapSchema } from './group-map.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

const port = z.coerce.number().int().min(1).max(65_535);
const seconds = z.coerce.number().min(0.1);
const optionalUrl = z.url().optional().or(z.literal('').transform(() => undefined));
/** Raw text the agent parses with its config file's values, in one schema (agent/src/agent-config.ts). */
const agentText = z.string().optional();

/** Unset when empty: an operator clears a setting by giving it no value. */
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const commaList = z
  .string()
  .default('')
  .transform((t) => t.split(',').map((x) => x.trim()).filter(Boolean));
/** A JSON document in one variable, checked against `schema` so a wrong field is named by its path. */
function jsonSetting<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not valid JSON (${(err as Error).message})` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** The highest DRYDOCK_DISCOVERY_MAX_ADDRESSES: one scan of a /16 at most, whatever the setting says. */
export const MAX_DISCOVERY_ADDRESSES = 65_536;

/** What a host name (and so an agent's task queue `agent-<host>`) may look like. */
export const AGENT_HOST_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Every setting of every Drydock process, read from the environment in one place, once, at boot.
 * Nothing else reads process.env: processes take what they need from the parsed Config.
 */
export const ConfigSchema = z.object({
  DRYDOCK_DATA_DIR: z.string().default(resolve(REPO_ROOT, '.data')),
  /** Where artifacts and environment snapshots are kept; `<DRYDOCK_DATA_DIR>/blobs` unless given. */
  DRYDOCK_BLOB_DIR: z.string().optional(),
  /** The largest file a run may capture, and the most one attempt may capture in all, in megabytes. */
  DRYDOCK_ARTIFACT_MAX_FILE_MB: z.coerce.number().positive().default(50),
  DRYDOCK_ARTIFACT_MAX_RUN_MB: z.coerce.number().positive().default(200),
  DRYDOCK_TEAM: z.string().default('default'),

  DATABASE_URL: optionalUrl,
  DRYDOCK_PG_PORT: port.default(54_329),

  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  DRYDOCK_TEMPORAL_BIN: z.string().optional(),
  DRYDOCK_TEMPORAL_PORT: port.default(7233),
  DRYDOCK_TEMPORAL_UI_PORT: port.default(8233),
  DRYDOCK_TEMPORAL_UI_URL: optionalUrl,

  DRYDOCK_API_HOST: z.string().default('127.0.0.1'),
  DRYDOCK_API_PORT: port.default(3001),
  DRYDOCK_API_URL: optionalUrl,
  DRYDOCK_WEB_HOST: z.string().default('127.0.0.1'),
  DRYDOCK_WEB_PORT: port.default(3000),

  /** A directory served as the "Local catalog" repository; npm start and the tests point it at examples/. */
  DRYDOCK_CATALOG_DIR: z.string().optional(),
  /**
   * accounts: every user route needs a session or an API token, and the first start prints a one-time setup link.
   * local: a request without credentials acts as the local admin; an explicit opt-in for one person's laptop,
   * refused unless everything listens on, and is reached at, loopback.
   */
  DRYDOCK_AUTH_MODE: z.enum(['local', 'accounts'], { error: 'DRYDOCK_AUTH_MODE is accounts or local' }).default('accounts'),
  /** A session ends after this long without a request, and after DRYDOCK_SESSION_MAX_DAYS whatever happens. */
  DRYDOCK_SESSION_IDLE_HOURS: z.coerce.number().positive().max(24 * 30).default(8),
  DRYDOCK_SESSION_MAX_DAYS: z.coerce.number().positive().max(365).default(7),
  DRYDOCK_LOCAL_ADMIN_EMAIL: z.email().default('admin@drydock.local'),

  DRYDOCK_AGENT_REGISTRATION_SECRET: z.string().min(16).optional(),
  /** How long a run waits for its host's agent to pick it up before failing as offline. */
  DRYDOCK_AGENT_OFFLINE_TIMEOUT: seconds.default(60),
  DRYDOCK_AGENT_HOST: z.string().regex(AGENT_HOST_PATTERN).default('local'),
  /** Comma-separated tags the agent's host carries; manifests' host_tags choose hosts by them. */
  DRYDOCK_AGENT_TAGS: commaList,
  DRYDOCK_AGENT_STATE_FILE: z.string().optional(),
  DRYDOCK_AGENT_MAX_CONCURRENT_JOBS: z.coerce.number().int().min(1).default(8),
  /** Hosts a bulk execution's workflow starts before it continues as new: bounds its history (about 8 events a host). */
  DRYDOCK_BULK_HOSTS_PER_RUN: z.coerce.number().int().min(1).max(2_000).default(500),
  /** Jobs an SSH, WinRM or Docker host runs at once unless the host says otherwise (its maxConcurrentJobs). */
  DRYDOCK_AGENTLESS_MAX_CONCURRENT_JOBS: z.coerce.number().int().min(1).max(1_000).default(4),
  DRYDOCK_AGENT_WORK_DIR: z.string().optional(),
  DRYDOCK_AGENT_HEARTBEAT_TIMEOUT: seconds.default(30),
  /** How long a requires_lock run waits for its host's lock before it fails, naming who keeps the lock. */
  DRYDOCK_LOCK_WAIT_TIMEOUT: seconds.default(3600),
  /** A YAML or JSON file of agent settings; a setting also given here in the environment wins. */
  DRYDOCK_AGENT_CONFIG: z.string().optional(),
  DRYDOCK_AGENT_TOKEN: agentText,
  DRYDOCK_AGENT_HEARTBEAT_INTERVAL: agentText,
  DRYDOCK_AGENT_DEFAULT_TIMEOUT: agentText,
  DRYDOCK_AGENT_TOKEN_ROTATION_HOURS: agentText,
  DRYDOCK_AGENT_ALLOWED_COMMANDS: agentText,
  DRYDOCK_AGENT_FORBIDDEN_PATHS: agentText,
  DRYDOCK_AGENT_CPU_SECONDS: agentText,
  DRYDOCK_AGENT_MEMORY_MB: agentText,
  DRYDOCK_AGENT_MAX_EXECUTION_SECONDS: agentText,
  DRYDOCK_AGENT_MAX_PROCESSES: agentText,

  /** 32 bytes, base64: encrypts workflow payloads so secrets never reach Temporal history in clear. */
  DRYDOCK_CODEC_KEY: z
    .string()
    .refine((k) => Buffer.from(k, 'base64').length === 32, { error: 'DRYDOCK_CODEC_KEY must be 32 bytes, base64-encoded' })
    .optional(),
  DRYDOCK_CODEC_KEY_ID: z.string().default('k1'),
  /** 32 bytes, base64: encrypts credentials and webhook secrets at rest. */
  DRYDOCK_MASTER_KEY: z
    .string()
    .refine((k) => Buffer.from(k, 'base64').length === 32, { error: 'DRYDOCK_MASTER_KEY must be 32 bytes, base64-encoded' })
    .optional(),
  DRYDOCK_MASTER_KEY_ID: z.string().default('m1'),
  /** Where people and git providers reach Drydock, for webhook URLs; defaults to the web UI's address. */
  DRYDOCK_PUBLIC_URL: optionalUrl,
  /** More host names the API and the web server answer for (comma-separated), beyond those of their URLs and loopback. */
  DRYDOCK_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((t) => t.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((h) => hostNameOf(h) !== undefined, { error: 'each entry is a host name or IP address, without scheme or path' }))),

  DRYDOCK_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

  /** OpenID Connect sign-in: the provider's issuer, discovered from `<issuer>/.well-known/openid-configuration`. */
  DRYDOCK_OIDC_ISSUER: optionalUrl,
  DRYDOCK_OIDC_CLIENT_ID: optionalText,
  /** Unset for a public client, which then relies on PKCE alone. */
  DRYDOCK_OIDC_CLIENT_SECRET: optionalText,
  /** Where the provider sends the browser back; `<DRYDOCK_PUBLIC_URL>/api/v1/auth/oidc/callback` (the callback route) unless given. */
  DRYDOCK_OIDC_REDIRECT_URI: optionalUrl,
  DRYDOCK_OIDC_SCOPES: z
    .string()
    .default('openid email profile')
    .transform((t) => t.split(/[\s,]+/).filter(Boolean)),
  DRYDOCK_OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
  /** Provider groups to Drydock teams and roles: `{"drydock-admins":{"team":"platform","role":"admin"}}`. */
  DRYDOCK_OIDC_GROUP_MAP: jsonSetting(GroupMapSchema).default({}),

  /** Kerberos/SPNEGO sign-in: the keytab holding the service principal's keys. */
  DRYDOCK_KERBEROS_KEYTAB: optionalText,
  /** The service principal as GSS writes it, `HTTP@<host>` (or `HTTP/<host>`); `HTTP@<DRYDOCK_PUBLIC_URL's host>` unless given. */
  DRYDOCK_KERBEROS_SERVICE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+[@/][A-Za-z0-9.-]+$/, { error: 'write the service principal as HTTP@<host name> (or HTTP/<host name>), without a realm' })
    .optional(),
  /** Comma-separated realms whose users may sign in; Kerberos writes them in upper case. */
  DRYDOCK_KERBEROS_REALMS: commaList,
  /** The mail domain of Kerberos users when it is not the realm's: `alice@CORP.EXAMPLE.COM` is the user `alice@<this>`. */
  DRYDOCK_KERBEROS_EMAIL_DOMAIN: z
    .string()
    .regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, { error: 'write a mail domain such as example.com, without @' })
    .optional(),

  /** Vault, for `vault:<mount>/<path>#<key>` references: its address, and a token or an AppRole to sign in with. */
  DRYDOCK_VAULT_ADDR: optionalUrl,
  DRYDOCK_VAULT_TOKEN: optionalText,
  DRYDOCK_VAULT_ROLE_ID: optionalText,
  DRYDOCK_VAULT_SECRET_ID: optionalText,
  DRYDOCK_VAULT_APPROLE_MOUNT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, { error: 'give the path the AppRole auth method is mounted at, such as approle or teams/approle' })
    .default('approle'),
  /** Vault Enterprise namespace, sent as X-Vault-Namespace. */
  DRYDOCK_VAULT_NAMESPACE: optionalText,

  /** The SMTP server email notifications go through; unset, no email channel can send. */
  DRYDOCK_SMTP_HOST: optionalText,
  DRYDOCK_SMTP_PORT: port.optional(),
  /** starttls: plain connection upgraded with STARTTLS, refused without it; tls: TLS from the start (465); none: loopback relays only. */
  DRYDOCK_SMTP_SECURITY: z.enum(['starttls', 'tls', 'none'], { error: 'DRYDOCK_SMTP_SECURITY is starttls, tls or none' }).default('starttls'),
  DRYDOCK_SMTP_USER: optionalText,
  DRYDOCK_SMTP_PASSWORD: optionalText,
  /** The sender of notification emails, `Drydock <drydock@example.com>` or a bare address. */
  DRYDOCK_SMTP_FROM: optionalText,
  /** Whether webhooks (Slack, Teams, generic) may point at loopback and private addresses; unset, loopback only when the API listens on loopback. */
  DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['true', 'false'], { error: 'DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS is true or false' }).optional(),
  ),
  /** How long one delivery attempt (an HTTP request, or an SMTP session) may take. */
  DRYDOCK_NOTIFY_TIMEOUT: seconds.default(10),
  /** How often the notification watcher looks for agents gone silent and locks held past their expected time. */
  DRYDOCK_NOTIFY_WATCH_INTERVAL: seconds.default(15),
  /** An agent silent this long is reported unreachable (host_unreachable); the hosts page's window is 30 s too. */
  DRYDOCK_HOST_UNREACHABLE_AFTER: seconds.default(30),

  /** The most addresses one target discovery may scan, after its excludes. */
  DRYDOCK_DISCOVERY_MAX_ADDRESSES: z.coerce
    .number({ error: 'DRYDOCK_DISCOVERY_MAX_ADDRESSES is a number of addresses' })
    .int()
    .min(1)
    .max(MAX_DISCOVERY_ADDRESSES, { error: `DRYDOCK_DISCOVERY_MAX_ADDRESSES is at most ${MAX_DISCOVERY_ADDRESSES} (a /16)` })
    .default(4_096),
  /** Whether target discovery may scan public addresses; unset, private and loopback ranges only. */
  DRYDOCK_DISCOVERY_ALLOW_PUBLIC: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['true', 'false'], { error: 'DRYDOCK_DISCOVERY_ALLOW_PUBLIC is true or false' }).default('false'),
  ),
  /** Anthropic's Messages API proposes incident hypotheses; unset, the rule engine does. A secret: never logged. */
  DRYDOCK_ANTHROPIC_API_KEY: optionalText,
  /** Another endpoint of the Messages API (a gateway or proxy); https://api.anthropic.com unless given. */
  DRYDOCK_ANTHROPIC_BASE_URL: optionalUrl,
  DRYDOCK_LLM_MODEL: z.string().min(1).default('claude-sonnet-5-5'),
  /** How long one request to the Messages API may take before the rule engine answers instead. */
  DRYDOCK_LLM_TIMEOUT: seconds.default(60),
  /** The Prometheus whose HTTP API incidents query for evidence; unset, that evidence is marked missing. */
  DRYDOCK_PROMETHEUS_URL: optionalUrl,
  /** The deadline of one Prometheus query; Prometheus is told it, and stops a query that would take longer. */
  DRYDOCK_PROMETHEUS_TIMEOUT: seconds.default(10),
  /** PagerDuty's REST API, to keep incidents' status in sync both ways (until teams keep their own, with identity). */
  DRYDOCK_PAGERDUTY_API_URL: z.url().default('https://api.pagerduty.com'),
  DRYDOCK_PAGERDUTY_API_TOKEN: optionalText,
  /** The PagerDuty user Drydock's changes are made as (the From header of every write). */
  DRYDOCK_PAGERDUTY_FROM_EMAIL: z.preprocess((v) => (v === '' ? undefined : v), z.email({ error: 'DRYDOCK_PAGERDUTY_FROM_EMAIL is the email of a PagerDuty user' }).optional()),
});

export type RawConfig = z.infer<typeof ConfigSchema>;

export interface OidcSettings {
  issuerUrl: string;
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  scopes: string[];
  groupsClaim: string;
  groupMap: GroupMap;
}

export interface KerberosSettings {
  keytab: string;
  /** `HTTP@host`, the form GSS-API imports as a host-based service name. */
  service: string;
  realms: string[];
  /** Lower case; absent: the realm, in lower case, is the mail domain. */
  emailDomain?: string;
}

export type VaultAuth = { method: 'token'; token: string } | { method: 'approle'; roleId: string; secretId: string; mount: string };

export interface VaultSettings {
  address: string;
  auth: VaultAuth;
  namespace?: string;
}

export interface SmtpSettings {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  /** Present when the server wants a login; the password is a secret and is never logged. */
  auth?: { user: string; password: string };
  from: string;
}

export interface LlmSettings {
  /** A secret: never logged, never in a message. */
  apiKey: string;
  baseUrl: string;
  model: string;
  timeoutMs: number;
}

export interface PrometheusSettings {
  url: string;
  timeoutMs: number;
}

export interface PagerdutySettings {
  apiUrl: string;
  /** A secret: never logged, never in a message. */
  token: string;
  fromEmail: string;
}

/** Which private addresses notification webhooks may reach; metadata, multicast and reserved addresses never. */
export interface NotifyTargetPolicy {
  loopback: boolean;
  privateNetworks: boolean;
}

export interface Config extends RawConfig {
  temporalAddress: string;
  temporalUiUrl: string;
  apiUrl: string;
  webUrl: string;
  publicUrl: string;
  blobDir: string;
  /**
   * The host names (lower case, IPv6 in brackets, no port) the API and the web server answer for: those of the
   * public, API and web URLs, of non-wildcard listen addresses, `localhost`, loopback, and DRYDOCK_ALLOWED_HOSTS.
   * Any other `Host` is a DNS rebinding attempt or a missing setting.
   */
  allowedHosts: ReadonlySet<string>;
  /** The origins a browser may send state-changing requests from: every allowed host at the scheme and port of the public, web and API URLs. */
  allowedOrigins: ReadonlySet<string>;
  /** The settings given in the environment rather than defaulted, so the agent's config file knows which of its values they override. */
  fromEnv: ReadonlySet<keyof RawConfig>;
  /** Present when an issuer is configured. */
  oidc?: OidcSettings;
  /** Present when a keytab is configured. */
  kerberos?: KerberosSettings;
  /** Present when a Vault address is configured. */
  vault?: VaultSettings;
  /** Present when an SMTP host is configured. */
  smtp?: SmtpSettings;
  notifyTargets: NotifyTargetPolicy;
  /** What target discovery may scan. */
  discovery: { maxAddresses: number; allowPublic: boolean };
  /** Present when an Anthropic API key is configured; without it the rule engine proposes hypotheses. */
  llm?: LlmSettings;
  /** Present when a Prometheus URL is configured. */
  prometheus?: PrometheusSettings;
  /** Present when a PagerDuty token is configured. */
  pagerduty?: PagerdutySettings;
}

export class ConfigError extends Error {}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]']);

/** The host name of a `Host` header or a configured name as URLs spell it (lower case, IPv6 bracketed), or undefined when it is none. */
export function hostNameOf(host: string): string | undefined {
  if (host === '' || /[/?#@\\\s]/.test(host)) return undefined;
  const bare = host.includes(':') && !host.startsWith('[') && host.indexOf(':') !== host.lastIndexOf(':') ? `[${host}]` : host;
  try {
    return new URL(`http://${bare}`).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

/** A listen address as a URL spells it: a wildcard becomes a name this machine answers to, an IPv6 address gets brackets. */
function urlHost(listen: string, forWildcard: string): string {
  if (WILDCARD_ADDRESSES.has(listen)) return forWildcard;
  return listen.includes(':') && !listen.startsWith('[') ? `[${listen}]` : listen;
}

/** Any 127.0.0.0/8 address or ::1: only this machine can reach them, whatever a DNS answer says. */
export function isLoopbackHost(name: string): boolean {
  return name === 'localhost' || name === '[::1]' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function requestEdges(c: RawConfig, urls: { apiUrl: string; webUrl: string; publicUrl: string }) {
  const bases = [urls.publicUrl, urls.webUrl, urls.apiUrl].map((u) => new URL(u));
  const hosts = new Set<string>(LOOPBACK_NAMES);
  for (const u of bases) hosts.add(u.hostname);
  for (const listen of [c.DRYDOCK_API_HOST, c.DRYDOCK_WEB_HOST]) {
    const name = hostNameOf(listen);
    if (name && !WILDCARD_ADDRESSES.has(listen) && !WILDCARD_ADDRESSES.has(name)) hosts.add(name);
  }
  for (const extra of c.DRYDOCK_ALLOWED_HOSTS) hosts.add(hostNameOf(extra)!);
  const origins = new Set<string>();
  for (const base of bases) {
    for (const host of hosts) origins.add(new URL(`${base.protocol}//${host}${base.port ? `:${base.port}` : ''}`).origin);
  }
  return { allowedHosts: hosts as ReadonlySet<string>, allowedOrigins: origins as ReadonlySet<string> };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  const keys = Object.keys(ConfigSchema.shape) as (keyof RawConfig)[];
  const webUrl = `http://${urlHost(c.DRYDOCK_WEB_HOST, 'localhost')}:${c.DRYDOCK_WEB_PORT}`;
  const urls = {
    apiUrl: c.DRYDOCK_API_URL ?? `http://${urlHost(c.DRYDOCK_API_HOST, '127.0.0.1')}:${c.DRYDOCK_API_PORT}`,
    webUrl,
    publicUrl: (c.DRYDOCK_PUBLIC_URL ?? webUrl).replace(/\/$/, ''),
  };
  const problems: string[] = [];
  const oidc = oidcSettings(c, urls.publicUrl, problems);
  const kerberos = kerberosSettings(c, urls.publicUrl, problems);
  const vault = vaultSettings(c, problems);
  const smtp = smtpSettings(c, problems);
  const pagerduty = pagerdutySettings(c, problems);
  if (c.DRYDOCK_AUTH_MODE === 'local') localModeProblems(c, urls.publicUrl, problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return {
    ...c,
    fromEnv: new Set(keys.filter((k) => env[k] !== undefined && env[k] !== '')),
    blobDir: c.DRYDOCK_BLOB_DIR ? resolve(c.DRYDOCK_BLOB_DIR) : resolve(c.DRYDOCK_DATA_DIR, 'blobs'),
    temporalAddress: c.TEMPORAL_ADDRESS ?? `127.0.0.1:${c.DRYDOCK_TEMPORAL_PORT}`,
    temporalUiUrl: c.DRYDOCK_TEMPORAL_UI_URL ?? `http://localhost:${c.DRYDOCK_TEMPORAL_UI_PORT}`,
    ...urls,
    ...requestEdges(c, urls),
    ...(oidc ? { oidc } : {}),
    ...(kerberos ? { kerberos } : {}),
    ...(vault ? { vault } : {}),
    ...(smtp ? { smtp } : {}),
    notifyTargets: notifyTargetPolicy(c),
    discovery: { maxAddresses: c.DRYDOCK_DISCOVERY_MAX_ADDRESSES, allowPublic: c.DRYDOCK_DISCOVERY_ALLOW_PUBLIC === 'true' },
    ...(c.DRYDOCK_ANTHROPIC_API_KEY
      ? { llm: { apiKey: c.DRYDOCK_ANTHROPIC_API_KEY, baseUrl: c.DRYDOCK_ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com', model: c.DRYDOCK_LLM_MODEL, timeoutMs: c.DRYDOCK_LLM_TIMEOUT * 1000 } }
      : {}),
    ...(c.DRYDOCK_PROMETHEUS_URL ? { prometheus: { url: c.DRYDOCK_PROMETHEUS_URL.replace(/\/+$/, ''), timeoutMs: c.DRYDOCK_PROMETHEUS_TIMEOUT * 1000 } } : {}),
    ...(pagerduty ? { pagerduty } : {}),
  };
}

function oidcSettings(c: RawConfig, publicUrl: string, problems: string[]): OidcSettings | undefined {
  if (!c.DRYDOCK_OIDC_ISSUER) {
    if (c.DRYDOCK_OIDC_CLIENT_ID) problems.push('DRYDOCK_OIDC_CLIENT_ID: set DRYDOCK_OIDC_ISSUER too, or nothing signs in with it');
    return undefined;
  }
  if (!c.DRYDOCK_OIDC_CLIENT_ID) {
    problems.push('DRYDOCK_OIDC_CLIENT_ID: give the client id Drydock is registered with at the provider of DRYDOCK_OIDC_ISSUER');
    return undefined;
  }
  if (!c.DRYDOCK_OIDC_SCOPES.includes('openid')) problems.push('DRYDOCK_OIDC_SCOPES: include openid, or the provider sends no ID token');
  return {
    issuerUrl: c.DRYDOCK_OIDC_ISSUER,
    clientId: c.DRYDOCK_OIDC_CLIENT_ID,
    ...(c.DRYDOCK_OIDC_CLIENT_SECRET ? { clientSecret: c.DRYDOCK_OIDC_CLIENT_SECRET } : {}),
    redirectUri: c.DRYDOCK_OIDC_REDIRECT_URI ?? `${publicUrl}/api/v1/auth/oidc/callback`,
    scopes: c.DRYDOCK_OIDC_SCOPES,
    groupsClaim: c.DRYDOCK_OIDC_GROUPS_CLAIM,
    groupMap: c.DRYDOCK_OIDC_GROUP_MAP,
  };
}

function kerberosSettings(c: RawConfig, publicUrl: string, problems: string[]): KerberosSettings | undefined {
  if (!c.DRYDOCK_KERBEROS_KEYTAB) return undefined;
  if (c.DRYDOCK_KERBEROS_REALMS.length === 0) {
    problems.push('DRYDOCK_KERBEROS_REALMS: name the realms whose users may sign in, comma-separated (e.g. CORP.EXAMPLE.COM)');
    return undefined;
  }
  return {
    keytab: resolve(c.DRYDOCK_KERBEROS_KEYTAB),
    service: c.DRYDOCK_KERBEROS_SERVICE?.replace('/', '@') ?? `HTTP@${new URL(publicUrl).hostname}`,
    realms: c.DRYDOCK_KERBEROS_REALMS.map((r) => r.toUpperCase()),
    ...(c.DRYDOCK_KERBEROS_EMAIL_DOMAIN ? { emailDomain: c.DRYDOCK_KERBEROS_EMAIL_DOMAIN.toLowerCase() } : {}),
  };
}

function vaultSettings(c: RawConfig, problems: string[]): VaultSettings | undefined {
  const approle = c.DRYDOCK_VAULT_ROLE_ID !== undefined || c.DRYDOCK_VAULT_SECRET_ID !== undefined;
  if (!c.DRYDOCK_VAULT_ADDR) {
    if (c.DRYDOCK_VAULT_TOKEN || approle) problems.push('DRYDOCK_VAULT_ADDR: give the address of the Vault these credentials are for');
    return undefined;
  }
  const namespace = c.DRYDOCK_VAULT_NAMESPACE ? { namespace: c.DRYDOCK_VAULT_NAMESPACE } : {};
  if (c.DRYDOCK_VAULT_TOKEN && approle) {
    problems.push('DRYDOCK_VAULT_TOKEN: give a token or an AppRole (DRYDOCK_VAULT_ROLE_ID and DRYDOCK_VAULT_SECRET_ID), not both');
    return undefined;
  }
  if (c.DRYDOCK_VAULT_TOKEN) return { address: c.DRYDOCK_VAULT_ADDR, auth: { method: 'token', token: c.DRYDOCK_VAULT_TOKEN }, ...namespace };
  if (!c.DRYDOCK_VAULT_ROLE_ID || !c.DRYDOCK_VAULT_SECRET_ID) {
    const missing = !c.DRYDOCK_VAULT_ROLE_ID ? 'DRYDOCK_VAULT_ROLE_ID' : 'DRYDOCK_VAULT_SECRET_ID';
    problems.push(
      approle
        ? `${missing}: an AppRole login needs both DRYDOCK_VAULT_ROLE_ID and DRYDOCK_VAULT_SECRET_ID`
        : 'DRYDOCK_VAULT_TOKEN: give a token, or an AppRole as DRYDOCK_VAULT_ROLE_ID and DRYDOCK_VAULT_SECRET_ID, to sign in to DRYDOCK_VAULT_ADDR',
    );
    return undefined;
  }
  return {
    address: c.DRYDOCK_VAULT_ADDR,
    auth: { method: 'approle', roleId: c.DRYDOCK_VAULT_ROLE_ID, secretId: c.DRYDOCK_VAULT_SECRET_ID, mount: c.DRYDOCK_VAULT_APPROLE_MOUNT },
    ...namespace,
  };
}

const SMTP_DEFAULT_PORT = { starttls: 587, tls: 465, none: 25 } as const;

function smtpSettings(c: RawConfig, problems: string[]): SmtpSettings | undefined {
  if (!c.DRYDOCK_SMTP_HOST) {
    if (c.DRYDOCK_SMTP_USER || c.DRYDOCK_SMTP_PASSWORD || c.DRYDOCK_SMTP_FROM) problems.push('DRYDOCK_SMTP_HOST: give the SMTP server that these email settings are for');
    return undefined;
  }
  if (!c.DRYDOCK_SMTP_FROM) {
    problems.push('DRYDOCK_SMTP_FROM: give the sender of notification emails, like "Drydock <drydock@example.com>"');
    return undefined;
  }
  if (!/^[^<>@\s]+@[^<>@\s]+$|^[^<>]*<[^<>@\s]+@[^<>@\s]+>$/.test(c.DRYDOCK_SMTP_FROM.trim())) {
    problems.push('DRYDOCK_SMTP_FROM: write an email address, or a name and an address like "Drydock <drydock@example.com>"');
    return undefined;
  }
  if ((c.DRYDOCK_SMTP_USER === undefined) !== (c.DRYDOCK_SMTP_PASSWORD === undefined)) {
    problems.push(`${c.DRYDOCK_SMTP_USER === undefined ? 'DRYDOCK_SMTP_USER' : 'DRYDOCK_SMTP_PASSWORD'}: an SMTP login needs both DRYDOCK_SMTP_USER and DRYDOCK_SMTP_PASSWORD`);
    return undefined;
  }
  if (c.DRYDOCK_SMTP_SECURITY === 'none' && c.DRYDOCK_SMTP_USER !== undefined && !isLoopbackHost(c.DRYDOCK_SMTP_HOST)) {
    problems.push('DRYDOCK_SMTP_SECURITY: none would send the SMTP password in clear to a remote server; use starttls or tls');
    return undefined;
  }
  return {
    host: c.DRYDOCK_SMTP_HOST,
    port: c.DRYDOCK_SMTP_PORT ?? SMTP_DEFAULT_PORT[c.DRYDOCK_SMTP_SECURITY],
    security: c.DRYDOCK_SMTP_SECURITY,
    ...(c.DRYDOCK_SMTP_USER !== undefined && c.DRYDOCK_SMTP_PASSWORD !== undefined ? { auth: { user: c.DRYDOCK_SMTP_USER, password: c.DRYDOCK_SMTP_PASSWORD } } : {}),
    from: c.DRYDOCK_SMTP_FROM.trim(),
  };
}

function pagerdutySettings(c: RawConfig, problems: string[]): PagerdutySettings | undefined {
  if (!c.DRYDOCK_PAGERDUTY_API_TOKEN) {
    if (c.DRYDOCK_PAGERDUTY_FROM_EMAIL) problems.push('DRYDOCK_PAGERDUTY_API_TOKEN: give the PagerDuty API token that DRYDOCK_PAGERDUTY_FROM_EMAIL acts with');
    return undefined;
  }
  if (!c.DRYDOCK_PAGERDUTY_FROM_EMAIL) {
    problems.push('DRYDOCK_PAGERDUTY_FROM_EMAIL: PagerDuty requires the email of the user Drydock acts as on every change; give one');
    return undefined;
  }
  return { apiUrl: c.DRYDOCK_PAGERDUTY_API_URL.replace(/\/+$/, ''), token: c.DRYDOCK_PAGERDUTY_API_TOKEN, fromEmail: c.DRYDOCK_PAGERDUTY_FROM_EMAIL };
}

/**
 * The local mode lets anyone who reaches the API act as its admin: only this machine may reach it. A wildcard or
 * a network address, or a public URL that is not loopback, says other people are meant to, and they need accounts.
 */
function localModeProblems(c: RawConfig, publicUrl: string, problems: string[]): void {
  const fix = 'DRYDOCK_AUTH_MODE=local lets every request act as the admin, so it is for one person on this machine only; unset DRYDOCK_AUTH_MODE (accounts) to serve others';
  for (const [name, listen] of [['DRYDOCK_API_HOST', c.DRYDOCK_API_HOST], ['DRYDOCK_WEB_HOST', c.DRYDOCK_WEB_HOST]] as const) {
    const host = hostNameOf(listen);
    if (!host || WILDCARD_ADDRESSES.has(listen) || !isLoopbackHost(host)) problems.push(`${name}: ${listen} is not a loopback address; ${fix}`);
  }
  if (!isLoopbackHost(new URL(publicUrl).hostname)) problems.push(`DRYDOCK_PUBLIC_URL: ${publicUrl} is not a loopback address; ${fix}`);
}

/** Set, the setting decides; unset, a server that listens only on loopback (npm start on one machine) may reach loopback receivers. */
function notifyTargetPolicy(c: RawConfig): NotifyTargetPolicy {
  if (c.DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS !== undefined) {
    const allow = c.DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS === 'true';
    return { loopback: allow, privateNetworks: allow };
  }
  return { loopback: isLoopbackHost(c.DRYDOCK_API_HOST), privateNetworks: false };
}
