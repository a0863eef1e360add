import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../../tests/support/notify-receivers.ts';
import { failedRun } from '../../../tests/support/notifications.ts';
import type { NotificationChannel } from './channel.ts';
import { deliveryFailure, idempotencyKey } from './delivery.ts';
import type { HttpTargetOptions } from './http-post.ts';
import { createSlackChannel } from './slack/slack-channel.ts';
import { createTeamsChannel } from './teams/teams-channel.ts';
import { createWebhookChannel } from './webhook/webhook-channel.ts';

// How the HTTP channels judge what a receiver answers: retryable or permanent, with the answer kept for the log.

let receiver: Receiver;
const NOW = Date.parse('2030-05-03T16:04:05Z');
const http: HttpTargetOptions = { policy: { loopback: true, privateNetworks: false }, timeoutMs: 5000, clock: { now: () => NOW } };
const attempt = { idempotencyKey: idempotencyKey('evt-1', 'chan-1'), attempt: 3 };

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

const channels: [string, (url: string, options?: Partial<HttpTargetOptions>) => NotificationChannel][] = [
  ['slack', (url, o) => createSlackChannel(url, { ...http, ...o })],
  ['teams', (url, o) => createTeamsChannel(url, { ...http, ...o })],
  ['webhook', (url, o) => createWebhookChannel(url, 'whsec_0123456789abcdefghijklmnop', { ...http, ...o })],
];

describe.each(channels)('%s: a receiver answering', (_kind, channel) => {
  async function answered(answer: Parameters<Receiver['answer']>[0]) {
    receiver.answer(answer);
    try {
      return await channel(receiver.url('/hook/secret-token')).send(failedRun(), attempt);
    } finally {
      receiver.answer();
    }
  }

  it('5xx is retryable, and the log keeps the status and the start of the answer', async () => {
    const result = await answered({ status: 502, body: 'upstream <b>gone</b>\u0000\u0007' });
    expect(result).toMatchObject({ outcome: 'retryable', reason: 'server_error', status: 502, responseExcerpt: 'upstream <b>gone</b>', attempt: 3, idempotencyKey: attempt.idempotencyKey, startedAt: '2030-05-03T16:04:05.000Z' });
    expect(result.message).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hook\/… answered HTTP 502 \(server error\); will try again$/);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(deliveryFailure(result)).toMatchObject({ nonRetryable: false, type: 'notify_server_error', message: result.message });
  });

  it('429 with Retry-After in seconds is retryable after that delay', async () => {
    const result = await answered({ status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } });
    expect(result).toMatchObject({ outcome: 'retryable', reason: 'rate_limited', status: 429, retryAfterMs: 30_000 });
    expect(deliveryFailure(result)).toMatchObject({ nonRetryable: false, nextRetryDelay: 30_000 });
  });

  it('429 or 503 with Retry-After as a date waits until then; 408 is retryable', async () => {
    const dated = await answered({ status: 503, headers: { 'retry-after': 'Fri, 03 May 2030 16:06:05 GMT' } });
    expect(dated).toMatchObject({ outcome: 'retryable', reason: 'server_error', retryAfterMs: 120_000 });
    expect(await answered({ status: 429 })).toMatchObject({ outcome: 'retryable', reason: 'rate_limited' });
    expect(await answered({ status: 408 })).toMatchObject({ outcome: 'retryable', reason: 'server_error', status: 408 });
  });

  it('401 and 403 are permanent: the URL or its secret is refused', async () => {
    for (const status of [401, 403]) {
      const result = await answered({ status, body: 'invalid_token' });
      expect(result).toMatchObject({ outcome: 'permanent', reason: 'auth_refused', status });
      expect(deliveryFailure(result)).toMatchObject({ nonRetryable: true, type: 'notify_auth_refused' });
    }
  });

  it('404 and 410 are permanent: the webhook is gone; another 4xx is a permanent rejection', async () => {
    expect(await answered({ status: 404, body: 'no_service' })).toMatchObject({ outcome: 'permanent', reason: 'bad_address', status: 404, responseExcerpt: 'no_service' });
    expect(await answered({ status: 410, body: 'channel_is_archived' })).toMatchObject({ outcome: 'permanent', reason: 'bad_address' });
    expect(await answered({ status: 400, body: 'invalid_payload' })).toMatchObject({ outcome: 'permanent', reason: 'rejected', status: 400 });
  });

  it('keeps only the first kilobyte of a long answer', async () => {
    const result = await answered({ status: 500, body: `${'é'.repeat(2000)}` });
    expect(Buffer.byteLength(result.responseExcerpt!)).toBeLessThanOrEqual(1024 + 3);
    expect(result.responseExcerpt).toMatch(/^é+…$/);
  });

  it('no answer within the timeout is retryable', async () => {
    receiver.answer('hang');
    try {
      const result = await channel(receiver.url('/hook'), { timeoutMs: 300 }).send(failedRun(), attempt);
      expect(result).toMatchObject({ outcome: 'retryable', reason: 'timeout' });
      expect(result.message).toMatch(/did not answer within 0\.3 s$/);
    } finally {
      receiver.answer();
    }
  });

  it('a refused or dropped connection is retryable', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const dropped = await channel(`http://127.0.0.1:${port}/hook`).send(failedRun(), attempt);
      expect(dropped).toMatchObject({ outcome: 'retryable', reason: 'unreachable' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const refused = await channel(`http://127.0.0.1:${port}/hook`).send(failedRun(), attempt);
    expect(refused).toMatchObject({ outcome: 'retryable', reason: 'connection_refused', message: `http://127.0.0.1:${port}/hook/… refused the connection` });
  });
});
