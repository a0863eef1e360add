import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedRun } from '../../../../tests/support/notifications.ts';
import { selfSignedCertificate, type SmtpPeer, startSmtpPeer } from '../../../../tests/support/smtp-peer.ts';
import { deliveryFailure, idempotencyKey } from '../delivery.ts';
import { createEmailChannel, type EmailTransportOptions } from './email-channel.ts';

// Email notifications against a real SMTP server (smtp-server) with STARTTLS and AUTH; messages parsed back with mailparser.

let tls: { key: string; cert: string };
let smtp: SmtpPeer;
const PASSWORD = 'smtp-password-never-logged';

beforeAll(async () => {
  tls = await selfSignedCertificate();
  smtp = await startSmtpPeer({ users: { drydock: PASSWORD }, tlsCert: tls });
});
afterAll(() => smtp?.close());

function transport(extra: Partial<EmailTransportOptions> = {}): EmailTransportOptions {
  return {
    host: smtp.host,
    port: smtp.port,
    security: 'starttls',
    auth: { user: 'drydock', password: PASSWORD },
    from: 'Drydock <drydock@drydock.example>',
    timeoutMs: 5000,
    ca: tls.cert,
    ...extra,
  };
}

const key = idempotencyKey('evt-0192-run-failed', 'chan-ops-mail');

describe('sending a notification by email', () => {
  it('logs in over STARTTLS and delivers a text and an HTML body with the links, the Message-ID being the idempotency key', async () => {
    const channel = createEmailChannel(transport(), ['ops@example.com', 'oncall@example.com']);
    const result = await channel.send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(result).toMatchObject({ channel: 'email', outcome: 'delivered', status: 250, target: 'ops@example.com, oncall@example.com', idempotencyKey: key, attempt: 1 });
    expect(result.message).toBe('accepted by 127.0.0.1 for ops@example.com, oncall@example.com');

    const mail = smtp.mails.at(-1)!;
    expect(smtp.logins.at(-1)).toEqual({ user: 'drydock', secure: true });
    expect(mail).toMatchObject({ secureAtLogin: true, secureAtData: true, user: 'drydock', envelope: { from: 'drydock@drydock.example', to: ['ops@example.com', 'oncall@example.com'] } });
    const { parsed } = mail;
    expect(parsed.subject).toBe('[Drydock] nightly-reset failed on db-staging-1 <script>alert(1)</script>');
    expect(parsed.messageId).toBe(`<${key}@drydock.example>`);
    expect(parsed.headers.get('x-drydock-event')).toBe('run_failed');
    expect(parsed.headers.get('x-drydock-event-id')).toBe('evt-0192-run-failed');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(parsed.date?.toISOString()).toBe('2030-05-03T16:04:05.000Z');
    expect(parsed.text).toContain('Parameter "note": <img src=x onerror=alert(1)> & "quoted" \'single\'');
    expect(parsed.text).toContain('Open run: http://127.0.0.1:3000/runs/0192?tab=logs&attempt=2');
    expect(parsed.text).toContain('Temporal Web: http://localhost:8233/namespaces/default/workflows/run%2F0192/abc/history');
  });

  it('escapes every value in the HTML body: no tag or attribute of a hostile value survives', async () => {
    const channel = createEmailChannel(transport(), ['ops@example.com']);
    await channel.send(failedRun(), { idempotencyKey: key, attempt: 1 });
    const html = smtp.mails.at(-1)!.parsed.html as string;
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('nightly-reset failed on db-staging-1 &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &#39;single&#39;');
    expect(html).toContain('<a href="http://127.0.0.1:3000/runs/0192?tab=logs&amp;attempt=2" style="margin-right:16px">Open run</a>');
    expect(html).toContain('Temporal Web</a>');
  });

  it('sends a second attempt of one event with the same Message-ID', async () => {
    const channel = createEmailChannel(transport(), ['ops@example.com']);
    await channel.send(failedRun(), { idempotencyKey: key, attempt: 1 });
    await channel.send(failedRun(), { idempotencyKey: key, attempt: 2 });
    const [first, second] = smtp.mails.slice(-2);
    expect(second!.parsed.messageId).toBe(first!.parsed.messageId);
    expect(second!.parsed.headers.get('x-drydock-attempt')).toBe('2');
  });
});

