import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getWithRetry } from './api-link.ts';

// A real HTTP server that answers each path with a scripted list of statuses, one per request.
const scripts = new Map<string, number[]>();
const seen: { path: string; auth: string | undefined }[] = [];
let server: Server;
let apiUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization });
    const status = scripts.get(req.url ?? '')?.shift() ?? 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? '{"ok":true}' : JSON.stringify({ error: { message: `scripted ${status}` } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('getWithRetry', () => {
  test('waits out an API that answers 503 and 429, with the current token each time', async () => {
    scripts.set('/away', [503, 429]);
    let token = 0;
    const res = await getWithRetry({ url: `${apiUrl}/away`, apiUrl, token: () => `t${++token}`, tries: 5, signal: new AbortController().signal });
    expect(typeof res === 'string' ? res : await res.json()).toEqual({ ok: true });
    expect(seen.filter((s) => s.path === '/away').map((s) => s.auth)).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3']);
  });

  test('stops at a 4xx and says what the API said', async () => {
    scripts.set('/gone', [404, 404]);
    const res = await getWithRetry({ url: `${apiUrl}/gone`, apiUrl, token: () => 't', tries: 5, signal: new AbortController().signal });
    expect(res).toBe('the API answered HTTP 404: scripted 404');
    expect(seen.filter((s) => s.path === '/gone')).toHaveLength(1);
  });

  test('hands back an answer the caller reads itself', async () => {
    scripts.set('/vault', [503]);
    const res = await getWithRetry({ url: `${apiUrl}/vault`, apiUrl, token: () => 't', tries: 5, signal: new AbortController().signal, final: (r) => r.status === 503 });
    expect(typeof res === 'string' ? res : res.status).toBe(503);
  });

  test('says why the last try failed when the API cannot be reached', async () => {
    const closed = 'http://127.0.0.1:9';
    const res = await getWithRetry({ url: `${closed}/x`, apiUrl: closed, token: () => 't', tries: 2, signal: new AbortController().signal });
    expect(res).toMatch(/^could not reach the API at http:\/\/127\.0\.0\.1:9: /);
  });
});
