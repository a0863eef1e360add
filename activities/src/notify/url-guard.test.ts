import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyTargetPolicy } from '@drydock/core';
import { type Receiver, startReceiver } from '../../../tests/support/notify-receivers.ts';
import { failedRun } from '../../../tests/support/notifications.ts';
import { createWebhookChannel } from './webhook/webhook-channel.ts';
import { checkTargetUrl, classifyAddress, guardedLookup, type LookupFunction, redactUrl, TargetRefusedError } from './url-guard.ts';

const forbid: NotifyTargetPolicy = { loopback: false, privateNetworks: false };
const loopbackOnly: NotifyTargetPolicy = { loopback: true, privateNetworks: false };
const allowAll: NotifyTargetPolicy = { loopback: true, privateNetworks: true };
const SECRET = 'whsec_test-secret-0123456789abcdef';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

/** A resolver that answers from a table, as DNS would: a name may have several addresses, and may change its answer between calls. */
function fakeDns(table: Record<string, string[] | (() => string[])>): LookupFunction {
  const lookup = (hostname: string, options: unknown, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[] | string, family?: number) => void) => {
    const entry = table[hostname];
    const addresses = typeof entry === 'function' ? entry() : entry;
    if (!addresses) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    const list = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if ((options as { all?: boolean }).all) callback(null, list);
    else callback(null, list[0]!.address, list[0]!.family);
  };
  return lookup as unknown as LookupFunction;
}

async function refusal(promise: Promise<unknown>): Promise<TargetRefusedError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TargetRefusedError) return err;
    throw err;
  }
  throw new Error('expected a TargetRefusedError');
}

describe('address classes', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.10.20', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });
});

describe('the save-time check of a URL', () => {
  it.each([
    ['http://127.0.0.1/hook', 'loopback', '127.0.0.1'],
    ['http://2130706433/hook', 'loopback', '127.0.0.1'],
    ['http://0x7f.0.0.1/hook', 'loopback', '127.0.0.1'],
    ['http://0177.0.0.1/hook', 'loopback', '127.0.0.1'],
    ['http://127.1/hook', 'loopback', '127.0.0.1'],
    ['http://[::1]/hook', 'loopback', '::1'],
    ['http://[::ffff:127.0.0.1]/hook', 'loopback', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:0:0:1]/hook', 'loopback', '::1'],
    ['http://10.0.0.8:8080/hook', 'private', '10.0.0.8'],
    ['http://0xa9fea9fe/latest/meta-data', 'metadata', '169.254.169.254'],
    ['http://[fe80::1]/hook', 'link-local', 'fe80::1'],
    ['http://100.64.1.1/hook', 'cgnat', '100.64.1.1'],
    ['http://224.0.0.251/hook', 'multicast', '224.0.0.251'],
    ['http://0.0.0.0:3000/hook', 'unspecified', '0.0.0.0'],
  ])('refuses %s: %s', async (url, cls, address) => {
    const err = await refusal(checkTargetUrl(url, forbid));
    expect(err).toMatchObject({ addressClass: cls, address });
  });

  it('names the address and its class, and says how to allow private ones', async () => {
    expect((await refusal(checkTargetUrl('http://2130706433/hook', forbid))).message).toBe(
      '127.0.0.1 is a loopback address: this server does not send notifications there; an administrator can allow it with DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS=true',
    );
    expect((await refusal(checkTargetUrl('http://169.254.169.254/', allowAll))).message).toBe(
      '169.254.169.254 is a cloud metadata service address: Drydock never sends notifications there',
    );
  });

  it('refuses a name that resolves to a forbidden address, or to several addresses of which one is', async () => {
    const dns = fakeDns({ 'hooks.internal.example': ['127.0.0.1'], 'mixed.example': ['93.184.215.14', '10.0.0.5'], 'public.example': ['93.184.215.14'] });
    expect(await refusal(checkTargetUrl('https://hooks.internal.example/x', forbid, dns))).toMatchObject({
      addressClass: 'loopback',
      message: expect.stringMatching(/^hooks\.internal\.example \(127\.0\.0\.1\) is a loopback address/),
    });
    expect(await refusal(checkTargetUrl('https://mixed.example/x', forbid, dns))).toMatchObject({ addressClass: 'private', address: '10.0.0.5' });
    await expect(checkTargetUrl('https://public.example/x', forbid, dns)).resolves.toBeInstanceOf(URL);
    // A name the API cannot resolve is saved: the workers send, through their own DNS, checked at each connection.
    await expect(checkTargetUrl('https://nowhere.example/x', forbid, dns)).resolves.toBeInstanceOf(URL);
    const atSend = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup(forbid, dns)('nowhere.example', { all: true }, (err) => resolve(err)));
    expect(atSend?.code).toBe('ENOTFOUND');
  });

  it('refuses other schemes and credentials in the URL', async () => {
    expect((await refusal(checkTargetUrl('file:///etc/passwd', allowAll))).message).toBe('file: URLs are not supported: give an http or https URL');
    expect((await refusal(checkTargetUrl('gopher://x.example/', allowAll))).message).toMatch(/gopher: URLs are not supported/);
    expect((await refusal(checkTargetUrl('https://user:pw@x.example/', allowAll))).message).toMatch(/carries a user name or password/);
    expect((await refusal(checkTargetUrl('not a url', allowAll))).message).toBe('the URL is not valid: give an absolute http or https URL');
  });

  it('lets loopback through when the setting allows it, never metadata', async () => {
    await expect(checkTargetUrl('http://127.0.0.1:9/hook', loopbackOnly)).resolves.toBeInstanceOf(URL);
    expect(await refusal(checkTargetUrl('http://10.0.0.1/hook', loopbackOnly))).toMatchObject({ addressClass: 'private' });
    await expect(checkTargetUrl('http://10.0.0.1/hook', allowAll)).resolves.toBeInstanceOf(URL);
    expect(await refusal(checkTargetUrl('http://[fd00:ec2::254]/', allowAll))).toMatchObject({ addressClass: 'metadata' });
  });

  it('hides the secret part of a webhook URL when it names one', () => {
    expect(redactUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET')).toBe('https://hooks.slack.com/services/…');
    expect(redactUrl('https://prod.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=SECRET')).toBe('https://prod.westeurope.logic.azure.com/workflows/…');
  });
});

