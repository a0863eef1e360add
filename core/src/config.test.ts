import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, REPO_ROOT } from './config.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('runs with no settings at all, on local defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      DRYDOCK_TEAM: 'default',
      DRYDOCK_DATA_DIR: join(REPO_ROOT, '.data'),
      TEMPORAL_NAMESPACE: 'default',
      DRYDOCK_AUTH_MODE: 'accounts',
      DRYDOCK_AGENT_HOST: 'local',
      DRYDOCK_AGENT_OFFLINE_TIMEOUT: 60,
      DRYDOCK_CODEC_KEY_ID: 'k1',
      DRYDOCK_LOG_LEVEL: 'info',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.DRYDOCK_CODEC_KEY).toBeUndefined();
    // The sample catalog is what npm start serves; a bare install serves only the repositories it is given.
    expect(config.DRYDOCK_CATALOG_DIR).toBeUndefined();
    expect(config.DRYDOCK_AGENT_TAGS).toEqual([]);
  });

  it('derives the URLs from the default hosts and ports', () => {
    expect(loadConfig({})).toMatchObject({
      apiUrl: 'http://127.0.0.1:3001',
      temporalAddress: '127.0.0.1:7233',
      temporalUiUrl: 'http://localhost:8233',
      webUrl: 'http://127.0.0.1:3000',
    });
  });

  it('derives the URLs from the ports and hosts it is given', () => {
    const config = loadConfig({
      DRYDOCK_API_HOST: '10.0.0.5',
      DRYDOCK_API_PORT: '4001',
      DRYDOCK_TEMPORAL_PORT: '7300',
      DRYDOCK_TEMPORAL_UI_PORT: '8300',
      DRYDOCK_WEB_HOST: '0.0.0.0',
      DRYDOCK_WEB_PORT: '4000',
    });
    expect(config).toMatchObject({
      DRYDOCK_API_PORT: 4001,
      apiUrl: 'http://10.0.0.5:4001',
      temporalAddress: '127.0.0.1:7300',
      temporalUiUrl: 'http://localhost:8300',
      webUrl: 'http://localhost:4000',
    });
  });

  it('prefers explicit URLs and addresses over derived ones', () => {
    const config = loadConfig({
      DRYDOCK_API_URL: 'https://drydock.example.com',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      DRYDOCK_TEMPORAL_UI_URL: 'https://temporal.example.com',
      DRYDOCK_API_PORT: '4001',
    });
    expect(config).toMatchObject({
      apiUrl: 'https://drydock.example.com',
      temporalAddress: 'temporal.internal:7233',
      temporalUiUrl: 'https://temporal.example.com',
    });
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('accepts a 32-byte codec key', () => {
    const key = randomBytes(32).toString('base64');
    expect(loadConfig({ DRYDOCK_CODEC_KEY: key }).DRYDOCK_CODEC_KEY).toBe(key);
  });

  it.each(['http', '0', '65536', '30.5'])('rejects the port %j, naming the variable', (value) => {
    const err = configError({ DRYDOCK_API_PORT: value });
    expect(err.message).toMatch(/^\s*DRYDOCK_API_PORT: /m);
  });

  it('rejects a 31-byte codec key, saying what it must be', () => {
    const err = configError({ DRYDOCK_CODEC_KEY: randomBytes(31).toString('base64') });
    expect(err.message).toContain('DRYDOCK_CODEC_KEY must be 32 bytes, base64-encoded');
  });

  it('lists every invalid variable in one error', () => {
    const err = configError({ DRYDOCK_WEB_PORT: 'web', DRYDOCK_LOG_LEVEL: 'verbose', DRYDOCK_API_URL: 'not a url' });
    for (const name of ['DRYDOCK_WEB_PORT', 'DRYDOCK_LOG_LEVEL', 'DRYDOCK_API_URL']) expect(err.message).toMatch(new RegExp(`^\\s*${name}: `, 'm'));
  });
});

