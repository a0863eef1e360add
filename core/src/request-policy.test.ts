import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { crossSiteRefusal, findUnsafeJson, hostRefusal, unsafeTextProblem } from './request-policy.ts';

const config = loadConfig({ DRYDOCK_PUBLIC_URL: 'https://drydock.example.com', DRYDOCK_ALLOWED_HOSTS: 'drydock-api.internal' });
const rule = { allowedOrigins: config.allowedOrigins };
const post = (origin?: string, fetchSite?: string, path = '/api/v1/runs/x/cancel') => crossSiteRefusal({ method: 'POST', path, origin, fetchSite }, rule);

describe('the allowed hosts and origins', () => {
  it('are the names of the configured URLs, loopback and the extra names', () => {
    expect([...config.allowedHosts].sort()).toEqual(['127.0.0.1', '[::1]', 'drydock-api.internal', 'drydock.example.com', 'localhost']);
    expect(config.allowedOrigins).toContain('https://drydock.example.com');
    expect(config.allowedOrigins).toContain('http://localhost:3000');
    expect(config.allowedOrigins).toContain('http://[::1]:3001');
    expect(config.allowedOrigins).not.toContain('http://localhost:8233');
  });

  it('take a concrete listen address but not a wildcard', () => {
    expect(loadConfig({ DRYDOCK_API_HOST: '10.0.0.5' }).allowedHosts).toContain('10.0.0.5');
    expect(loadConfig({ DRYDOCK_WEB_HOST: '0.0.0.0', DRYDOCK_API_HOST: '::' }).allowedHosts).not.toContain('0.0.0.0');
  });

  it('refuse an extra host that is not a host name', () => {
    expect(() => loadConfig({ DRYDOCK_ALLOWED_HOSTS: 'https://x.example/' })).toThrow(/DRYDOCK_ALLOWED_HOSTS/);
  });
});

describe('hostRefusal', () => {
  it('serves configured names and loopback, with or without a port', () => {
    for (const host of ['localhost:3000', 'LOCALHOST', '127.0.0.1:3001', '127.0.0.2', '[::1]:3000', 'drydock.example.com', 'drydock.example.com.']) {
      expect(hostRefusal(config.allowedHosts, host)).toBeNull();
    }
  });

  it('refuses any other name, and says which setting to change', () => {
    expect(hostRefusal(config.allowedHosts, 'evil.example:3000')).toMatch(/"evil\.example:3000".*DRYDOCK_PUBLIC_URL.*DRYDOCK_ALLOWED_HOSTS/);
    expect(hostRefusal(config.allowedHosts, 'localhost.evil.example')).not.toBeNull();
    expect(hostRefusal(config.allowedHosts, undefined)).toMatch(/no Host header/);
    expect(hostRefusal(config.allowedHosts, 'a b')).not.toBeNull();
  });
});

describe('crossSiteRefusal', () => {
  it('lets programs through: no Origin, no Sec-Fetch-Site', () => {
    expect(post()).toBeNull();
  });

  it('lets the same origin and user-typed navigations through', () => {
    expect(post('http://localhost:3000', 'same-origin')).toBeNull();
    expect(post(undefined, 'none')).toBeNull();
    expect(post('https://drydock.example.com', 'same-site')).toBeNull();
  });

  it('refuses another site, another origin of the same site, and origins nobody configured', () => {
    expect(post('https://evil.example', 'cross-site')).toMatch(/POST \/api\/v1\/runs\/x\/cancel refused: a page of another site/);
    expect(post('http://localhost:8233', 'same-site')).toMatch(/not a Drydock origin/);
    expect(post(undefined, 'same-site')).toMatch(/without an Origin/);
    expect(post('https://evil.example')).toMatch(/DRYDOCK_PUBLIC_URL/);
    expect(post('null', 'same-origin')).not.toBeNull();
  });

  it('leaves reads, webhooks and agents alone', () => {
    expect(crossSiteRefusal({ method: 'GET', path: '/api/v1/runs', origin: 'https://evil.example', fetchSite: 'cross-site' }, rule)).toBeNull();
    expect(post('https://github.com', 'cross-site', '/api/v1/webhooks/repo')).toBeNull();
    expect(post('https://evil.example', 'cross-site', '/api/v1/agent/heartbeat')).toBeNull();
    expect(post('https://evil.example', 'cross-site', '/api/v1/agents/hosts/h1/revoke')).not.toBeNull();
  });

  it('lets a named origin of another site through where the route allows it', () => {
    const codec = { allowedOrigins: config.allowedOrigins, crossSiteOrigins: new Set(['http://localhost:8233']) };
    expect(crossSiteRefusal({ method: 'POST', path: '/api/v1/codec/decode', origin: 'http://localhost:8233', fetchSite: 'cross-site' }, codec)).toBeNull();
    expect(crossSiteRefusal({ method: 'POST', path: '/api/v1/codec/decode', origin: 'https://evil.example', fetchSite: 'cross-site' }, codec)).not.toBeNull();
  });
});

describe('unsafe text', () => {
  it('names NUL characters and lone surrogates', () => {
    expect(unsafeTextProblem('a\0b')).toMatch(/NUL/);
    expect(unsafeTextProblem('\ud800')).toMatch(/surrogate/);
    expect(unsafeTextProblem('🚀 é')).toBeNull();
  });

  it('finds the field at any depth, in keys too, and bounds the nesting', () => {
    expect(findUnsafeJson({ params: { hosts: ['a', 'b\0'] } }, 64)).toEqual({ field: 'params.hosts.1', problem: expect.stringMatching(/NUL/) });
    expect(findUnsafeJson({ params: { ['\udc00']: 1 } }, 64)?.field).toBe('params."\\udc00"');
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnsafeJson(deep, 64)?.problem).toBe('is nested deeper than 64 levels');
    expect(findUnsafeJson({ ok: [1, true, null, 'fine'] }, 64)).toBeNull();
  });
});
