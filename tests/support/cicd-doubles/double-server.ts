import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// What the four CI/CD doubles share: an HTTP server on a free port that records what crossed the wire, goes down on
// demand (connection refused, or a proxy's 502) and comes back on the same port, answers rate limits on demand, and
// posts webhooks to a URL the test gives.

export interface DoubleRequest {
  method: string;
  /** Path without the query, percent-decoding left to the double. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  /** The body as JSON; undefined when it is empty or not JSON. */
  json(): unknown;
  /** Form fields of an `application/x-www-form-urlencoded` body, or of the query. */
  form(): URLSearchParams;
}

export interface DoubleReply {
  status: number;
  headers?: Record<string, string | string[]>;
  /** An object is sent as JSON. */
  body?: string | Buffer | object;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** Never the credentials themselves: which auth scheme the request carried. */
  auth?: string;
}

export interface RateLimitAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | object;
  /** How many requests get this answer; default 1. */
  times?: number;
}

export interface DoubleServer {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** The next requests get this answer instead of the provider's. */
  rateLimit(answer: RateLimitAnswer): void;
  /** `refuse`: the port is closed and open connections dropped. `502`: a proxy answers Bad Gateway. */
  down(mode: 'refuse' | '502'): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export type DoubleHandler = (req: DoubleRequest) => DoubleReply | Promise<DoubleReply>;

function authScheme(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization) return authorization.split(' ')[0];
  for (const name of ['private-token', 'circle-token', 'job-token']) if (headers[name]) return name;
  return undefined;
}

async function readRequest(req: IncomingMessage): Promise<DoubleRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url ?? '/', 'http://double.invalid');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
    text: () => body.toString('utf8'),
    json: () => {
      try {
        return body.length === 0 ? undefined : (JSON.parse(body.toString('utf8')) as unknown);
      } catch {
        return undefined;
      }
    },
    form: () => (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body.toString('utf8')) : url.searchParams),
  };
}

function send(res: ServerResponse, reply: DoubleReply): void {
  const headers: Record<string, string | string[]> = { ...(reply.headers ?? {}) };
  let payload: string | Buffer = '';
  if (reply.body instanceof Buffer || typeof reply.body === 'string') payload = reply.body;
  else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json; charset=utf-8';
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Starts the server on 127.0.0.1 and a free port (or `port`). */
export async function startDoubleServer(handler: DoubleHandler, options: { port?: number } = {}): Promise<DoubleServer> {
  const requests: RecordedRequest[] = [];
  const limits: RateLimitAnswer[] = [];
  const sockets = new Set<Socket>();
  let mode: 'up' | 'refuse' | '502' = 'up';

  const server = createServer((req, res) => {
    void (async () => {
      const request = await readRequest(req);
      let reply: DoubleReply;
      const limit = limits[0];
      if (mode === '502') {
        reply = { status: 502, headers: { 'content-type': 'text/html' }, body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>' };
      } else if (limit) {
        limit.times = (limit.times ?? 1) - 1;
        if (limit.times <= 0) limits.shift();
        reply = { status: limit.status, headers: limit.headers, body: limit.body };
      } else {
        try {
          reply = await handler(request);
        } catch (err) {
          reply = { status: 500, body: { message: `double failed: ${(err as Error).message}` } };
        }
      }
      const query = request.query.toString();
      const auth = authScheme(request.headers);
      requests.push({ method: request.method, path: request.path, query, status: reply.status, ...(auth ? { auth } : {}) });
      send(res, reply);
    })();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    rateLimit: (answer) => limits.push({ ...answer }),
    down: async (how) => {
      mode = how;
      if (how === 'refuse') await stop();
    },
    up: async () => {
      if (mode === 'refuse') await listen(port);
      mode = 'up';
    },
    close: stop,
  };
}

/** Posts a webhook delivery as the provider would; resolves with the receiver's status. */
export async function deliverWebhook(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await res.arrayBuffer();
  return res.status;
}
