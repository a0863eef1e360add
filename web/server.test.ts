import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { freePort, loadConfig } from '@drydock/core';
import { createWebApp, listen } from './server.ts';

// Stands in for the API's wire protocol (JSON + an event stream the test releases step by step).
let upstream: Server;
let seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
let releaseEnd: () => void = () => {};

let web: Server;
let webUrl: string;
let clientDir: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/api/v1/runs/r1/log') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: log\nid: 1:0\ndata: {"line":"first"}\n\n');
        releaseEnd = () => res.end('event: end\ndata: {}\n\n');
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json', 'set-cookie': 'sid=new; Path=/' });
      res.end(JSON.stringify({ echoed: body }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  clientDir = mkdtempSync(join(tmpdir(), 'drydock-web-'));
  mkdirSync(join(clientDir, 'assets'));
  writeFileSync(join(clientDir, 'assets', 'app-abc123.js'), 'console.log(1)');

  const port = await freePort();
  const app = createWebApp({
    config: loadConfig({ DRYDOCK_API_URL: apiUrl, DRYDOCK_WEB_PORT: String(port) }),
    clientDir,
    handleDocument: async (request) => (request.method === 'POST' ? new Response('action ran', { status: 200 }) : new Response(`page ${new URL(request.url).pathname}`)),
  });
  web = await listen(app, port, '127.0.0.1');
  webUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  web.closeAllConnections();
  upstream.closeAllConnections();
  await Promise.all([new Promise((r) => web.close(r)), new Promise((r) => upstream.close(r))]);
  rmSync(clientDir, { recursive: true, force: true });
});

describe('web server', () => {
  test('forwards API calls with their method, body, cookie and client address', async () => {
    seen = [];
    const res = await fetch(`${webUrl}/api/v1/runs?x=1`, {
      method: 'POST',
      headers: { cookie: 'sid=abc', 'user-agent': 'drydock-test', 'content-type': 'application/json' },
      body: JSON.stringify({ scriptId: 'hello' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).toBe('sid=new; Path=/');
    expect(await res.json()).toEqual({ echoed: '{"scriptId":"hello"}' });
    const [call] = seen;
    expect(call).toMatchObject({ method: 'POST', url: '/api/v1/runs?x=1' });
    expect(call?.headers).toMatchObject({ cookie: 'sid=abc', 'user-agent': 'drydock-test' });
    expect(call?.headers['x-forwarded-for']).toMatch(/127\.0\.0\.1/);
  });

  test('streams an event stream through as events are sent, before the API ends it', async () => {
    const res = await fetch(`${webUrl}/api/v1/runs/r1/log`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    expect(first.value).toContain('"line":"first"');
    releaseEnd();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += chunk.value;
    expect(rest).toContain('event: end');
  });

  test('fails only the request when a page throws: a 500 naming the request id, logged once with the stack', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const app = createWebApp({
      config: loadConfig({}),
      clientDir,
      handleDocument: async () => {
        throw new Error('the page blew up');
      },
    });
    const res = await app.request('/runs/r1', {}, { incoming: { socket: { remoteAddress: '127.0.0.1' } } } as never);
    expect(res.status).toBe(500);
    const id = res.headers.get('x-request-id');
    expect(await res.text()).toBe(`The web UI could not answer this request; its log has the details under request ${id}.`);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]?.[0]).toBe(`web: request ${id}: GET /runs/r1 failed:`);
    expect((logged.mock.calls[0]?.[1] as Error).stack).toContain('the page blew up');
    logged.mockRestore();
  });

  test('answers 502 with an API-shaped error when the API is down', async () => {
    const app = createWebApp({ config: loadConfig({ DRYDOCK_API_URL: 'http://127.0.0.1:9' }), clientDir, handleDocument: async () => new Response('') });
    const res = await app.request('/health', {}, { incoming: { socket: { remoteAddress: '127.0.0.1' } } } as never);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('api_unreachable');
  });

  test('serves hashed assets as immutable and hands pages to React Router', async () => {
    const asset = await fetch(`${webUrl}/assets/app-abc123.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).toBe('console.log(1)');
    const page = await fetch(`${webUrl}/runs/r1`);
    expect(await page.text()).toBe('page /runs/r1');
    expect(page.headers.get('cache-control')).toBeNull();
  });

  test('answers only for its configured host names: another Host is refused before the API or a page sees it', async () => {
    seen = [];
    for (const path of ['/api/v1/runs', '/runs']) {
      const res = await rawRequest(path, { host: 'evil.example:3000' });
      expect(res.status).toBe(421);
      expect(res.body).toContain('DRYDOCK_ALLOWED_HOSTS');
    }
    expect(seen).toEqual([]);
    expect((await rawRequest('/runs', { host: 'localhost:3000' })).status).toBe(200);
  });

  test('refuses a cross-site POST to a page action or to the API, and lets its own pages and programs post', async () => {
    seen = [];
    const crossSite = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
    const action = await fetch(`${webUrl}/runs/r1`, { method: 'POST', headers: crossSite });
    expect(action.status).toBe(403);
    expect(await action.text()).toContain('a page of another site sent it');
    const api = await fetch(`${webUrl}/api/v1/runs/r1/cancel`, { method: 'POST', headers: crossSite });
    expect(api.status).toBe(403);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    expect(seen).toEqual([]);

    const own = await fetch(`${webUrl}/runs/r1`, { method: 'POST', headers: { origin: webUrl, 'sec-fetch-site': 'same-origin' } });
    expect(await own.text()).toBe('action ran');
    expect((await fetch(`${webUrl}/api/v1/runs/r1/cancel`, { method: 'POST' })).status).toBe(201);
    expect(seen[0]?.headers.origin).toBeUndefined();
  });

  test('sends security headers with everything, and a request id the API shares', async () => {
    seen = [];
    for (const path of ['/assets/app-abc123.js', '/runs/r1', '/api/v1/runs']) {
      const res = await fetch(`${webUrl}${path}`);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('strict-origin-when-cross-origin');
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('strict-transport-security'), path).toBeNull();
      expect(res.headers.get('x-request-id'), path).toMatch(/^[\w-]{36}$/);
    }
    expect(seen[0]?.headers['x-request-id']).toMatch(/^[\w-]{36}$/);
    const tls = await fetch(`${webUrl}/runs/r1`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(tls.headers.get('strict-transport-security')).toBe('max-age=31536000');
  });
});

/** A request with a Host header of the test's choosing, which fetch does not allow. */
function rawRequest(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${webUrl}${path}`, { headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