describe('the check at connect time', () => {
  const attempt = { idempotencyKey: 'dd-guard', attempt: 1 };

  it('refuses a name resolving to 127.0.0.1 when loopback is forbidden, and sends nothing', async () => {
    const before = receiver.requests.length;
    const dns = fakeDns({ 'receiver.test': ['127.0.0.1'] });
    const url = receiver.url('/hook').replace('127.0.0.1', 'receiver.test');
    const result = await createWebhookChannel(url, SECRET, { policy: forbid, timeoutMs: 5000, lookup: dns }).send(failedRun(), attempt);
    expect(result).toMatchObject({ outcome: 'permanent', reason: 'forbidden_target' });
    expect(result.message).toMatch(/^not sent to http:\/\/receiver\.test:\d+\/hook\/…: receiver\.test \(127\.0\.0\.1\) is a loopback address/);
    expect(receiver.requests.length).toBe(before);
  });

  it('delivers to the same name when loopback is allowed', async () => {
    const dns = fakeDns({ 'receiver.test': ['127.0.0.1'] });
    const url = receiver.url('/hook').replace('127.0.0.1', 'receiver.test');
    const result = await createWebhookChannel(url, SECRET, { policy: loopbackOnly, timeoutMs: 5000, lookup: dns }).send(failedRun(), attempt);
    expect(result).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(receiver.requests.at(-1)?.headers.host).toMatch(/^receiver\.test:\d+$/);
  });

  it('defeats DNS rebinding: a name that was public when saved and is loopback when sending is refused', async () => {
    let answers = 0;
    const dns = fakeDns({ 'rebind.test': () => (answers++ === 0 ? ['93.184.215.14'] : ['127.0.0.1']) });
    const url = receiver.url('/hook').replace('127.0.0.1', 'rebind.test');
    await expect(checkTargetUrl(url, forbid, dns)).resolves.toBeInstanceOf(URL);
    const before = receiver.requests.length;
    const result = await createWebhookChannel(url, SECRET, { policy: forbid, timeoutMs: 5000, lookup: dns }).send(failedRun(), attempt);
    expect(result).toMatchObject({ outcome: 'permanent', reason: 'forbidden_target' });
    expect(receiver.requests.length).toBe(before);
  });

  it('refuses a literal private address in any spelling before connecting', async () => {
    const url = receiver.url('/hook').replace('127.0.0.1', '2130706433');
    const result = await createWebhookChannel(url, SECRET, { policy: forbid, timeoutMs: 5000 }).send(failedRun(), attempt);
    expect(result).toMatchObject({ outcome: 'permanent', reason: 'forbidden_target' });
  });

  it('follows no redirect, to a forbidden target or any other', async () => {
    const inner = await startReceiver();
    try {
      receiver.answer({ status: 307, headers: { location: inner.url('/metadata') } });
      const result = await createWebhookChannel(receiver.url('/redirecting'), SECRET, { policy: loopbackOnly, timeoutMs: 5000 }).send(failedRun(), attempt);
      expect(result).toMatchObject({ outcome: 'permanent', reason: 'redirect', status: 307 });
      expect(result.message).toMatch(/answered HTTP 307, a redirect to http:\/\/127\.0\.0\.1:\d+\/metadata\/…; Drydock follows no redirects: give the final URL/);
      expect(inner.requests).toEqual([]);
    } finally {
      receiver.answer();
      await inner.close();
    }
  });
});