describe('failures, each classified as retryable or permanent', () => {
  it('a wrong password is permanent, and neither the message nor the log holds the password', async () => {
    const result = await createEmailChannel(transport({ auth: { user: 'drydock', password: 'wrong-password-xyz' } }), ['ops@example.com']).send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(result).toMatchObject({ outcome: 'permanent', reason: 'auth_refused', status: 535 });
    expect(result.message).toMatch(/^the SMTP server 127\.0\.0\.1:\d+ refused the login of drydock \(535 Authentication credentials invalid\): check DRYDOCK_SMTP_USER and DRYDOCK_SMTP_PASSWORD$/);
    expect(JSON.stringify(result)).not.toContain('wrong-password-xyz');
    expect(deliveryFailure(result)).toMatchObject({ nonRetryable: true, type: 'notify_auth_refused' });
  });

  it('a 4xx reply is a temporary failure to retry; a 5xx for the recipients is permanent', async () => {
    smtp.failNext('data', 451, 'Requested action aborted: local error in processing');
    const temporary = await createEmailChannel(transport(), ['ops@example.com']).send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(temporary).toMatchObject({ outcome: 'retryable', reason: 'temporary_failure', status: 451 });
    expect(temporary.message).toMatch(/asked to try again later \(451 Requested action aborted/);
    expect(deliveryFailure(temporary)).toMatchObject({ nonRetryable: false });

    smtp.failNext('rcpt', 550, 'Mailbox unavailable');
    const refused = await createEmailChannel(transport(), ['nobody@example.com']).send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(refused).toMatchObject({ outcome: 'permanent', reason: 'bad_address', status: 550 });
    expect(refused.message).toMatch(/refused the recipients .*550 Mailbox unavailable.*: check the channel's addresses/);
  });

  it('an SMTP host that does not listen is retryable: connection refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await createEmailChannel(transport({ port }), ['ops@example.com']).send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(result).toMatchObject({ outcome: 'retryable', reason: 'connection_refused', message: `the SMTP server 127.0.0.1:${port} refused the connection` });
  });

  it('a server that never greets is retryable: timeout', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const result = await createEmailChannel(transport({ port, timeoutMs: 300 }), ['ops@example.com']).send(failedRun(), { idempotencyKey: key, attempt: 1 });
      expect(result).toMatchObject({ outcome: 'retryable', reason: 'timeout' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('a host name that does not resolve is permanent: a bad address', async () => {
    const result = await createEmailChannel(transport({ host: 'smtp.drydock-test.invalid' }), ['ops@example.com']).send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(result).toMatchObject({ outcome: 'permanent', reason: 'bad_address', message: 'the SMTP host smtp.drydock-test.invalid does not resolve: check DRYDOCK_SMTP_HOST' });
  });

  it('refuses to log in without STARTTLS: a server that does not offer it is a permanent TLS failure, and no password is sent', async () => {
    const plain = await startSmtpPeer({ users: { drydock: PASSWORD }, starttls: false, tlsCert: tls });
    try {
      const result = await createEmailChannel(transport({ port: plain.port }), ['ops@example.com']).send(failedRun(), { idempotencyKey: key, attempt: 1 });
      expect(result).toMatchObject({ outcome: 'permanent', reason: 'tls' });
      expect(result.message).toMatch(/it must offer STARTTLS with a certificate this server trusts/);
      expect(plain.logins).toEqual([]);
      expect(plain.mails).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it('refuses a certificate it does not trust: permanent', async () => {
    const result = await createEmailChannel(transport({ ca: undefined }), ['ops@example.com']).send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(result).toMatchObject({ outcome: 'permanent', reason: 'tls' });
  });
});
