import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DeliveryView } from '@drydock/core';
import { openDatabase } from '@drydock/core';
import { runEndedEvent } from '@drydock/activities';
import { emitNotification } from '@drydock/activities/notify';
import { connectClient, deliveryStarter, type TemporalClientHandle } from '@drydock/temporal';
import { type Receiver, type ReceivedRequest, slackJudge, startReceiver, teamsJudge } from '../support/notify-receivers.ts';
import { asAnotherUser, type UserApi } from '../support/second-user.ts';
import { type SmtpPeer, startSmtpPeer } from '../support/smtp-peer.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// Notifications end to end on one stack: a real SMTP server with STARTTLS and a login, Slack- and Teams-like
// receivers that check the documented payloads, and a webhook receiver that verifies Drydock's signature as
// docs/notifications.md tells receivers to.

const SMTP_USER = 'drydock';
const SMTP_PASSWORD = 'smtp password for tests';

let stack: TestStack;
let smtp: SmtpPeer;
let slack: Receiver;
let teams: Receiver;
let hook: Receiver;
let flaky: Receiver;
let muted: UserApi;
let certDir: string;
let signingSecret: string;
const channelIds: Record<string, string> = {};
type ErrorBody = { error: { message: string; fields?: Record<string, string[]> } };

/** What a receiver does with X-Drydock-Signature (docs/notifications.md): HMAC-SHA256 over `<t>.<raw body>`, t within five minutes. */
function signatureValid(req: ReceivedRequest, secret: string): boolean {
  const parts = String(req.headers['x-drydock-signature'] ?? '').split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  if (!t || !/^\d+$/.test(t) || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${t}.${req.body}`, 'utf8').digest();
  return parts.filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/.test(v ?? '')).some(([, v]) => timingSafeEqual(Buffer.from(v!, 'hex'), expected));
}

async function ok<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

async function deliveries(query = ''): Promise<DeliveryView[]> {
  return (await ok<{ deliveries: DeliveryView[] }>(await stack.api(`/api/v1/notifications/deliveries${query}`), 'deliveries')).deliveries;
}

async function addChannel(body: Record<string, unknown>): Promise<{ id: string; signingSecret?: string }> {
  return ok(await stack.api('/api/v1/notifications/channels', { method: 'POST', json: body }), `channel ${String(body.name)}`);
}

beforeAll(async () => {
  smtp = await startSmtpPeer({ users: { [SMTP_USER]: SMTP_PASSWORD } });
  certDir = await mkdtemp(join(tmpdir(), 'drydock-smtp-ca-'));
  await writeFile(join(certDir, 'ca.pem'), smtp.cert);
  slack = await startReceiver(slackJudge);
  teams = await startReceiver(teamsJudge);
  hook = await startReceiver((req) => (signatureValid(req, signingSecret) ? { status: 200, body: 'stored' } : { status: 401, body: 'bad signature' }));
  flaky = await startReceiver();
  stack = await startTestStack({
    env: {
      DRYDOCK_SMTP_HOST: smtp.host,
      DRYDOCK_SMTP_PORT: String(smtp.port),
      DRYDOCK_SMTP_SECURITY: 'starttls',
      DRYDOCK_SMTP_USER: SMTP_USER,
      DRYDOCK_SMTP_PASSWORD: SMTP_PASSWORD,
      DRYDOCK_SMTP_FROM: 'Drydock <drydock@drydock.test>',
      // The peer's certificate is self-signed: the worker and the API trust it as an operator would a private CA.
      NODE_EXTRA_CA_CERTS: join(certDir, 'ca.pem'),
      DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS: 'true',
    },
  });
  muted = await asAnotherUser(stack, 'operator');

  channelIds.email = (await addChannel({ kind: 'email', name: 'ops mail', to: ['ops@drydock.test', muted.user.email] })).id;
  channelIds.slack = (await addChannel({ kind: 'slack', name: 'ops slack', webhookUrl: slack.url('/services/T000/B000/slack-token-xyz') })).id;
  channelIds.teams = (await addChannel({ kind: 'teams', name: 'ops teams', webhookUrl: teams.url('/workflows/teams-sig-abc?sig=teams-secret') })).id;
  const webhook = await addChannel({ kind: 'webhook', name: 'ops webhook', url: hook.url('/drydock') });
  channelIds.webhook = webhook.id;
  signingSecret = webhook.signingSecret!;
  await ok(
    await stack.api('/api/v1/notifications/rules', { method: 'POST', json: { name: 'failures of fail', events: ['run_failed'], scripts: ['fail'], channelIds: Object.values(channelIds) } }),
    'rule',
  );
}, 180_000);

afterAll(async () => {
  await stack?.teardown();
  await Promise.all([smtp?.close(), slack?.close(), teams?.close(), hook?.close(), flaky?.close()]);
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

describe('notifications', () => {
  test('a failing run notifies email (STARTTLS and login), Slack, Teams and a signed webhook, each linking to the run and Temporal Web', async () => {
    expect(signingSecret).toMatch(/^whsec_/);
    const run = await stack.startRun('fail', { code: 7 });
    expect((await stack.waitForRun(run.id)).status).toBe('failed');
    const eventId = `run_failed.${run.id}`;

    await expect.poll(async () => (await deliveries(`?runId=${run.id}`)).map((d) => `${d.channelKind}:${d.status}`).sort(), { timeout: 60_000 }).toEqual([
      'email:delivered',
      'slack:delivered',
      'teams:delivered',
      'webhook:delivered',
    ]);
    const log = await deliveries(`?runId=${run.id}`);
    for (const d of log) {
      expect(d).toMatchObject({ eventId, event: 'run_failed', runId: run.id });
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0]).toMatchObject({ attempt: 1, outcome: 'delivered' });
    }
    expect(log.find((d) => d.channelKind === 'teams')!.attempts[0]!.status).toBe(202);
    expect(log.find((d) => d.channelKind === 'email')!.attempts[0]!.status).toBe(250);

    const runUrl = `/runs/${run.id}`;
    const temporalWeb = `/workflows/${encodeURIComponent(`run/${run.id}`)}/`;

    const mail = smtp.mails.find((m) => m.parsed.headers.get('x-drydock-event-id') === eventId)!;
    expect(mail).toBeDefined();
    expect(mail).toMatchObject({ secureAtLogin: true, secureAtData: true, user: SMTP_USER });
    expect(mail.envelope.to.sort()).toEqual(['ops@drydock.test', muted.user.email].sort());
    expect(mail.parsed.subject).toMatch(/^\[Drydock\] Fail with an exit code failed on /);
    expect(mail.parsed.text).toContain(runUrl);
    expect(mail.parsed.text).toContain(temporalWeb);
    expect(mail.parsed.text).toContain('7');

    const slackMessage = JSON.parse(slack.requests.at(-1)!.body) as { blocks: { type: string; elements?: { url: string }[] }[] };
    const buttons = slackMessage.blocks.find((b) => b.type === 'actions')!.elements!.map((e) => e.url);
    expect(buttons.some((u) => u.endsWith(runUrl))).toBe(true);
    expect(buttons.some((u) => u.includes(temporalWeb))).toBe(true);
    expect(slack.requests.at(-1)!.path).toBe('/services/T000/B000/slack-token-xyz');

    expect(teams.requests.at(-1)!.body).toContain(runUrl);

    const signed = hook.requests.at(-1)!;
    expect(signatureValid(signed, signingSecret)).toBe(true);
    const body = JSON.parse(signed.body) as { type: string; id: string; notification: { eventId: string; kind: string; links: { url: string }[] } };
    expect(body).toMatchObject({ type: 'drydock.notification', notification: { eventId, kind: 'run_failed' } });
    expect(signed.headers['idempotency-key']).toBe(body.id);
    expect(body.notification.links.map((l) => l.url).some((u) => u.endsWith(runUrl))).toBe(true);

    // The settings page's view: each channel's latest delivery, and no secret anywhere in it.
    const listed = await stack.api('/api/v1/notifications/channels');
    const text = await listed.text();
    expect(text).not.toContain('slack-token-xyz');
    expect(text).not.toContain('teams-secret');
    expect(text).not.toContain(signingSecret);
    const channels = (JSON.parse(text) as { channels: { id: string; failing: boolean; lastDelivery: { status: string } | null; target: string }[] }).channels;
    expect(channels.every((c) => c.lastDelivery?.status === 'delivered' && !c.failing)).toBe(true);
    expect(channels.find((c) => c.id === channelIds.slack)!.target).toMatch(/\/services\/…$/);
  });

  test('the same event emitted again is refused by Temporal and by the unique key: no second delivery', async () => {
    const run = await stack.startRun('fail', { code: 9 });
    await stack.waitForRun(run.id);
    await expect.poll(async () => (await deliveries(`?runId=${run.id}`)).filter((d) => d.status === 'delivered').length, { timeout: 60_000 }).toBe(4);
    const requestsBefore = hook.requests.length;

    const database = openDatabase(stack.databaseUrl, { max: 2 });
    let temporal: TemporalClientHandle | undefined;
    try {
      temporal = await connectClient(stack.config);
      const links = { publicUrl: stack.config.publicUrl, temporalUiUrl: stack.config.temporalUiUrl, namespace: stack.config.TEMPORAL_NAMESPACE };
      const event = await runEndedEvent(database.db, links, run.id);
      const starts: boolean[] = [];
      const start = deliveryStarter(temporal.client);
      const keys = await emitNotification(database.db, async (input) => {
        const started = await start(input);
        starts.push(started);
        return started;
      }, event!);
      expect(keys).toHaveLength(4);
      expect(starts).toEqual([false, false, false, false]);
      const handle = temporal.client.workflow.getHandle(`notify/${keys.find((k) => k.endsWith(channelIds.webhook!))!}`);
      expect(await handle.result()).toBe('delivered');
    } finally {
      await temporal?.close();
      await database.close();
    }
    const log = await deliveries(`?runId=${run.id}`);
    expect(log).toHaveLength(4);
    expect(log.every((d) => d.attempts.length === 1)).toBe(true);
    expect(hook.requests.length).toBe(requestsBefore);
  });

  test('a receiver answering 500 and then 200 gets the notification on the retry, and the log shows both attempts', async () => {
    flaky.answer({ status: 500, body: 'upstream exploded' }, { status: 200, body: 'fine now' });
    const channel = await addChannel({ kind: 'webhook', name: 'flaky', url: flaky.url('/flaky'), secret: 'a-shared-secret-of-enough-length-42' });
    await ok(await stack.api('/api/v1/notifications/rules', { method: 'POST', json: { name: 'successes of true', events: ['run_succeeded'], scripts: ['true'], channelIds: [channel.id] } }), 'rule');

    const run = await stack.startRun('true');
    expect((await stack.waitForRun(run.id)).status).toBe('succeeded');
    await expect.poll(async () => (await deliveries(`?channelId=${channel.id}`))[0]?.status, { timeout: 60_000 }).toBe('delivered');
    const [delivery] = await deliveries(`?channelId=${channel.id}`);
    expect(delivery!.attempts).toMatchObject([
      { attempt: 1, outcome: 'retryable', status: 500, responseExcerpt: 'upstream exploded' },
      { attempt: 2, outcome: 'delivered', status: 200, responseExcerpt: 'fine now' },
    ]);
    expect(flaky.requests.map((r) => r.headers['x-drydock-attempt'])).toEqual(['1', '2']);
    expect(new Set(flaky.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  test('a user who muted failures of their own runs is left out of the email; the others still get it', async () => {
    await ok(await muted.api('/api/v1/notifications/preferences', { method: 'PUT', json: { preferences: [{ event: 'run_failed', mode: 'mute' }] } }), 'mute');
    const started = await ok<{ id: string }>(await muted.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'fail', hostId: 'local', params: { code: 5 } } }), 'run');
    await stack.waitForRun(started.id);
    const eventId = `run_failed.${started.id}`;
    await expect.poll(async () => (await deliveries(`?runId=${started.id}`)).find((d) => d.channelKind === 'email')?.status, { timeout: 60_000 }).toBe('delivered');
    const mails = smtp.mails.filter((m) => m.parsed.headers.get('x-drydock-event-id') === eventId);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.envelope.to).toEqual(['ops@drydock.test']);
    expect(smtp.mails.filter((m) => m.parsed.headers.get('x-drydock-event-id') === eventId && m.envelope.to.includes(muted.user.email))).toEqual([]);
  });

  test('a user who subscribed to successes of their own runs gets an email of their own', async () => {
    await ok(await muted.api('/api/v1/notifications/preferences', { method: 'PUT', json: { preferences: [{ event: 'run_succeeded', mode: 'subscribe' }] } }), 'subscribe');
    const started = await ok<{ id: string }>(await muted.api('/api/v1/runs', { method: 'POST', json: { scriptId: 'true', hostId: 'local', params: {} } }), 'run');
    expect((await stack.waitForRun(started.id)).status).toBe('succeeded');
    await expect.poll(async () => (await deliveries(`?runId=${started.id}`)).find((d) => d.channelId === null)?.status, { timeout: 60_000 }).toBe('delivered');
    expect((await deliveries(`?runId=${started.id}`)).find((d) => d.channelId === null)!.channelName).toBe(`personal: ${muted.user.email}`);
    const mail = smtp.mails.find((m) => m.parsed.headers.get('x-drydock-event-id') === `run_succeeded.${started.id}`)!;
    expect(mail.envelope.to).toEqual([muted.user.email]);
    expect(mail.parsed.text).toContain(`/runs/${started.id}`);
  });

  test('a run waiting for approval in an environment notifies the rule for that environment', async () => {
    await ok(await stack.api('/api/v1/environments', { method: 'POST', json: { name: 'guarded', requiresApproval: true } }), 'environment');
    await ok(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: 'guarded' } }), 'host');
    try {
      await ok(await stack.api('/api/v1/notifications/rules', { method: 'POST', json: { name: 'approvals in guarded', events: ['approval_requested'], environments: ['guarded'], channelIds: [channelIds.slack] } }), 'rule');
      const run = await stack.startRun('true');
      expect(run.status).toBe('waiting_for_approval');
      await expect.poll(async () => (await deliveries(`?runId=${run.id}`)).map((d) => `${d.event}:${d.channelName}:${d.status}`), { timeout: 60_000 }).toEqual(['approval_requested:ops slack:delivered']);
      const message = slack.requests.at(-1)!.body;
      expect(message).toContain('asks to run');
      expect(message).toContain(`/runs/${run.id}`);
      await ok(await muted.api(`/api/v1/runs/${run.id}/reject`, { method: 'POST', json: {} }), 'reject');
    } finally {
      await ok(await stack.api('/api/v1/hosts/local', { method: 'PATCH', json: { environment: null } }), 'host');
    }
  });

  test('bad input: a metadata-service webhook, an SMTP host with a scheme, an operator managing channels', async () => {
    const metadata = await stack.api('/api/v1/notifications/channels', { method: 'POST', json: { kind: 'slack', name: 'imds', webhookUrl: 'http://169.254.169.254/latest/meta-data' } });
    expect(metadata.status).toBe(400);
    expect(((await metadata.json()) as ErrorBody).error.fields?.webhookUrl?.[0]).toMatch(/169\.254\.169\.254/);

    const badHost = await stack.api('/api/v1/notifications/channels', { method: 'POST', json: { kind: 'email', name: 'bad smtp', to: ['a@drydock.test'], smtp: { host: 'smtp://mail.example.com:25' } } });
    expect(badHost.status).toBe(400);
    expect(Object.keys(((await badHost.json()) as ErrorBody).error.fields ?? {})).toEqual(['smtp.host']);

    expect((await muted.api('/api/v1/notifications/channels', { method: 'POST', json: { kind: 'email', name: 'mine', to: ['a@drydock.test'] } })).status).toBe(403);
    expect((await muted.api('/api/v1/notifications/deliveries')).status).toBe(200);
  });
});
