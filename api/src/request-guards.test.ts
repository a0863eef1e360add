import { randomBytes } from 'node:crypto';
import { loadConfig } from '@drydock/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from './app.ts';
import type { ApiDeps } from './context.ts';

// The local mode: a request without credentials reaches the route as the local admin, so the edge is what is tested.
const config = loadConfig({ DRYDOCK_AUTH_MODE: 'local', DRYDOCK_CODEC_KEY: randomBytes(32).toString('base64') });
const localUser = { id: 'u1', name: 'Admin', email: 'admin@drydock.local', role: 'admin', team_id: 'default' };
// A database that fails every query the way a broken dependency would: the route cannot answer.
const brokenDb = new Proxy({}, { get: () => () => { throw new Error('the database fell over'); } });
const app = createApp({ config, db: brokenDb, temporal: {}, catalog: {}, logBus: {}, localUser } as unknown as ApiDeps);

afterEach(() => vi.restoreAllMocks());

describe('the API edge', () => {
  it('fails only the request on an unexpected error: a 500 with a request id in the body, the header and the one log line', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await app.request('/api/v1/runs');
    expect(res.status).toBe(500);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error).toEqual({ code: 'internal', message: `internal error; the API log has the details under request ${id}`, requestId: id });
    expect(JSON.stringify(body)).not.toContain('database fell over');
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]?.[0]).toBe(`request ${id}: GET /api/v1/runs failed:`);
    expect((logged.mock.calls[0]?.[1] as Error).stack).toContain('the database fell over');
  });

  it('keeps a caller’s plain request id, and replaces one it could not log as it is', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect((await app.request('/api/v1/runs', { headers: { 'x-request-id': 'web-1234' } })).headers.get('x-request-id')).toBe('web-1234');
    expect((await app.request('/api/v1/runs', { headers: { 'x-request-id': 'a b' } })).headers.get('x-request-id')).not.toBe('a b');
  });

  it('answers unusable text with a 400 naming the field and logs nothing', async () => {
    const error = vi.spyOn(console, 'error');
    const warn = vi.spyOn(console, 'warn');
    const res = await app.request('/api/v1/runs?script=%00');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'invalid', message: 'query parameter script contains a NUL character (\\u0000 or %00); remove it', fields: { script: ['contains a NUL character (\\u0000 or %00); remove it'] } } });
    const deep = await app.request('/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(10_000) + ']'.repeat(10_000) });
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { error: { message: string } }).error.message).toContain('nested deeper than 64 levels');
    const notUtf8 = await app.request('/api/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array([0x22, 0xff, 0x22]) });
    expect(((await notUtf8.json()) as { error: { fields: unknown } }).error.fields).toEqual({ body: ['is not valid UTF-8'] });
    expect(error).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
  });

  it('sends the headers that apply to JSON: nosniff, no-store, no framing, no referrer', async () => {
    const res = await app.request('/api/v1/openapi.json');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('refuses a foreign Host with 421 and a cross-site write with 403, each in one log line', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const rebound = await app.request('http://rebind.example:3001/api/v1/me');
    expect(rebound.status).toBe(421);
    expect(((await rebound.json()) as { error: { message: string } }).error.message).toContain('DRYDOCK_PUBLIC_URL');
    const forged = await app.request('/api/v1/runs/r1/cancel', { method: 'POST', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(forged.status).toBe(403);
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('lets Temporal Web call the codec from its own origin, and no other site', async () => {
    const payloads = { payloads: [] };
    const fromTemporalWeb = await app.request('http://127.0.0.1:3001/api/v1/codec/decode', {
      method: 'POST',
      headers: { origin: 'http://localhost:8233', 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      body: JSON.stringify(payloads),
    });
    expect(fromTemporalWeb.status).toBe(200);
    expect(fromTemporalWeb.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const fromElsewhere = await app.request('/api/v1/codec/decode', {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      body: JSON.stringify(payloads),
    });
    expect(fromElsewhere.status).toBe(403);
  });
});
