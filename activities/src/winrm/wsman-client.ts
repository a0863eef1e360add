import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { authenticateMessage, channelBindingsHash, negotiateMessage, NtlmError, parseChallenge } from './ntlm.ts';
import { connectionFailure, hostPort, WinrmError } from './winrm-error.ts';
import { faultOf, readEnvelope, type SoapEnvelope, type SoapFault } from './wsman-messages.ts';

export interface WsmanEndpoint {
  host: string;
  port: number;
  username: string;
  password: string;
  auth: 'basic' | 'ntlm';
  /** SHA-256 fingerprint the server's certificate must have, or null to take the first one presented. */
  certFingerprint: string | null;
  connectTimeoutMs: number;
}

/** The server answered with a SOAP fault; the caller decides what it means for the operation it tried. */
export class WsmanFaultError extends Error {
  readonly fault: SoapFault;
  readonly status: number;
  constructor(fault: SoapFault, status: number) {
    super(fault.reason);
    this.name = 'WsmanFaultError';
    this.fault = fault;
    this.status = status;
  }
}

interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  authenticate: string[];
  body: Buffer;
  socket: Duplex;
}

interface Prepared {
  headers: Record<string, string>;
  body: Buffer;
}

interface Channel {
  agent: https.Agent;
  /** Requests on a channel go one at a time, so the legs of an NTLM handshake share a connection. */
  queue: Promise<unknown>;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** "AB:CD:..." or "abcd..." (optionally prefixed "SHA256:") to bare upper-case hex; null when it is not SHA-256. */
export function normalizeFingerprint(fingerprint: string): string | null {
  const hex = fingerprint.trim().replace(/^sha-?256:/i, '').replace(/[:\s]/g, '').toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? hex : null;
}

function formatFingerprint(hex: string): string {
  return hex.match(/../g)?.join(':') ?? hex;
}

/**
 * HTTPS to one WinRM endpoint (`/wsman`): every connection's certificate is checked against the pin (or the
 * first certificate seen) before a byte of HTTP, and so before any credential, is written; requests go on two
 * keep-alive channels, one for the long-polling Receive and one for everything else, authenticated with Basic or
 * NTLM (per connection, bound to its TLS channel).
 */
export class WsmanClient {
  readonly where: string;
  readonly url: string;
  readonly #endpoint: WsmanEndpoint;
  #pinned: string | null;
  readonly #channels: Record<'control' | 'receive', Channel>;
  readonly #authenticated = new WeakSet<Duplex>();
  readonly #bindings = new WeakMap<Duplex, Buffer>();

  constructor(endpoint: WsmanEndpoint) {
    this.#endpoint = endpoint;
    this.where = hostPort(endpoint);
    this.url = `https://${this.where}/wsman`;
    this.#pinned = endpoint.certFingerprint === null ? null : normalizeFingerprint(endpoint.certFingerprint);
    if (endpoint.certFingerprint !== null && this.#pinned === null) {
      throw new WinrmError('other', `the pinned certificate fingerprint for ${this.where} is not a SHA-256 fingerprint (64 hex digits)`);
    }
    const open = (callback: (err: Error | null, stream: Duplex) => void) => this.#open(callback);
    const channel = (): Channel => {
      const agent = new (class extends https.Agent {
        override createConnection(_options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
          if (!callback) throw new Error('the WinRM agent connects asynchronously');
          open(callback);
          return undefined;
        }
      })({ keepAlive: true, maxSockets: 1, maxCachedSessions: 0 });
      return { agent, queue: Promise.resolve() };
    };
    this.#channels = { control: channel(), receive: channel() };
  }

  /** The server certificate's SHA-256 fingerprint ("AB:CD:..."), once a connection was made. */
  get certFingerprint(): string | null {
    return this.#pinned === null ? null : formatFingerprint(this.#pinned);
  }