describe('sign-in and secret settings', () => {
  it('has no open admin unless asked: accounts is the default mode', () => {
    expect(loadConfig({}).DRYDOCK_AUTH_MODE).toBe('accounts');
    expect(loadConfig({ DRYDOCK_AUTH_MODE: 'local' }).DRYDOCK_AUTH_MODE).toBe('local');
    expect(configError({ DRYDOCK_AUTH_MODE: 'open' }).message).toContain('DRYDOCK_AUTH_MODE is accounts or local');
  });

  it('takes the local mode only when nothing but this machine can reach it', () => {
    const local = { DRYDOCK_AUTH_MODE: 'local' };
    expect(loadConfig({ ...local, DRYDOCK_API_HOST: '::1', DRYDOCK_WEB_HOST: 'localhost', DRYDOCK_PUBLIC_URL: 'http://127.0.0.2:3000' }).publicUrl).toBe('http://127.0.0.2:3000');
    expect(configError({ ...local, DRYDOCK_API_HOST: '0.0.0.0' }).message).toMatch(/DRYDOCK_API_HOST: 0\.0\.0\.0 is not a loopback address; .*unset DRYDOCK_AUTH_MODE/);
    expect(configError({ ...local, DRYDOCK_WEB_HOST: '10.0.0.5' }).message).toContain('DRYDOCK_WEB_HOST: 10.0.0.5 is not a loopback address');
    expect(configError({ ...local, DRYDOCK_PUBLIC_URL: 'https://drydock.example.com' }).message).toContain('DRYDOCK_PUBLIC_URL: https://drydock.example.com is not a loopback address');
    // The same addresses serve others in accounts mode, where everyone signs in.
    expect(loadConfig({ DRYDOCK_API_HOST: '0.0.0.0', DRYDOCK_WEB_HOST: '0.0.0.0', DRYDOCK_PUBLIC_URL: 'https://drydock.example.com' }).DRYDOCK_AUTH_MODE).toBe('accounts');
  });

  it('has no OpenID Connect, Kerberos or Vault unless configured', () => {
    const config = loadConfig({});
    expect(config.oidc).toBeUndefined();
    expect(config.kerberos).toBeUndefined();
    expect(config.vault).toBeUndefined();
  });

  it('builds the OpenID Connect settings, with the redirect URI on the public URL and the group map checked', () => {
    const config = loadConfig({
      DRYDOCK_PUBLIC_URL: 'https://drydock.example.com/',
      DRYDOCK_OIDC_ISSUER: 'https://login.example.com/realms/corp',
      DRYDOCK_OIDC_CLIENT_ID: 'drydock',
      DRYDOCK_OIDC_CLIENT_SECRET: 's3cret-value',
      DRYDOCK_OIDC_SCOPES: 'openid email, profile groups',
      DRYDOCK_OIDC_GROUP_MAP: '{"drydock-admins":{"team":"platform","role":"admin"}}',
    });
    expect(config.oidc).toEqual({
      issuerUrl: 'https://login.example.com/realms/corp',
      clientId: 'drydock',
      clientSecret: 's3cret-value',
      redirectUri: 'https://drydock.example.com/api/v1/auth/oidc/callback',
      scopes: ['openid', 'email', 'profile', 'groups'],
      groupsClaim: 'groups',
      groupMap: { 'drydock-admins': [{ team: 'platform', role: 'admin' }] },
    });
  });

  it('names what is wrong in an OpenID Connect set-up, never the secret', () => {
    const missingClient = configError({ DRYDOCK_OIDC_ISSUER: 'https://login.example.com', DRYDOCK_OIDC_CLIENT_SECRET: 'never-print-me' });
    expect(missingClient.message).toMatch(/^\s*DRYDOCK_OIDC_CLIENT_ID: give the client id/m);
    expect(missingClient.message).not.toContain('never-print-me');

    const badJson = configError({ DRYDOCK_OIDC_ISSUER: 'https://login.example.com', DRYDOCK_OIDC_CLIENT_ID: 'd', DRYDOCK_OIDC_GROUP_MAP: '{"a":' });
    expect(badJson.message).toMatch(/^\s*DRYDOCK_OIDC_GROUP_MAP: not valid JSON/m);
    const badRole = configError({ DRYDOCK_OIDC_GROUP_MAP: '{"ops":{"team":"platform","role":"root"}}' });
    expect(badRole.message).toMatch(/^\s*DRYDOCK_OIDC_GROUP_MAP\.ops\.0\.role: /m);
    expect(configError({ DRYDOCK_OIDC_ISSUER: 'https://l.example.com', DRYDOCK_OIDC_CLIENT_ID: 'd', DRYDOCK_OIDC_SCOPES: 'email' }).message).toContain(
      'DRYDOCK_OIDC_SCOPES: include openid',
    );
  });

  it('builds the Kerberos settings, the service from the public URL and the realms in upper case', () => {
    const config = loadConfig({
      DRYDOCK_PUBLIC_URL: 'https://drydock.corp.example.com',
      DRYDOCK_KERBEROS_KEYTAB: '/etc/drydock/http.keytab',
      DRYDOCK_KERBEROS_REALMS: 'corp.example.com, EMEA.CORP.EXAMPLE.COM',
    });
    expect(config.kerberos).toEqual({
      keytab: '/etc/drydock/http.keytab',
      service: 'HTTP@drydock.corp.example.com',
      realms: ['CORP.EXAMPLE.COM', 'EMEA.CORP.EXAMPLE.COM'],
    });
    expect(loadConfig({ DRYDOCK_KERBEROS_KEYTAB: '/k', DRYDOCK_KERBEROS_REALMS: 'A', DRYDOCK_KERBEROS_SERVICE: 'HTTP/drydock.internal' }).kerberos?.service).toBe(
      'HTTP@drydock.internal',
    );
    expect(loadConfig({ DRYDOCK_KERBEROS_KEYTAB: '/k', DRYDOCK_KERBEROS_REALMS: 'A', DRYDOCK_KERBEROS_EMAIL_DOMAIN: 'Example.COM' }).kerberos?.emailDomain).toBe('example.com');
  });

  it('wants the realms a keytab serves, and a service principal without a realm', () => {
    expect(configError({ DRYDOCK_KERBEROS_KEYTAB: '/k' }).message).toMatch(/^\s*DRYDOCK_KERBEROS_REALMS: name the realms/m);
    expect(configError({ DRYDOCK_KERBEROS_SERVICE: 'HTTP/drydock@CORP.EXAMPLE.COM' }).message).toMatch(/^\s*DRYDOCK_KERBEROS_SERVICE: write the service principal/m);
    expect(configError({ DRYDOCK_KERBEROS_EMAIL_DOMAIN: '@example.com' }).message).toMatch(/^\s*DRYDOCK_KERBEROS_EMAIL_DOMAIN: write a mail domain such as example.com, without @/m);
  });

  it('signs in to Vault with a token or with an AppRole', () => {
    expect(loadConfig({ DRYDOCK_VAULT_ADDR: 'https://vault.example.com:8200', DRYDOCK_VAULT_TOKEN: 'hvs.x' }).vault).toEqual({
      address: 'https://vault.example.com:8200',
      auth: { method: 'token', token: 'hvs.x' },
    });
    expect(
      loadConfig({ DRYDOCK_VAULT_ADDR: 'https://vault.example.com', DRYDOCK_VAULT_ROLE_ID: 'r', DRYDOCK_VAULT_SECRET_ID: 's', DRYDOCK_VAULT_NAMESPACE: 'ops' }).vault,
    ).toEqual({ address: 'https://vault.example.com', auth: { method: 'approle', roleId: 'r', secretId: 's', mount: 'approle' }, namespace: 'ops' });
  });

  it('names what a Vault set-up lacks, never the token or the secret id', () => {
    const both = configError({ DRYDOCK_VAULT_ADDR: 'https://v.example.com', DRYDOCK_VAULT_TOKEN: 'tok-never-print', DRYDOCK_VAULT_ROLE_ID: 'r', DRYDOCK_VAULT_SECRET_ID: 'sid-never-print' });
    expect(both.message).toMatch(/^\s*DRYDOCK_VAULT_TOKEN: give a token or an AppRole .*not both/m);
    expect(both.message).not.toMatch(/never-print/);
    expect(configError({ DRYDOCK_VAULT_ADDR: 'https://v.example.com', DRYDOCK_VAULT_ROLE_ID: 'r' }).message).toMatch(
      /^\s*DRYDOCK_VAULT_SECRET_ID: an AppRole login needs both/m,
    );
    expect(configError({ DRYDOCK_VAULT_ADDR: 'https://v.example.com' }).message).toMatch(/^\s*DRYDOCK_VAULT_TOKEN: give a token, or an AppRole/m);
    expect(configError({ DRYDOCK_VAULT_TOKEN: 't' }).message).toMatch(/^\s*DRYDOCK_VAULT_ADDR: give the address/m);
    expect(configError({ DRYDOCK_VAULT_APPROLE_MOUNT: '/approle/' }).message).toMatch(/^\s*DRYDOCK_VAULT_APPROLE_MOUNT: give the path the AppRole auth method is mounted at/m);
  });
});

