import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertPortFree, type Config, crossSiteRefusal, hostRefusal, REQUEST_ID_HEADER, requestIdFrom } from '@drydock/core';
import { serve, type HttpBindings } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
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
async function proxyToApi(apiUrl: string, request: Request, clientAddress: string | undefined, requestId: string): Promise<Response> {
  const incoming = new URL(request.url);
  const headers = withoutHopByHop(request.headers);
  headers.delete('host');
  // The API logs under the same id, and answers with it.
  headers.set(REQUEST_ID_HEADER, requestId);
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

type WebEnv = { Bindings: HttpBindings; Variables: { requestId: string } };

/** What the web server needs of the configuration: the API it fronts, and the names and origins it answers for. */
export type WebSiteConfig = Pick<Config, 'apiUrl' | 'publicUrl' | 'allowedHosts' | 'allowedOrigins'>;

export interface WebAppOptions {
  config: WebSiteConfig;
  handleDocument: (request: Request) => Promise<Response>;
  clientDir?: string;
}

/** A refusal in the shape its caller reads: the API's error JSON under /api, a line of text for a page. */
function refusal(c: Context<WebEnv>, status: 403 | 421, code: string, message: string): Response {
  console.warn(`web: request ${c.get('requestId')}: ${status} ${c.req.method} ${new URL(c.req.url).pathname}: ${message}`);
  return c.req.path.startsWith('/api/') ? c.json({ error: { code, message } }, status) : c.text(message, status);
}

/**
 * Headers for everything the browser gets from this origin. Pages bring their own Content-Security-Policy
 * with a nonce (app/entry.server.tsx); anything else may not run, frame or be framed at all.
 */
function securityHeaders(publicUrl: string): MiddlewareHandler<WebEnv> {
  const publicTls = publicUrl.startsWith('https:');
  return async (c, next) => {
    await next();
    c.header('x-content-type-options', 'nosniff');
    c.header('x-frame-options', 'DENY');
    if (!c.res.headers.has('referrer-policy')) c.header('referrer-policy', 'strict-origin-when-cross-origin');
    if (!c.res.headers.has('content-security-policy')) c.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    // Sent over plain HTTP a browser ignores it, so a forged X-Forwarded-Proto gains nothing.
    if (publicTls || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https') c.header('strict-transport-security', 'max-age=31536000');
  };
}

/** The API under /api and /health (proxied), built assets from disk, everything else through React Router. */
export function createWebApp({ config, handleDocument, clientDir = CLIENT_DIR }: WebAppOptions): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.use(async (c, next) => {
    c.set('requestId', requestIdFrom(c.req.header(REQUEST_ID_HEADER)));
    await next();
    if (!c.res.headers.has(REQUEST_ID_HEADER)) c.header(REQUEST_ID_HEADER, c.get('requestId'));
  });
  app.use(securityHeaders(config.publicUrl));
  // DNS rebinding: a page whose name now points at this machine arrives with its own name in Host.
  app.use(async (c, next) => {
    const refused = hostRefusal(config.allowedHosts, c.req.header('host') ?? new URL(c.req.url).host);
    return refused ? refusal(c, 421, 'misdirected', refused) : next();
  });
  // Page actions and the proxied API alike; once sessions exist, their CSRF token is checked here too.
  app.use(async (c, next) => {
    const refused = crossSiteRefusal(
      { method: c.req.method, path: c.req.path, origin: c.req.header('origin'), fetchSite: c.req.header('sec-fetch-site') },
      { allowedOrigins: config.allowedOrigins },
    );
    return refused ? refusal(c, 403, 'forbidden', refused) : next();
  });
  const proxy = (c: Context<WebEnv>) => proxyToApi(config.apiUrl, c.req.raw, c.env.incoming.socket.remoteAddress, c.get('requestId'));
  app.all('/api/*', proxy);
  app.all('/health', proxy);
  app.use('/assets/*', cacheFor('public, max-age=31536000, immutable'), serveStatic({ root: clientDir }));
  app.use('*', cacheFor('public, max-age=3600'), serveStatic({ root: clientDir }));
  app.all('*', (c) => handleDocument(c.req.raw));
  app.onError((err, c) => {
    const requestId = c.get('requestId');
    console.error(`web: request ${requestId}: ${c.req.method} ${new URL(c.req.url).pathname} failed:`, err);
    return c.text(`The web UI could not answer this request; its log has the details under request ${requestId}.`, 500);
  });
  return app;
}

/** Listens with standard Request/Response objects: React Router and fetch streaming both rely on the real ones. */
export function listen(app: Hono<WebEnv>, port: number, hostname: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname, overrideGlobalObjects: false }, () => resolve(server as Server));
    server.once('error', reject);
  });
}

export async function startWebServer(config: Config): Promise<WebServer> {
  const build = await loadServerBuild();
  const app = createWebApp({ config, handleDocument: createRequestHandler(build, 'production') });

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
