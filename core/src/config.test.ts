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
      DRYDOCK_AUTH_MODE: 'local',
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