describe('notification settings', () => {
  it('has no SMTP server unless configured, and a ten-second delivery timeout', () => {
    const config = loadConfig({});
    expect(config.smtp).toBeUndefined();
    expect(config.DRYDOCK_NOTIFY_TIMEOUT).toBe(10);
  });

  it('builds the SMTP settings: STARTTLS on 587 by default, implicit TLS on 465, a login only as a pair', () => {
    expect(loadConfig({ DRYDOCK_SMTP_HOST: 'smtp.example.com', DRYDOCK_SMTP_FROM: 'Drydock <drydock@example.com>', DRYDOCK_SMTP_USER: 'drydock', DRYDOCK_SMTP_PASSWORD: 'pw' }).smtp).toEqual({
      host: 'smtp.example.com',
      port: 587,
      security: 'starttls',
      auth: { user: 'drydock', password: 'pw' },
      from: 'Drydock <drydock@example.com>',
    });
    expect(loadConfig({ DRYDOCK_SMTP_HOST: 'smtp.example.com', DRYDOCK_SMTP_FROM: 'drydock@example.com', DRYDOCK_SMTP_SECURITY: 'tls' }).smtp).toMatchObject({ port: 465, security: 'tls' });
    expect(loadConfig({ DRYDOCK_SMTP_HOST: '127.0.0.1', DRYDOCK_SMTP_PORT: '2525', DRYDOCK_SMTP_FROM: 'd@x.test', DRYDOCK_SMTP_SECURITY: 'none' }).smtp).toMatchObject({ port: 2525, security: 'none' });
  });

  it('names what an SMTP set-up lacks, never the password', () => {
    expect(configError({ DRYDOCK_SMTP_HOST: 'smtp.example.com' }).message).toMatch(/^\s*DRYDOCK_SMTP_FROM: give the sender/m);
    expect(configError({ DRYDOCK_SMTP_HOST: 'smtp.example.com', DRYDOCK_SMTP_FROM: 'Drydock' }).message).toMatch(/^\s*DRYDOCK_SMTP_FROM: write an email address/m);
    const half = configError({ DRYDOCK_SMTP_HOST: 'smtp.example.com', DRYDOCK_SMTP_FROM: 'd@example.com', DRYDOCK_SMTP_PASSWORD: 'pw-never-print' });
    expect(half.message).toMatch(/^\s*DRYDOCK_SMTP_USER: an SMTP login needs both/m);
    expect(half.message).not.toMatch(/never-print/);
    const clear = configError({ DRYDOCK_SMTP_HOST: 'smtp.example.com', DRYDOCK_SMTP_FROM: 'd@example.com', DRYDOCK_SMTP_SECURITY: 'none', DRYDOCK_SMTP_USER: 'u', DRYDOCK_SMTP_PASSWORD: 'p' });
    expect(clear.message).toMatch(/^\s*DRYDOCK_SMTP_SECURITY: none would send the SMTP password in clear/m);
    expect(configError({ DRYDOCK_SMTP_PASSWORD: 'p' }).message).toMatch(/^\s*DRYDOCK_SMTP_HOST: give the SMTP server/m);
    expect(configError({ DRYDOCK_SMTP_SECURITY: 'ssl' }).message).toMatch(/DRYDOCK_SMTP_SECURITY: DRYDOCK_SMTP_SECURITY is starttls, tls or none/);
  });

  it('lets webhooks reach loopback when the API listens on loopback, private networks only when allowed', () => {
    expect(loadConfig({}).notifyTargets).toEqual({ loopback: true, privateNetworks: false });
    expect(loadConfig({ DRYDOCK_API_HOST: '0.0.0.0' }).notifyTargets).toEqual({ loopback: false, privateNetworks: false });
    expect(loadConfig({ DRYDOCK_API_HOST: '0.0.0.0', DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS: 'true' }).notifyTargets).toEqual({ loopback: true, privateNetworks: true });
    expect(loadConfig({ DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS: 'false' }).notifyTargets).toEqual({ loopback: false, privateNetworks: false });
    expect(loadConfig({ DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS: '' }).notifyTargets).toEqual({ loopback: true, privateNetworks: false });
    expect(configError({ DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS: 'yes' }).message).toMatch(/DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS is true or false/);
  });

  it('caps target discovery at 4,096 private addresses unless told otherwise, and never above a /16', () => {
    expect(loadConfig({}).discovery).toEqual({ maxAddresses: 4096, allowPublic: false });
    expect(loadConfig({ DRYDOCK_DISCOVERY_MAX_ADDRESSES: '256', DRYDOCK_DISCOVERY_ALLOW_PUBLIC: 'true' }).discovery).toEqual({ maxAddresses: 256, allowPublic: true });
    expect(loadConfig({ DRYDOCK_DISCOVERY_ALLOW_PUBLIC: '' }).discovery.allowPublic).toBe(false);
    expect(configError({ DRYDOCK_DISCOVERY_MAX_ADDRESSES: '1000000' }).message).toMatch(/DRYDOCK_DISCOVERY_MAX_ADDRESSES: DRYDOCK_DISCOVERY_MAX_ADDRESSES is at most 65536 \(a \/16\)/);
    expect(configError({ DRYDOCK_DISCOVERY_MAX_ADDRESSES: 'lots' }).message).toMatch(/DRYDOCK_DISCOVERY_MAX_ADDRESSES is a number of addresses/);
    expect(configError({ DRYDOCK_DISCOVERY_ALLOW_PUBLIC: 'yes' }).message).toMatch(/DRYDOCK_DISCOVERY_ALLOW_PUBLIC is true or false/);
  });
});

