import { describe, expect, it } from 'vitest';
import { ChannelSettingsSchema } from './channel.ts';
import { NotificationSchema } from './notification.ts';
import { ChannelUnavailableError, createNotificationChannel } from './notification-channels.ts';

const http = { policy: { loopback: true, privateNetworks: false }, timeoutMs: 1000 };

describe('channel settings', () => {
  it('build the channel of their kind', () => {
    const kinds = [
      { kind: 'slack', webhookUrl: 'https://hooks.slack.com/services/T/B/x' },
      { kind: 'teams', webhookUrl: 'https://example.webhook.office.com/webhookb2/x' },
      { kind: 'webhook', url: 'https://receiver.example/drydock', secret: 'whsec_0123456789abcdefghijklmnop' },
    ].map((s) => createNotificationChannel(ChannelSettingsSchema.parse(s), { http }).kind);
    expect(kinds).toEqual(['slack', 'teams', 'webhook']);
  });

  it('an email channel needs an SMTP server', () => {
    expect(() => createNotificationChannel({ kind: 'email', to: ['ops@example.com'] }, { http })).toThrow(
      new ChannelUnavailableError('email notifications need an SMTP server: set DRYDOCK_SMTP_HOST and DRYDOCK_SMTP_FROM'),
    );
  });

  it('say what is wrong: a URL that is not http, a short secret, no recipients', () => {
    const issues = (s: object) => ChannelSettingsSchema.safeParse(s).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ kind: 'slack', webhookUrl: 'ftp://x.example/' })).toEqual(["webhookUrl: give the webhook's absolute http or https URL"]);
    expect(issues({ kind: 'webhook', url: 'https://x.example/', secret: 'short' })).toEqual(['secret: a signing secret has at least 24 characters; generate one with generateWebhookSecret()']);
    expect(issues({ kind: 'email', to: [] })).toEqual(['to: give at least one recipient']);
    expect(issues({ kind: 'email', to: ['not-an-address'] })).toEqual(['to.0: give each recipient as an email address']);
  });
});

describe('a notification', () => {
  it('takes only web links, so no channel renders a javascript: or data: URL', () => {
    const base = { eventId: 'e', kind: 'run_failed', severity: 'critical', title: 't', occurredAt: '2030-05-03T16:04:05Z' };
    expect(NotificationSchema.safeParse({ ...base, links: [{ label: 'x', url: 'javascript:alert(1)' }] }).error?.issues[0]?.message).toBe('a link is an absolute http or https URL');
    expect(NotificationSchema.safeParse({ ...base, links: [{ label: 'x', url: 'data:text/html,hi' }] }).success).toBe(false);
    expect(NotificationSchema.parse(base)).toMatchObject({ summary: '', facts: [], links: [] });
  });
});
