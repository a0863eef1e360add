import type { CreateChannelBody, NotifyTargetPolicy, SecretBox, SmtpSettings } from '@drydock/core';
import { ValidationError } from '@drydock/core';
import type { NotificationChannel } from './channel.ts';
import { createEmailChannel, type EmailTransportOptions } from './email/email-channel.ts';
import { ChannelUnavailableError } from './notification-channels.ts';
import { createSlackChannel } from './slack/slack-channel.ts';
import { createTeamsChannel } from './teams/teams-channel.ts';
import { checkTargetUrl, type LookupFunction, redactUrl, TargetRefusedError } from './url-guard.ts';
import { createWebhookChannel } from './webhook/webhook-channel.ts';
import { generateWebhookSecret } from './webhook/webhook-signature.ts';

// How a team's channel is stored: what may be shown in `config`, its secrets sealed in `sealed`, and where it
// sends in `target` (redacted). The API writes channels through `channelRecord`; the delivery activity reads
// them through `openChannel`.

/** The shown part of an email channel: recipients and, optionally, its own SMTP server (without the password). */
interface EmailConfig {
  to: string[];
  smtp?: { host: string; port: number; security: 'starttls' | 'tls'; user?: string; from?: string };
}

/** The sealed part: whatever a reader could use to post in the team's name or forge a signature. */
interface ChannelSecrets {
  webhookUrl?: string;
  url?: string;
  secret?: string;
  smtpPassword?: string;
}

export interface StoredChannel {
  kind: 'email' | 'slack' | 'teams' | 'webhook';
  config: Record<string, unknown>;
  sealed: string | null;
}

/** What the server has for every channel: its address policy, its SMTP server, how long an attempt may take. */
export interface ChannelServerSettings {
  policy: NotifyTargetPolicy;
  timeoutMs: number;
  smtp?: SmtpSettings | undefined;
  lookup?: LookupFunction;
}

const SMTP_PORTS = { starttls: 587, tls: 465 } as const;

/**
 * Checks a new channel (a webhook URL against the address guard, by field) and turns it into what is stored.
 * A webhook's signing secret is generated when not given, and returned here once.
 */
export async function channelRecord(body: CreateChannelBody, box: SecretBox, server: ChannelServerSettings): Promise<{ config: Record<string, unknown>; sealed: string | null; target: string; signingSecret?: string }> {
  const checkUrl = async (field: string, url: string) => {
    try {
      await checkTargetUrl(url, server.policy, server.lookup);
    } catch (err) {
      if (err instanceof TargetRefusedError) throw new ValidationError(`the ${field} is refused: ${err.message}`, { [field]: [err.message] });
      throw err;
    }
  };
  const seal = (secrets: ChannelSecrets) => box.seal(JSON.stringify(secrets));
  switch (body.kind) {
    case 'email': {
      if (!body.smtp && !server.smtp) {
        throw new ValidationError('email needs an SMTP server', { smtp: ['this server has no SMTP server (DRYDOCK_SMTP_HOST): give the channel its own smtp settings'] });
      }
      if (body.smtp && !body.smtp.from && !server.smtp) throw new ValidationError('give a sender', { 'smtp.from': ['give the sender of these emails, like "Drydock <drydock@example.com>"'] });
      const config: EmailConfig = { to: body.to };
      if (body.smtp) {
        const { host, port, security, user, from } = body.smtp;
        config.smtp = { host, port: port ?? SMTP_PORTS[security], security, ...(user ? { user } : {}), ...(from ? { from } : {}) };
      }
      return { config: config as unknown as Record<string, unknown>, sealed: body.smtp?.password ? seal({ smtpPassword: body.smtp.password }) : null, target: body.to.join(', ') };
    }
    case 'slack':
    case 'teams':
      await checkUrl('webhookUrl', body.webhookUrl);
      return { config: {}, sealed: seal({ webhookUrl: body.webhookUrl }), target: redactUrl(body.webhookUrl) };
    case 'webhook': {
      await checkUrl('url', body.url);
      const secret = body.secret ?? generateWebhookSecret();
      return { config: {}, sealed: seal({ url: body.url, secret }), target: redactUrl(body.url), ...(body.secret ? {} : { signingSecret: secret }) };
    }
  }
}

/** The SMTP server an email channel sends through (its own, else the server's), for showing. */
export function channelSmtpHost(row: StoredChannel): string | null {
  return row.kind === 'email' ? ((row.config as unknown as EmailConfig).smtp?.host ?? null) : null;
}

/** The sender a stored channel is, built with the server's transports; `recipients` overrides an email channel's. */
export function openChannel(row: StoredChannel, box: SecretBox, server: ChannelServerSettings, recipients?: readonly string[]): NotificationChannel {
  const secrets: ChannelSecrets = row.sealed ? (JSON.parse(box.open(row.sealed)) as ChannelSecrets) : {};
  const http = { policy: server.policy, timeoutMs: server.timeoutMs, ...(server.lookup ? { lookup: server.lookup } : {}) };
  switch (row.kind) {
    case 'email': {
      const config = row.config as unknown as EmailConfig;
      return createEmailChannel(emailTransport(server, config.smtp, secrets.smtpPassword), recipients ?? config.to);
    }
    case 'slack':
      return createSlackChannel(secrets.webhookUrl!, http);
    case 'teams':
      return createTeamsChannel(secrets.webhookUrl!, http);
    case 'webhook':
      return createWebhookChannel(secrets.url!, secrets.secret!, http);
  }
}

/** The SMTP settings an email goes out with: a channel's own server, else the server-wide one. */
export function emailTransport(server: ChannelServerSettings, own?: EmailConfig['smtp'], password?: string): EmailTransportOptions {
  if (own) {
    const from = own.from ?? server.smtp?.from;
    if (!from) throw new ChannelUnavailableError(`the channel's SMTP server ${own.host} has no sender: give the channel smtp.from`);
    return { host: own.host, port: own.port, security: own.security, from, timeoutMs: server.timeoutMs, ...(own.user && password ? { auth: { user: own.user, password } } : {}) };
  }
  if (!server.smtp) throw new ChannelUnavailableError('email notifications need an SMTP server: set DRYDOCK_SMTP_HOST and DRYDOCK_SMTP_FROM, or give the channel its own');
  return { ...server.smtp, timeoutMs: server.timeoutMs };
}