  /**
   * Posts one SOAP request and returns the answer's envelope. Throws WsmanFaultError for a SOAP fault,
   * WinrmError for everything else, and `signal.reason` when the signal aborts the request.
   */
  async call(which: 'control' | 'receive', xml: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<SoapEnvelope> {
    const channel = this.#channels[which];
    const run = channel.queue.then(
      () => this.#send(channel, Buffer.from(xml, 'utf8'), options),
      () => this.#send(channel, Buffer.from(xml, 'utf8'), options),
    );
    channel.queue = run.catch(() => {});
    return this.#interpret(await run);
  }

  close(): void {
    this.#channels.control.agent.destroy();
    this.#channels.receive.agent.destroy();
  }

  #authFailure(): WinrmError {
    const { username, auth } = this.#endpoint;
    return new WinrmError(
      'auth',
      auth === 'basic'
        ? `authentication as ${username} failed on ${this.where}: check the user name and password, that Basic authentication is enabled for the WinRM service (it is off by default), and that the account is a local one (Basic does not work for domain accounts)`
        : `authentication as ${username} failed on ${this.where}: check the user name (DOMAIN\\user or user@domain) and password, and that Negotiate authentication is enabled for the WinRM service`,
    );
  }

  #interpret(response: HttpResponse): SoapEnvelope {
    if (response.status === 401) throw this.#authFailure();
    let envelope: SoapEnvelope;
    try {
      envelope = readEnvelope(response.body.toString('utf8'));
    } catch {
      const hint = response.status === 404 ? ': is this a WinRM listener?' : '';
      throw new WinrmError('protocol', `${this.where} answered HTTP ${response.status} with something that is not a SOAP envelope${hint}`);
    }
    const fault = faultOf(envelope);
    if (fault) throw new WsmanFaultError(fault, response.status);
    if (response.status !== 200) throw new WinrmError('protocol', `${this.where} answered HTTP ${response.status} without a SOAP fault`);
    return envelope;
  }

