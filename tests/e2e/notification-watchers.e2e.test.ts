import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '@drydock/core';
import { emitNotification } from '@drydock/activities/notify';
import { type Receiver, startReceiver } from '../support/notify-receivers.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

// The events the watcher (`watch/notifications`) emits, on one stack: the agent heartbeats every second, 5 s
// without one is unreachable, and the watcher looks every second, so an outage is news within seconds.

type WebhookBody = { notification: { eventId: string; kind: string; title: string; summary: string; facts: { label: string; value: string }[] } };

let stack: TestStack;
let hook: Receiver;

async function ok<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

function received(kind: string): WebhookBody['notification'][] {
  return hook.requests.map((r) => (JSON.parse(r.body) as WebhookBody).notification).filter((n) => n.kind === kind);
}

beforeAll(async () => {
  hook = await startReceiver();
  stack = await startTestStack({
    env: {
      DRYDOCK_NOTIFY_ALLOW_PRIVATE_TARGETS: 'true',
      DRYDOCK_NOTIFY_WATCH_INTERVAL: '1',
      DRYDOCK_HOST_UNREACHABLE_AFTER: '5',
      DRYDOCK_AGENT_HEARTBEAT_INTERVAL: '1',
    },
  });
  const channel = await ok<{ id: string }>(await stack.api('/api/v1/notifications/channels', { method: 'POST', json: { kind: 'webhook', name: 'ops webhook', url: hook.url('/drydock') } }), 'channel');
  await ok(
    await stack.api('/api/v1/notifications/rules', { method: 'POST', json: { name: 'hosts and locks', events: ['host_unreachable', 'lock_held_too_long'], channelIds: [channel.id] } }),
    'rule',
  );
}, 180_000);

afterAll(async () => {
  await stack?.teardown();
  await hook?.close();
});

describe('notification watchers', () => {
  test('a lock held past the TTL it asked for (extended, not released) is reported once, naming host and holder', async () => {
    const taken = await ok<{ lease: { leaseId: string } }>(await stack.api('/api/v1/locks/local', { method: 'POST', json: { reason: 'disk swap', ttlSeconds: 10 } }), 'lock');
    // Extended before its first term ends: the lease stays held, now past what its holder said it needed.
    await ok(await stack.api('/api/v1/locks/local/extend', { method: 'POST', json: { leaseId: taken.lease.leaseId } }), 'extend');
    await expect.poll(() => received('lock_held_too_long').length, { timeout: 30_000 }).toBe(1);
    const [n] = received('lock_held_too_long');
    expect(n!.eventId).toBe(`lock_held_too_long.${taken.lease.leaseId}`);
    expect(n!.title).toContain('local');
    expect(n!.summary).toContain('disk swap');
    expect(n!.facts).toEqual(expect.arrayContaining([{ label: 'Extensions', value: '1 of 3' }]));
    await ok(await stack.api('/api/v1/locks/local/release', { method: 'POST', json: { leaseId: taken.lease.leaseId } }), 'release');
  });

  test('an agent killed: a host_unreachable message naming the host, once for the outage', async () => {
    expect(received('host_unreachable')).toEqual([]);
    await stack.processes.agent!.kill('SIGKILL');
    await expect.poll(() => received('host_unreachable').length, { timeout: 60_000 }).toBe(1);
    const [n] = received('host_unreachable');
    expect(n!.title).toBe('Host local is unreachable');
    expect(n!.eventId).toMatch(/^host_unreachable\.local\.\d+$/);
    expect(n!.facts).toEqual(expect.arrayContaining([{ label: 'Host', value: 'local' }]));
    // The outage goes on across several sweeps: the delivery log still holds one host_unreachable delivery.
    await expect
      .poll(async () => (await ok<{ deliveries: { event: string; status: string }[] }>(await stack.api('/api/v1/notifications/deliveries'), 'deliveries')).deliveries.filter((d) => d.event === 'host_unreachable'), { timeout: 30_000 })
      .toEqual([expect.objectContaining({ status: 'delivered' })]);
    expect(received('host_unreachable')).toHaveLength(1);
    // Every sweep since the first test saw the extended lease until its release: it was still said once.
    expect(received('lock_held_too_long')).toHaveLength(1);
  });

  test('a delivery whose workflow could not be started (Temporal away at that instant) is started by the watcher and arrives', async () => {
    const database = openDatabase(stack.databaseUrl, { max: 2 });
    const eventId = 'lock_held_too_long.lease-of-a-moment-without-temporal';
    try {
      const host = await database.db.selectFrom('hosts').select('team_id').where('id', '=', 'local').executeTakeFirstOrThrow();
      const emitted = emitNotification(database.db, () => Promise.reject(new Error('Temporal is unavailable')), {
        id: eventId,
        teamId: host.team_id,
        notification: { kind: 'lock_held_too_long', severity: 'warning', title: 'The maintenance lock on local is held past its expected time', summary: '', facts: [], links: [], occurredAt: new Date().toISOString() },
      });
      await expect(emitted).rejects.toThrow('Temporal is unavailable');
    } finally {
      await database.close();
    }
    await expect.poll(() => received('lock_held_too_long').filter((n) => n.eventId === eventId).length, { timeout: 60_000 }).toBe(1);
    await expect
      .poll(async () => (await ok<{ deliveries: { eventId: string; status: string }[] }>(await stack.api('/api/v1/notifications/deliveries'), 'deliveries')).deliveries.filter((d) => d.eventId === eventId), { timeout: 30_000 })
      .toEqual([expect.objectContaining({ status: 'delivered' })]);
  });
});
