import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { readEnvelope } from '../winrm/wsman-messages.ts';
import { childOf, findAll } from '../winrm/xml-document.ts';

/** What a WinRM endpoint tells an anonymous caller. */
export interface WinrmIdentity {
  /** Whether it answered Identify; false for a WinRM-like server that wants authentication first. */
  identified: boolean;
  vendor: string | null;
  /** ProductVersion as sent: `OS: 0.0.0 SP: 0.0 Stack: 3.0` (Windows hides the OS version from anonymous callers). */
  productVersion: string | null;
  /** The OS version, when the server revealed it. */
  osVersion: string | null;
  /** The HTTP `Server` header, `Microsoft-HTTPAPI/2.0` on Windows. */
  server: string | null;
  /** On HTTPS: the certificate to pin, as Drydock's WinRM client pins it (SHA-256, `AB:CD:…`). */
  certificate?: { subject: string; issuer: string; fingerprint: string; validTo: string; selfSigned: boolean };
}

const IDENTITY_NS = 'http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd';
const MAX_RESPONSE_BYTES = 64 * 1024;

/** [DMTF-DSP0226] 11.2 Identify: an empty wsmid:Identify body, without addressing headers. */
export const IDENTIFY_REQUEST =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="${IDENTITY_NS}"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`;

function readLimited(res: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        res.destroy();
        resolve(null);
      } else chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', () => resolve(null));
  });
}

/** The IdentifyResponse's fields, or null when the body is not one. */
export function readIdentifyResponse(xml: string): Pick<WinrmIdentity, 'vendor' | 'productVersion' | 'osVersion'> | null {
  try {
    const response = findAll(readEnvelope(xml).body, IDENTITY_NS, 'IdentifyResponse')[0];
    if (!response) return null;
    const text = (name: string) => childOf(response, IDENTITY_NS, name)?.text.trim() || null;
    const productVersion = text('ProductVersion');
    const os = productVersion ? /OS:\s*([0-9.]+)/.exec(productVersion)?.[1] : undefined;
    return { vendor: text('ProductVendor'), productVersion, osVersion: os && os !== '0.0.0' ? os : null };
  } catch {
    return null;
  }
}

/**
 * An anonymous WS-Management Identify over `socket` (connected; for HTTPS, wrapped in TLS here without
 * checking the certificate, which is recorded to be pinned instead): `POST /wsman` with
 * `WSMANIDENTIFY: unauthenticated` ([MS-WSMV] 3.1.4.1.23). No credential is sent. Resolves null when the other
 * end does not answer like WinRM.
 */
export function identifyWinrm(socket: Socket, address: string, port: number, secure: boolean, timeoutMs: number): Promise<WinrmIdentity | null> {
  return new Promise((resolve) => {
    let certificate: WinrmIdentity['certificate'];
    let settled = false;
    const finish = (result: WinrmIdentity | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      stream.destroy();
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    const body = Buffer.from(IDENTIFY_REQUEST, 'utf8');
    const host = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    const options = {
      method: 'POST',
      path: '/wsman',
      headers: { Host: host, 'Content-Type': 'application/soap+xml;charset=UTF-8', WSMANIDENTIFY: 'unauthenticated', 'Content-Length': String(body.length), Connection: 'close' },
    };
    // The certificate is recorded to be pinned, not checked: nothing secret goes over this connection.
    const stream = secure ? tls.connect({ socket, rejectUnauthorized: false }) : socket;
    if (stream instanceof tls.TLSSocket) {
      stream.once('secureConnect', () => {
        const cert = stream.getPeerX509Certificate();
        if (cert) {
          certificate = { subject: cert.subject.replace(/\n/g, ', '), issuer: cert.issuer.replace(/\n/g, ', '), fingerprint: cert.fingerprint256, validTo: new Date(cert.validTo).toISOString(), selfSigned: cert.subject === cert.issuer };
        }
      });
      stream.on('error', () => {});
    }
    const request = http.request({ ...options, createConnection: () => stream });
    request.on('error', () => finish(certificate ? { identified: false, vendor: null, productVersion: null, osVersion: null, server: null, certificate } : null));
    request.on('response', (res) => {
      void readLimited(res).then((text) => {
        const server = typeof res.headers.server === 'string' ? res.headers.server : null;
        const found = text === null ? null : readIdentifyResponse(text);
        const base = certificate ? { certificate } : {};
        if (found) return finish({ identified: true, ...found, server, ...base });
        // A Windows listener that refuses anonymous Identify still shows itself: HTTP.sys, asking for Negotiate.
        const negotiate = String(res.headers['www-authenticate'] ?? '').includes('Negotiate');
        if (res.statusCode === 401 && negotiate && server?.startsWith('Microsoft-HTTPAPI')) {
          return finish({ identified: false, vendor: null, productVersion: null, osVersion: null, server, ...base });
        }
        finish(null);
      });
    });
    request.end(body);
  });
}
