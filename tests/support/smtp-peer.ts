import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl for this test run. */
export async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'drydock-cert-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ReceivedMail {
  /** Whether the session had been upgraded to TLS when the client logged in and sent the message. */
  secureAtLogin: boolean;
  secureAtData: boolean;
  user: string | undefined;
  envelope: { from: string; to: string[] };
  parsed: ParsedMail;
  raw: string;
}

export interface SmtpPeer {
  host: string;
  port: number;
  cert: string;
  mails: ReceivedMail[];
  /** Every AUTH the server was asked for, and whether the session was under TLS then. */
  logins: { user: string | undefined; secure: boolean }[];
  /** Makes the next RCPT TO or DATA answer with this SMTP reply (e.g. 451 or 550). */
  failNext(step: 'rcpt' | 'data', code: number, text: string): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server (the `smtp-server` package) on loopback: STARTTLS with a self-signed certificate,
 * AUTH PLAIN and LOGIN refused before TLS, the given users, every message parsed with `mailparser`.
 */
export async function startSmtpPeer(options: { users: Record<string, string>; starttls?: boolean; tlsCert?: { key: string; cert: string } }): Promise<SmtpPeer> {
  const tls = options.tlsCert ?? (await selfSignedCertificate());
  const mails: ReceivedMail[] = [];
  const scripted: Partial<Record<'rcpt' | 'data', { code: number; text: string }>> = {};
  const secureAtLogin = new Map<string, boolean>();
  const logins: { user: string | undefined; secure: boolean }[] = [];
  const reply = (step: 'rcpt' | 'data') => {
    const next = scripted[step];
    if (!next) return null;
    delete scripted[step];
    return Object.assign(new Error(next.text), { responseCode: next.code });
  };
  const serverOptions: SMTPServerOptions = {
    key: tls.key,
    cert: tls.cert,
    // A server without STARTTLS neither offers nor accepts it.
    hideSTARTTLS: options.starttls === false,
    disabledCommands: options.starttls === false ? ['STARTTLS'] : [],
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, session, callback) {
      logins.push({ user: auth.username, secure: session.secure });
      if (options.users[auth.username ?? ''] === undefined || options.users[auth.username ?? ''] !== auth.password) {
        return callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
      }
      secureAtLogin.set(session.id, session.secure);
      callback(null, { user: auth.username });
    },
    onRcptTo(_address, _session, callback) {
      callback(reply('rcpt'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const failure = reply('data');
        if (failure) return callback(failure);
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            mails.push({
              secureAtLogin: secureAtLogin.get(session.id) ?? false,
              secureAtData: session.secure,
              user: session.user as string | undefined,
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              parsed,
              raw,
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    cert: tls.cert,
    mails,
    logins,
    failNext(step, code, text) {
      scripted[step] = { code, text };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
