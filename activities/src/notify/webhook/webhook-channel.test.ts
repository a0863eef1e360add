import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@drydock/core';
import { type Receiver, startReceiver } from '../../../../tests/support/notify-receivers.ts';
import { failedRun } from '../../../../tests/support/notifications.ts';
import { idempotencyKey } from '../delivery.ts';
import { NotificationSchema } from '../notification.ts';
import { createWebhookChannel } from './webhook-channel.ts';
import { generateWebhookSecret, signatureHeader, verifySignature } from './webhook-signature.ts';

// A generic webhook receiver that verifies the signature with nothing but what docs/notifications.md says:
// it runs the page's Node.js recipe, taken from the page itself.

type Verify = (rawBody: string | Buffer, header: string | undefined, secret: string, options?: { toleranceSeconds?: number; now?: number }) => boolean;

let receiver: Receiver;
let verifyFromDocs: Verify;
let recipeDir: string;
const secret = generateWebhookSecret();
const policy = { loopback: true, privateNetworks: false };
const key = idempotencyKey('evt-0192-run-failed', 'chan-webhook');

beforeAll(async () => {
  const doc = await readFile(join(REPO_ROOT, 'docs/notifications.md'), 'utf8');
  const recipe = /```js\n(\/\/ verify-drydock-webhook\.mjs\n[\s\S]*?)```/.exec(doc)?.[1];
  if (!recipe) throw new Error('docs/notifications.md has no verify-drydock-webhook.mjs recipe');
  recipeDir = await mkdtemp(join(tmpdir(), 'drydock-recipe-'));
  await writeFile(join(recipeDir, 'verify-drydock-webhook.mjs'), recipe);
  ({ verifyDrydockWebhook: verifyFromDocs } = (await import(pathToFileURL(join(recipeDir, 'verify-drydock-webhook.mjs')).href)) as { verifyDrydockWebhook: Verify });
  // The receiver a reader of the page would write: refuse what does not verify, else store and answer 204.
  receiver = await startReceiver((req) =>
    verifyFromDocs(req.body, req.headers['x-drydock-signature'] as string | undefined, secret) ? { status: 204 } : { status: 401, body: 'bad signature' },
  );
});
afterAll(async () => {
  await receiver?.close();
  if (recipeDir) await rm(recipeDir, { recursive: true, force: true });
});

describe('a generic webhook', () => {
  it('posts the documented JSON with its headers, and the receiver verifies the signature with the recipe from the docs', async () => {
    const result = await createWebhookChannel(receiver.url('/drydock'), secret, { policy, timeoutMs: 5000 }).send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(result).toMatchObject({ channel: 'webhook', outcome: 'delivered', status: 204, idempotencyKey: key });
    const req = receiver.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'idempotency-key': key,
      'x-drydock-event': 'run_failed',
      'x-drydock-attempt': '1',
      'x-drydock-signature': expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/),
    });
    const body = JSON.parse(req.body) as { type: string; version: number; id: string; notification: unknown };
    expect(body).toMatchObject({ type: 'drydock.notification', version: 1, id: key });
    expect(NotificationSchema.parse(body.notification)).toEqual(failedRun());
  });

  it('signs each attempt afresh with its own time, and keeps the key', async () => {
    let now = Date.parse('2030-05-03T16:04:05Z');
    const clocked = await startReceiver((req) =>
      verifyFromDocs(req.body, req.headers['x-drydock-signature'] as string, secret, { now: Date.parse('2030-05-03T16:04:05Z') }) ? { status: 200 } : { status: 401 },
    );
    try {
      const sent = createWebhookChannel(clocked.url(), secret, { policy, timeoutMs: 5000, clock: { now: () => now } });
      expect((await sent.send(failedRun(), { idempotencyKey: key, attempt: 1 })).outcome).toBe('delivered');
      now += 3_600_000;
      const late = await sent.send(failedRun(), { idempotencyKey: key, attempt: 2 });
      // The receiver's clock says 16:04; an attempt signed an hour later is outside its five minutes.
      expect(late).toMatchObject({ outcome: 'permanent', reason: 'auth_refused', status: 401 });
      const [first, second] = clocked.requests;
      expect(first!.headers['x-drydock-signature']).toMatch(/^t=1904054645,/);
      expect(second!.headers['x-drydock-signature']).toMatch(/^t=1904058245,/);
      expect(second!.headers['idempotency-key']).toBe(first!.headers['idempotency-key']);
      expect(second!.body).toBe(first!.body);
    } finally {
      await clocked.close();
    }
  });

  it('is refused by the documented check when the body, the secret or the time is not the one signed', () => {
    const body = JSON.stringify({ hello: 'world' });
    const t = Math.floor(Date.now() / 1000);
    const header = signatureHeader(secret, body, t);
    expect(verifyFromDocs(body, header, secret)).toBe(true);
    expect(verifyFromDocs(Buffer.from(body), header, secret)).toBe(true);
    expect(verifyFromDocs(`${body} `, header, secret)).toBe(false);
    expect(verifyFromDocs(body, header, generateWebhookSecret())).toBe(false);
    expect(verifyFromDocs(body, signatureHeader(secret, body, t - 301), secret)).toBe(false);
    expect(verifyFromDocs(body, `t=${t},v1=${'0'.repeat(64)},${header.split(',')[1]}`, secret)).toBe(true);
    expect(verifyFromDocs(body, undefined, secret)).toBe(false);
    expect(verifyFromDocs(body, 'v1=abc', secret)).toBe(false);
    // Drydock's own check agrees with the page's.
    expect(verifySignature(secret, body, header, t)).toBe(true);
    expect(verifySignature(secret, `${body} `, header, t)).toBe(false);
  });

  it('a receiver that refuses the signature is a permanent failure: the secret is no longer the one it knows', async () => {
    const result = await createWebhookChannel(receiver.url('/drydock'), generateWebhookSecret(), { policy, timeoutMs: 5000 }).send(failedRun(), { idempotencyKey: key, attempt: 1 });
    expect(result).toMatchObject({ outcome: 'permanent', reason: 'auth_refused', status: 401, responseExcerpt: 'bad signature' });
    expect(JSON.stringify(result)).not.toContain(secret);
  });
});