describe('incident settings', () => {
  it('has no LLM, Prometheus or PagerDuty unless configured', () => {
    const config = loadConfig({});
    expect(config.llm).toBeUndefined();
    expect(config.prometheus).toBeUndefined();
    expect(config.pagerduty).toBeUndefined();
    expect(config.DRYDOCK_LLM_MODEL).toBe('claude-sonnet-5-5');
  });

  it('builds the LLM, Prometheus and PagerDuty settings from their variables', () => {
    const config = loadConfig({
      DRYDOCK_ANTHROPIC_API_KEY: 'sk-ant-never-print',
      DRYDOCK_LLM_MODEL: 'claude-opus-5-5',
      DRYDOCK_LLM_TIMEOUT: '20',
      DRYDOCK_PROMETHEUS_URL: 'http://prometheus:9090/',
      DRYDOCK_PAGERDUTY_API_TOKEN: 'pd-token-never-print',
      DRYDOCK_PAGERDUTY_FROM_EMAIL: 'drydock@example.com',
    });
    expect(config.llm).toEqual({ apiKey: 'sk-ant-never-print', baseUrl: 'https://api.anthropic.com', model: 'claude-opus-5-5', timeoutMs: 20_000 });
    expect(config.prometheus).toEqual({ url: 'http://prometheus:9090', timeoutMs: 10_000 });
    expect(config.pagerduty).toEqual({ apiUrl: 'https://api.pagerduty.com', token: 'pd-token-never-print', fromEmail: 'drydock@example.com' });
    expect(loadConfig({ DRYDOCK_ANTHROPIC_API_KEY: 'k', DRYDOCK_ANTHROPIC_BASE_URL: 'http://127.0.0.1:8080' }).llm?.baseUrl).toBe('http://127.0.0.1:8080');
  });

  it('names what a PagerDuty set-up lacks, never the token', () => {
    const noFrom = configError({ DRYDOCK_PAGERDUTY_API_TOKEN: 'pd-token-never-print' });
    expect(noFrom.message).toMatch(/^\s*DRYDOCK_PAGERDUTY_FROM_EMAIL: PagerDuty requires the email of the user Drydock acts as/m);
    expect(noFrom.message).not.toContain('never-print');
    expect(configError({ DRYDOCK_PAGERDUTY_FROM_EMAIL: 'drydock@example.com' }).message).toMatch(/^\s*DRYDOCK_PAGERDUTY_API_TOKEN: give the PagerDuty API token/m);
    expect(configError({ DRYDOCK_PAGERDUTY_API_TOKEN: 't', DRYDOCK_PAGERDUTY_FROM_EMAIL: 'Drydock' }).message).toMatch(/DRYDOCK_PAGERDUTY_FROM_EMAIL: DRYDOCK_PAGERDUTY_FROM_EMAIL is the email of a PagerDuty user/);
    expect(configError({ DRYDOCK_LLM_TIMEOUT: '0' }).message).toMatch(/DRYDOCK_LLM_TIMEOUT/);
  });
});