  async #send(channel: Channel, body: Buffer, options: { timeoutMs: number; signal?: AbortSignal }): Promise<HttpResponse> {
    const { username, password } = this.#endpoint;
    if (this.#endpoint.auth === 'basic') {
      const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
      return this.#exchange(channel, () => ({ headers: { Authorization: authorization }, body }), options);
    }
    for (let attempt = 0; ; attempt++) {
      const sent: { negotiate: Buffer | null } = { negotiate: null };
      const first = await this.#exchange(
        channel,
        (socket): Prepared => {
          if (this.#authenticated.has(socket)) return { headers: {}, body };
          sent.negotiate = negotiateMessage();
          return { headers: { Authorization: `Negotiate ${sent.negotiate.toString('base64')}` }, body: EMPTY };
        },
        options,
      );
      const negotiate = sent.negotiate;
      if (negotiate === null) {
        // The server forgot the connection's authentication: authenticate it again, once.
        if (first.status === 401 && attempt === 0) {
          this.#authenticated.delete(first.socket);
          continue;
        }
        return first;
      }
      if (first.status !== 401) throw new WinrmError('protocol', `${this.where} answered an NTLM negotiation with HTTP ${first.status} instead of a challenge`);
      const token = first.authenticate.map((h) => /^Negotiate\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h)?.[1]).find((t) => t !== undefined);
      if (token === undefined) throw new WinrmError('auth', `${this.where} does not offer Negotiate (NTLM) authentication to WinRM: enable it, or use Basic`);
      let authenticate: Buffer;
      try {
        authenticate = authenticateMessage({
          negotiate,
          challenge: parseChallenge(Buffer.from(token, 'base64')),
          username,
          password,
          channelBindings: this.#bindings.get(first.socket) ?? EMPTY,
          targetName: `HTTP/${this.#endpoint.host}`,
        });
      } catch (err) {
        if (err instanceof NtlmError) throw new WinrmError('protocol', `${this.where} sent an NTLM challenge this client cannot answer: ${err.message}`);
        throw err;
      }
      const second = await this.#exchange(
        channel,
        (socket) => {
          if (socket !== first.socket) throw new WinrmError('protocol', `${this.where} closed the connection in the middle of NTLM authentication`);
          return { headers: { Authorization: `Negotiate ${authenticate.toString('base64')}` }, body };
        },
        options,
      );
      if (second.status === 401) throw this.#authFailure();
      this.#authenticated.add(second.socket);
      return second;
    }
  }

  /** One HTTP request; `prepare` sees the connection before anything is written to it. */
  async #exchange(channel: Channel, prepare: (socket: Duplex) => Prepared, options: { timeoutMs: number; signal?: AbortSignal }): Promise<HttpResponse> {
    try {
      return await this.#request(channel, prepare, options);
    } catch (err) {
      // A kept-alive connection the server closed while idle fails the next request before it arrives: retry once.
      if (err instanceof StaleConnection) return this.#request(channel, prepare, options);
      throw err;
    }
  }

  #request(channel: Channel, prepare: (socket: Duplex) => Prepared, options: { timeoutMs: number; signal?: AbortSignal }): Promise<HttpResponse> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = https.request({
        host: this.#endpoint.host,
        port: this.#endpoint.port,
        path: '/wsman',
        method: 'POST',
        agent: channel.agent,
        headers: { 'Content-Type': 'application/soap+xml;charset=UTF-8', 'User-Agent': 'Drydock WinRM client' },
      });
      let aborted = false;
      let written = false;
      let connection: Duplex | null = null;
      const timer = setTimeout(
        () => req.destroy(new WinrmError('timeout', `${this.where} did not answer within ${Math.round(options.timeoutMs / 1000)} s`)),
        options.timeoutMs,
      );
      const onAbort = () => {
        aborted = true;
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };

      req.on('socket', (socket: Duplex) => {
        connection = socket;
        let prepared: Prepared;
        try {
          prepared = prepare(socket);
        } catch (err) {
          req.destroy(err as Error);
          return;
        }
        for (const [name, value] of Object.entries(prepared.headers)) req.setHeader(name, value);
        req.setHeader('Content-Length', prepared.body.length);
        written = true;
        req.end(prepared.body);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        settle();
        if (aborted) reject(signal?.reason);
        else if (req.reusedSocket && written && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) reject(new StaleConnection());
        else reject(connectionFailure(err, this.where));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new WinrmError('protocol', `${this.where} sent an answer larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          settle();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            authenticate: res.headersDistinct['www-authenticate'] ?? [],
            body: Buffer.concat(chunks),
            socket: connection ?? res.socket,
          });
        });
      });
    });
  }

  /** Opens a TLS connection and checks the server certificate before handing it to HTTP. */
  #open(callback: (err: Error | null, stream: Duplex) => void): void {
    const { host, port, connectTimeoutMs } = this.#endpoint;
    const socket = tls.connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false });
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      callback(err, socket);
    };
    const timer = setTimeout(
      () =>
        fail(
          new WinrmError(
            'timeout',
            `${this.where} did not complete the TLS handshake within ${Math.round(connectTimeoutMs / 1000)} s: check the host, the port and any firewall in between`,
          ),
        ),
      connectTimeoutMs,
    );
    const onError = (err: Error) => fail(connectionFailure(err, this.where));
    socket.on('error', onError);
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      const presented = certificate?.fingerprint256 ? normalizeFingerprint(certificate.fingerprint256) : null;
      if (presented === null || !certificate.raw) return fail(new WinrmError('protocol', `${this.where} presented no TLS certificate`));
      if (this.#pinned !== null && presented !== this.#pinned) {
        return fail(
          new WinrmError(
            'cert_changed',
            `the TLS certificate of ${this.where} changed since it was pinned: it now presents SHA-256 ${formatFingerprint(presented)}, not ${formatFingerprint(this.#pinned)}. Nothing was sent; if the host's certificate was replaced on purpose, pin the new one`,
          ),
        );
      }
      // Trust on first use: every later connection of this client must present the same certificate.
      this.#pinned = presented;
      this.#bindings.set(socket, channelBindingsHash(certificate.raw));
      settled = true;
      clearTimeout(timer);
      socket.off('error', onError);
      callback(null, socket);
    });
  }
}

class StaleConnection extends Error {}
