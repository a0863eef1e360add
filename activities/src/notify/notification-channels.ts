import type { NotificationChannel, ChannelSettings } from './channel.ts';
import { createEmailChannel, type EmailTransportOptions } from './email/email-channel.ts';
import type { HttpTargetOptions } from './http-post.ts';
import { createSlackChannel } from './slack/slack-channel.ts';
import { createTeamsChannel } from './teams/teams-channel.ts';
import { createWebhookChannel } from './webhook/webhook-channel.ts';

export interface NotificationChannelDeps {
  http: HttpTargetOptions;
  /** Absent when no SMTP server is configured: an email channel then cannot be built. */
  smtp?: EmailTransportOptions;
}

export class ChannelUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelUnavailableError';
  }
}

/** The channel a stored channel's settings describe, with the server's transports. */
export function createNotificationChannel(settings: ChannelSettings, deps: NotificationChannelDeps): NotificationChannel {
  switch (settings.kind) {
    case 'email':
      if (!deps.smtp) throw new ChannelUnavailableError('email notifications need an SMTP server: set DRYDOCK_SMTP_HOST and DRYDOCK_SMTP_FROM');
      return createEmailChannel(deps.smtp, settings.to);
    case 'slack':
      return createSlackChannel(settings.webhookUrl, deps.http);
    case 'teams':
      return createTeamsChannel(settings.webhookUrl, deps.http);
    case 'webhook':
      return createWebhookChannel(settings.url, settings.secret, deps.http);
  }
}
