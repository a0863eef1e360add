import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertPortFree, type Config } from '@drydock/core';
import { serve, type HttpBindings } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type MiddlewareHandler } from 'hono';
import { createRequestHandler, type ServerBuild } from 'react-router';

const CLIENT_DIR = fileURLToPath(new URL('./build/client/', import.meta.url));
const SERVER_BUILD = fileURLToPath(new URL('./build/server/index.js', import.meta.url));

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

function withoutHopByHop(source: Headers): Headers {
  const headers = new Headers(source);
  for (const name of source.get('connection')?.split(',') ?? []) headers.delete(name.trim());
  for (const name of HOP_BY_HOP) headers.delete(name);
  return headers;
}

/** Passes a request to the API and streams both bodies through untouched, so SSE events arrive as they are sent. */
async function proxyToApi(apiUrl: string, request: Request, clientAddress: string | undefined): Promise<Response> {
  const incoming = new URL(request.url);
  const headers = withoutHopByHop(request.headers);
  headers.delete('host');
  // Compression on a loopback hop only costs time, and a compressing API would buffer event streams.
  headers.delete('accept-encoding');
  if (clientAddress) {
    const earlier = request.headers.get('x-forwarded-for');
    headers.set('x-forwarded-for', earlier ? `${earlier}, ${clientAddress}` : clientAddress);
  }
  headers.set('x-forwarded-host', incoming.host);
  headers.set('x-forwarded-proto', incoming.protocol.replace(/:$/, ''));

  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  let upstream: Response;
  try {
    upstream = await fetch(new URL(incoming.pathname + incoming.search, apiUrl), {
      method: request.method,
      headers,
      body: hasBody ? request.body : null,
      redirect: 'manual',
      signal: request.signal,
      ...(hasBody ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch {
    // The browser went away (an EventSource closed, a navigation was cancelled): nobody is left to answer.
    if (request.signal.aborted) return new Response(null, { status: 499 });
    return Response.json(
      { error: { code: 'api_unreachable', message: `The Drydock API at ${apiUrl} is not reachable. Check that it is running.` } },
      { status: 502 },
    );
  }
  const responseHeaders = withoutHopByHop(upstream.headers);
  if (responseHeaders.has('content-encoding')) {
    responseHeaders.delete('content-encoding');
    responseHeaders.delete('content-length');
  }
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: responseHeaders });
}

/** Sets Cache-Control on files found on disk; anything that falls through to React Router keeps its own. */
function cacheFor(value: string): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status === 200 && c.res.headers.has('last-modified')) c.header('Cache-Control', value);
  };
}

async function loadServerBuild(): Promise<ServerBuild> {
  if (!existsSync(SERVER_BUILD)) {
    throw new Error('the web UI is not built yet: run `npm run build -w @drydock/web` first');
  }
  return (await import(pathToFileURL(SERVER_BUILD).href)) as ServerBuild;
}

export interface WebAppOptions {
  apiUrl: string;
  handleDocument: (request: Request) => Promise<Response>;
  clientDir?: string;
}

/** The API under /api and /health (proxied), built assets from disk, everything else through React Router. */
export function createWebApp({ apiUrl, handleDocument, clientDir = CLIENT_DIR }: WebAppOptions): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.all('/api/*', (c) => proxyToApi(apiUrl, c.req.raw, c.env.incoming.socket.remoteAddress));
  app.all('/health', (c) => proxyToApi(apiUrl, c.req.raw, c.env.incoming.socket.remoteAddress));
  app.use('/assets/*', cacheFor('public, max-age=31536000, immutable'), serveStatic({ root: clientDir }));
  app.use('*', cacheFor('public, max-age=3600'), serveStatic({ root: clientDir }));
  app.all('*', (c) => handleDocument(c.req.raw));
  app.onError((err, c) => {
    console.error('web: request failed', err);
    return c.text('The web UI could not answer this request.', 500);
  });
  return app;
}

/** Listens with standard Request/Response objects: React Router and fetch streaming both rely on the real ones. */
export function listen(app: Hono<{ Bindings: HttpBindings }>, port: number, hostname: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname, overrideGlobalObjects: false }, () => resolve(server as Server));
    server.once('error', reject);
  });
}

export async function startWebServer(config: Config): Promise<WebServer> {
  const build = await loadServerBuild();
  const app = createWebApp({ apiUrl: config.apiUrl, handleDocument: createRequestHandler(build, 'production') });

  const port = config.DRYDOCK_WEB_PORT;
  const hostname = config.DRYDOCK_WEB_HOST;
  await assertPortFree(port, hostname, 'the web UI', 'DRYDOCK_WEB_PORT');
  const server = await listen(app, port, hostname);

  let closing: Promise<void> | undefined;
  return {
    url: config.webUrl,
    // Idempotent: Ctrl-C reaches the process directly and again through the launcher.
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Open event streams would otherwise hold close() until each browser tab goes away.
        server.closeAllConnections();
      })),
  };
}
