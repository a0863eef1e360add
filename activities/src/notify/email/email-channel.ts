import { createTransport } from 'nodemailer';
import type { SmtpSettings } from '@drydock/core';
import type { NotificationChannel } from '../channel.ts';
import { type AttemptClock, type DeliveryFailureReason, type DeliveryResult, excerpt, FAILURE_RETRYABLE, systemClock } from '../delivery.ts';
import { emailContent } from './email-message.ts';

export interface EmailTransportOptions extends SmtpSettings {
  /** How long connecting, the greeting, STARTTLS and each reply may take. */
  timeoutMs: number;
  /** Certificates to trust besides the system's, for a relay behind a private CA. */
  ca?: string | Buffer;
  /** The name Drydock gives in EHLO; the machine's host name unless given. */
  clientName?: string;
  clock?: AttemptClock;
}

interface SmtpError extends Error {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

const TLS_CODE = /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_OSSL)/;

function classify(err: SmtpError, smtp: EmailTransportOptions): { reason: DeliveryFailureReason; message: string } {
  const server = `the SMTP server ${smtp.host}:${smtp.port}`;
  const reply = err.response ? ` (${err.response.split('\n')[0]!.slice(0, 200)})` : '';
  const system = err.originalCode ?? '';
  if (err.code === 'EAUTH') {
    const user = smtp.auth ? ` of ${smtp.auth.user}` : '';
    return { reason: 'auth_refused', message: `${server} refused the login${user}${reply}: check DRYDOCK_SMTP_USER and DRYDOCK_SMTP_PASSWORD` };
  }
  if (err.code === 'ETLS' || TLS_CODE.test(system) || /STARTTLS/.test(err.message)) {
    return {
      reason: 'tls',
      message: `TLS with ${server} failed${reply || ` (${system || err.message})`}: it must offer STARTTLS with a certificate this server trusts, or set DRYDOCK_SMTP_SECURITY to match it`,
    };
  }
  if (err.code === 'EDNS' || system === 'ENOTFOUND' || system === 'EAI_AGAIN') {
    if (system === 'EAI_AGAIN') return { reason: 'unreachable', message: `${smtp.host} could not be resolved right now` };
    return { reason: 'bad_address', message: `the SMTP host ${smtp.host} does not resolve: check DRYDOCK_SMTP_HOST` };
  }
  if (system === 'ECONNREFUSED') return { reason: 'connection_refused', message: `${server} refused the connection` };
  if (err.code === 'ETIMEDOUT' || system === 'ETIMEDOUT') return { reason: 'timeout', message: `${server} did not answer within ${smtp.timeoutMs / 1000} s` };
  const code = err.responseCode;
  if (code !== undefined && code >= 400 && code < 500) return { reason: 'temporary_failure', message: `${server} asked to try again later${reply}` };
  if (code !== undefined && code >= 500) {
    if (err.command === 'RCPT TO') return { reason: 'bad_address', message: `${server} refused the recipients${reply}: check the channel's addresses` };
    if (err.command === 'MAIL FROM') return { reason: 'rejected', message: `${server} refused the sender${reply}: check DRYDOCK_SMTP_FROM` };
    return { reason: 'rejected', message: `${server} rejected the message${reply}` };
  }
  return { reason: 'unreachable', message: `${server} could not be reached: ${err.message}` };
}

function domainOf(from: string): string {
  return /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'drydock.invalid';
}

/**
 * Email through the configured SMTP server: STARTTLS required (or TLS from the start), the login only
 * over TLS, a text and an HTML body, and the idempotency key as the Message-ID so a second attempt of
 * one event can be recognised by mail systems and people alike.
 */
export function createEmailChannel(smtp: EmailTransportOptions, recipients: readonly string[]): NotificationChannel {
  const clock = smtp.clock ?? systemClock;
  const target = recipients.join(', ');
  return {
    kind: 'email',
    async send(notification, attempt): Promise<DeliveryResult> {
      const started = clock.now();
      const base = { channel: 'email' as const, target, idempotencyKey: attempt.idempotencyKey, attempt: attempt.attempt, startedAt: new Date(started).toISOString() };
      const transport = createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.security === 'tls',
        requireTLS: smtp.security === 'starttls',
        ignoreTLS: smtp.security === 'none',
        ...(smtp.auth ? { auth: { user: smtp.auth.user, pass: smtp.auth.password } } : {}),
        tls: { minVersion: 'TLSv1.2', servername: smtp.host, ...(smtp.ca ? { ca: smtp.ca } : {}) },
        connectionTimeout: smtp.timeoutMs,
        greetingTimeout: smtp.timeoutMs,
        socketTimeout: smtp.timeoutMs,
        ...(smtp.clientName ? { name: smtp.clientName } : {}),
        logger: false,
      });
      const content = emailContent(notification);
      try {
        const info = await transport.sendMail({
          from: smtp.from,
          to: [...recipients],
          subject: content.subject,
          text: content.text,
          html: content.html,
          messageId: `<${attempt.idempotencyKey}@${domainOf(smtp.from)}>`,
          date: new Date(notification.occurredAt),
          headers: {
            'Auto-Submitted': 'auto-generated',
            'X-Drydock-Event': notification.kind,
            'X-Drydock-Event-Id': notification.eventId,
            'X-Drydock-Attempt': String(attempt.attempt),
          },
        });
        const refused = info.rejected.length > 0 ? `; refused ${info.rejected.map(String).join(', ')}` : '';
        const response = excerpt(info.response ?? '');
        return {
          ...base,
          outcome: 'delivered',
          message: `accepted by ${smtp.host} for ${info.accepted.map(String).join(', ')}${refused}`,
          ...(Number.parseInt(info.response ?? '', 10) ? { status: Number.parseInt(info.response, 10) } : {}),
          ...(response !== undefined ? { responseExcerpt: response } : {}),
          durationMs: Math.max(0, clock.now() - started),
        };
      } catch (err) {
        const e = err as SmtpError;
        const { reason, message } = classify(e, smtp);
        const response = e.response ? excerpt(e.response) : undefined;
        return {
          ...base,
          outcome: FAILURE_RETRYABLE[reason] ? 'retryable' : 'permanent',
          reason,
          message,
          ...(e.responseCode !== undefined ? { status: e.responseCode } : {}),
          ...(response !== undefined ? { responseExcerpt: response } : {}),
          durationMs: Math.max(0, clock.now() - started),
        };
      } finally {
        transport.close();
      }
    },
  };
}
