import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CreateChannelBodySchema, SecretBox, ValidationError } from '@drydock/core';
import { channelRecord, openChannel } from './channel-store.ts';
import { ruleMatches } from './events.ts';

const box = new SecretBox({ m1: randomBytes(32) }, 'm1');
const server = { policy: { loopback: false, privateNetworks: false }, timeoutMs: 1000, lookup: ((_h: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) => cb(null, [{ address: '93.184.215.14', family: 4 }])) as never };
const body = (b: object) => CreateChannelBodySchema.parse(b);

describe('a stored channel', () => {
  it('keeps Slack and Teams URLs and a webhook secret sealed; what may be shown holds none of them', async () => {
    const slack = await channelRecord(body({ kind: 'slack', name: 's', webhookUrl: 'https://hooks.slack.com/services/T0/B0/sekrit-token' }), box, server);
    expect(JSON.stringify({ ...slack, sealed: undefined })).not.toContain('sekrit-token');
    expect(slack.target).toBe('https://hooks.slack.com/services/…');
    expect(box.open(slack.sealed!)).toContain('sekrit-token');

    const hook = await channelRecord(body({ kind: 'webhook', name: 'w', url: 'https://receiver.example/in' }), box, server);
    expect(hook.signingSecret).toMatch(/^whsec_/);
    expect(JSON.stringify(hook.config)).not.toContain(hook.signingSecret!);
    expect(openChannel({ kind: 'webhook', config: hook.config, sealed: hook.sealed }, box, server).kind).toBe('webhook');
  });

  it('seals an email channel\'s own SMTP password and shows its host', async () => {
    const mail = await channelRecord(body({ kind: 'email', name: 'm', to: ['ops@example.com'], smtp: { host: 'smtp.example.com', user: 'u', password: 'pw-123', from: 'dd@example.com' } }), box, server);
    expect(mail.config).toEqual({ to: ['ops@example.com'], smtp: { host: 'smtp.example.com', port: 587, security: 'starttls', user: 'u', from: 'dd@example.com' } });
    expect(box.open(mail.sealed!)).toContain('pw-123');
  });

  it('refuses a URL the guard forbids, naming the field, and email without any SMTP server', async () => {
    await expect(channelRecord(body({ kind: 'teams', name: 't', webhookUrl: 'http://127.0.0.1:8080/hook' }), box, server)).rejects.toMatchObject({ fields: { webhookUrl: [expect.stringMatching(/127\.0\.0\.1/)] } });
    await expect(channelRecord(body({ kind: 'email', name: 'm', to: ['a@example.com'] }), box, server)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('a rule', () => {
  const rule = { events: ['run_failed'], scripts: [], environments: ['staging'], tags: ['db'], channel_ids: [] };
  it('takes an event of its kind when every non-empty filter matches', () => {
    expect(ruleMatches(rule, { kind: 'run_failed', scriptId: 'x', environment: 'staging', tags: ['web', 'db'] })).toBe(true);
    expect(ruleMatches(rule, { kind: 'run_succeeded', scriptId: 'x', environment: 'staging', tags: ['db'] })).toBe(false);
    expect(ruleMatches(rule, { kind: 'run_failed', scriptId: 'x', environment: 'prod', tags: ['db'] })).toBe(false);
    expect(ruleMatches(rule, { kind: 'run_failed', scriptId: 'x', environment: null, tags: ['db'] })).toBe(false);
    expect(ruleMatches(rule, { kind: 'run_failed', scriptId: 'x', environment: 'staging', tags: [] })).toBe(false);
    expect(ruleMatches({ ...rule, environments: [], tags: [], scripts: ['y'] }, { kind: 'run_failed', scriptId: 'x' })).toBe(false);
  });
});
