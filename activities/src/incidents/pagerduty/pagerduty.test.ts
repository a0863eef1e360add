import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../tests/support/cicd-doubles/webhook-receiver.ts';
import { startPagerdutyDouble, type PagerdutyDouble, type PagerdutyUser } from '../../../../tests/support/pagerduty-double.ts';
import { createPagerdutyClient, type PagerdutyClient } from './pagerduty-client.ts';
import { PagerdutyError } from './pagerduty-error.ts';
import { drydockStatusOf, pagerdutyUpdateFor } from './pagerduty-incident.ts';
import { receivePagerdutyWebhook, type PagerdutyReceipt } from './pagerduty-webhook.ts';

// Against tests/support/pagerduty-double.ts: PagerDuty's REST API v2 and its signed V3 webhooks, as documented.

const SECRET = 'pd-subscription-secret-1';

let pd: PagerdutyDouble;
let hooks: WebhookReceiver;
let drydockUser: PagerdutyUser;
let alice: PagerdutyUser;
let token: string;
let client: PagerdutyClient;
let subscription: string;

async function failure(promise: Promise<unknown>): Promise<PagerdutyError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PagerdutyError) return err;
    throw err;
  }
  throw new Error('expected a PagerdutyError');
}

/** Every delivery since `from`, as Drydock's receiver reads it. */
async function receivedSince(from: number, secrets = [SECRET]): Promise<PagerdutyReceipt[]> {
  await pd.settled();
  return hooks.deliveries.slice(from).map((d) => receivePagerdutyWebhook(d.headers as Record<string, string>, d.body, secrets));
}

beforeAll(async () => {
  pd = await startPagerdutyDouble();
  hooks = await startWebhookReceiver();
  drydockUser = pd.addUser('Drydock', 'drydock@example.com');
  alice = pd.addUser('Alice', 'alice@example.com');
  token = pd.addToken('full');
  client = createPagerdutyClient({ apiUrl: pd.url, token, fromEmail: drydockUser.email });
  subscription = pd.subscribe(hooks.url, SECRET);
});
afterAll(async () => {
  await pd?.close();
  await hooks?.close();
});
beforeEach(() => {
  pd.seen.length = 0;
});

describe('PagerDuty incidents kept in sync both ways', () => {
  it('takes a triggered incident from a signed webhook, and follows a person acknowledging it in PagerDuty', async () => {
    await pd.settled();
    const from = hooks.deliveries.length;
    const incident = pd.trigger({ title: 'Checkout 5xx above 5 %', service: 'Checkout', priority: 'P1' });
    pd.act(incident.id, 'acknowledged', alice);
    const [triggered, acknowledged] = await receivedSince(from);
    expect(triggered).toMatchObject({
      ok: true,
      webhookId: expect.any(String),
      event: {
        kind: 'status',
        eventType: 'incident.triggered',
        incident: { id: incident.id, number: incident.number, title: 'Checkout 5xx above 5 %', status: 'triggered', urgency: 'high', service: { name: 'Checkout' }, priority: 'P1', htmlUrl: `https://acme.pagerduty.com/incidents/${incident.id}` },
      },
    });
    expect(triggered).not.toHaveProperty('event.agent');
    expect(acknowledged).toMatchObject({ ok: true, event: { eventType: 'incident.acknowledged', agent: { id: alice.id, name: 'Alice' }, incident: { status: 'acknowledged', assignees: ['Alice'] } } });
    if (!acknowledged?.ok || acknowledged.event.kind !== 'status') throw new Error('expected a status event');
    expect(drydockStatusOf(acknowledged.event.incident.status)).toBe('investigating');
    // Drydock already shows it as investigating: nothing to send back.
    expect(pagerdutyUpdateFor('investigating', acknowledged.event.incident.status)).toBeUndefined();
  });

  it("sends Drydock's status changes and notes through the REST API, as the From user, and hears them back", async () => {
    const incident = pd.trigger({ title: 'Disk full on web-1' });
    await pd.settled();
    const from = hooks.deliveries.length;

    expect(await client.getIncident(incident.id)).toMatchObject({ id: incident.id, number: incident.number, title: 'Disk full on web-1', status: 'triggered', service: { name: 'Checkout' }, assignees: [] });
    expect(pagerdutyUpdateFor('investigating', 'triggered')).toBe('acknowledged');
    expect(await client.acknowledge(incident.id)).toMatchObject({ status: 'acknowledged', assignees: ['Drydock'] });
    expect(await client.addNote(incident.id, 'Drydock: deployment gha/812 went out 4 minutes before the alert')).toMatchObject({ id: expect.any(String), user: 'Drydock', content: 'Drydock: deployment gha/812 went out 4 minutes before the alert' });
    expect(await client.resolve(incident.id, { resolution: 'Rolled back checkout' })).toMatchObject({ status: 'resolved' });
    // Resolving twice (a retried activity) is not an error.
    expect(await client.resolve(incident.id)).toMatchObject({ status: 'resolved' });
    expect(pd.incidents.get(incident.id)).toMatchObject({ status: 'resolved', resolution: 'Rolled back checkout', notes: [{ userId: drydockUser.id }] });

    // What crossed the wire: the versioned Accept on every request, JSON and From on every write.
    expect(pd.server.requests.every((r) => r.auth === 'Token')).toBe(true);
    expect(pd.seen.map((r) => [r.method, r.path.replace(incident.id, ':id'), r.accept, r.contentType ?? null, r.from ?? null])).toEqual([
      ['GET', '/incidents/:id', 'application/vnd.pagerduty+json;version=2', null, null],
      ['PUT', '/incidents/:id', 'application/vnd.pagerduty+json;version=2', 'application/json', 'drydock@example.com'],
      ['POST', '/incidents/:id/notes', 'application/vnd.pagerduty+json;version=2', 'application/json', 'drydock@example.com'],
      ['PUT', '/incidents/:id', 'application/vnd.pagerduty+json;version=2', 'application/json', 'drydock@example.com'],
      ['PUT', '/incidents/:id', 'application/vnd.pagerduty+json;version=2', 'application/json', 'drydock@example.com'],
      ['GET', '/incidents/:id', 'application/vnd.pagerduty+json;version=2', null, null],
    ]);

    // PagerDuty tells Drydock of its own changes: the agent is Drydock's user, and the statuses already match.
    const back = await receivedSince(from);
    expect(back.map((r) => (r.ok ? [r.event.eventType, r.event.kind === 'status' ? r.event.agent?.id : r.event.reason] : r.reason))).toEqual([
      ['incident.acknowledged', drydockUser.id],
      ['incident.annotated', "a note added in PagerDuty is not copied to Drydock's timeline"],
      ['incident.resolved', drydockUser.id],
    ]);
    expect(pagerdutyUpdateFor('resolved', 'resolved')).toBeUndefined();
    // Reopened in Drydock: PagerDuty's incident is triggered again.
    expect(await client.setStatus(incident.id, pagerdutyUpdateFor('open', 'resolved')!)).toMatchObject({ status: 'triggered' });
    const [reopened] = await receivedSince(from + 3);
    expect(reopened).toMatchObject({ ok: true, event: { eventType: 'incident.reopened', incident: { status: 'triggered' } } });
  });
});

describe('PagerDuty refusing Drydock', () => {
  it('says what to fix for a bad token, a read-only token, an unknown From user and an unknown incident, never showing the token', async () => {
    const incident = pd.trigger({ title: 'x' });
    const wrong = await failure(createPagerdutyClient({ apiUrl: pd.url, token: 'u+not-a-token', fromEmail: drydockUser.email }).getIncident(incident.id));
    expect(wrong).toMatchObject({ reason: 'bad_credentials', status: 401, code: 2006 });

    const readOnly = pd.addToken('read');
    const denied = await failure(createPagerdutyClient({ apiUrl: pd.url, token: readOnly, fromEmail: drydockUser.email }).acknowledge(incident.id));
    expect(denied).toMatchObject({ reason: 'permission_denied', status: 403, code: 2010 });
    expect(denied.message).toContain('the token needs full access');

    const stranger = await failure(createPagerdutyClient({ apiUrl: pd.url, token, fromEmail: 'nobody@example.com' }).acknowledge(incident.id));
    expect(stranger).toMatchObject({ reason: 'rejected', status: 400, code: 2001, message: 'PagerDuty does not know nobody@example.com as a user of this account; set DRYDOCK_PAGERDUTY_FROM_EMAIL to the email of a PagerDuty user Drydock acts as' });

    expect(await failure(client.getIncident('PNOPE00'))).toMatchObject({ reason: 'not_found', message: 'PagerDuty has no incident PNOPE00 that this token can see' });
    const traversal = await failure(client.getIncident('../users'));
    expect(traversal).toMatchObject({ reason: 'rejected' });
    expect(pd.seen.some((r) => r.path.includes('users'))).toBe(false);

    for (const error of [wrong, denied, stranger]) expect(JSON.stringify({ message: error.message, error })).not.toContain(token);
    expect(JSON.stringify(denied)).not.toContain(readOnly);
  });

  it('waits out a rate limit, and tells PagerDuty being down from being unreachable', async () => {
    const incident = pd.trigger({ title: 'y' });
    pd.server.rateLimit({ status: 429, headers: { 'ratelimit-limit': '960', 'ratelimit-remaining': '0', 'ratelimit-reset': '20' }, body: { error: { message: 'Rate Limit Exceeded', code: 2020 } } });
    const limited = await failure(client.getIncident(incident.id));
    expect(limited).toMatchObject({ reason: 'rate_limited', retryAfterMs: 20_000, retryable: true });

    await pd.server.down('502');
    expect(await failure(client.getIncident(incident.id))).toMatchObject({ reason: 'unavailable', status: 502, retryable: true });
    await pd.server.down('refuse');
    const unreachable = await failure(client.acknowledge(incident.id));
    expect(unreachable).toMatchObject({ reason: 'unreachable', retryable: true });
    // A kept-alive connection that the shutdown cut reads as closed; a new one is refused.
    expect(unreachable.message).toMatch(new RegExp(`^PagerDuty at ${pd.url} is unreachable: (connection refused|the connection was closed); try again, or check the API URL$`));
    await pd.server.up();
    expect(await client.acknowledge(incident.id)).toMatchObject({ status: 'acknowledged' });
  });
});

describe('PagerDuty V3 webhook signatures', () => {
  it('accepts a delivery signed with any current secret while one is rotated, and refuses forged, unsigned and altered ones', async () => {
    await pd.settled();
    const from = hooks.deliveries.length;
    pd.rotate(subscription, 'pd-subscription-secret-2');
    pd.trigger({ title: 'rotation' });
    await pd.settled();
    const delivery = hooks.deliveries[from]!;
    const headers = delivery.headers as Record<string, string>;
    expect(headers['x-pagerduty-signature']).toMatch(/^v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(headers['user-agent']).toBe('PagerDuty-Webhook/V3.0');

    expect(receivePagerdutyWebhook(headers, delivery.body, [SECRET]).ok).toBe(true);
    expect(receivePagerdutyWebhook(headers, delivery.body, ['pd-subscription-secret-2']).ok).toBe(true);
    expect(receivePagerdutyWebhook(headers, delivery.body, ['old-and-gone', 'pd-subscription-secret-2']).ok).toBe(true);
    expect(receivePagerdutyWebhook(headers, delivery.body, ['someone-elses-secret'])).toMatchObject({ ok: false, reason: 'forged' });
    const unsigned = { ...headers };
    delete unsigned['x-pagerduty-signature'];
    expect(receivePagerdutyWebhook(unsigned, delivery.body, [SECRET])).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(receivePagerdutyWebhook({ ...unsigned, 'X-PagerDuty-Signature': 'v0=abc' }, delivery.body, [SECRET])).toMatchObject({ ok: false, reason: 'unsigned' });
    const altered = Buffer.from(delivery.body.toString('utf8').replace('rotation', 'rotatiom'));
    expect(receivePagerdutyWebhook(headers, altered, [SECRET])).toMatchObject({ ok: false, reason: 'forged' });

    pd.finishRotation(subscription);
    pd.trigger({ title: 'after rotation' });
    const [after] = await receivedSince(from + 1, [SECRET]);
    expect(after).toMatchObject({ ok: false, reason: 'forged' });
    expect((await receivedSince(from + 1, ['pd-subscription-secret-2']))[0]).toMatchObject({ ok: true });
  });

  it('says which field of a signed but malformed event is wrong, and ignores events it does not follow, saying why', async () => {
    const { createHmac } = await import('node:crypto');
    const signed = (body: string) => ({ 'x-pagerduty-signature': `v1=${createHmac('sha256', SECRET).update(body).digest('hex')}` });
    const bad = JSON.stringify({ event: { id: 'E1', event_type: 'incident.resolved', resource_type: 'incident', occurred_at: '2026-03-02T10:00:00Z', data: { id: 'Q1', type: 'incident', number: 'one', status: 'gone', created_at: 'x', title: 't', service: { id: 'S', type: 'service_reference' }, urgency: 'high' } } });
    const malformed = receivePagerdutyWebhook(signed(bad), bad, [SECRET]);
    expect(malformed).toMatchObject({ ok: false, reason: 'malformed', fields: { 'event.data.number': [expect.any(String)], 'event.data.status': ['status is triggered, acknowledged or resolved'], 'event.data.created_at': ['expected an ISO 8601 time'] } });
    expect(receivePagerdutyWebhook(signed('{"event":'), '{"event":', [SECRET])).toMatchObject({ ok: false, reason: 'malformed' });

    const service = JSON.stringify({ event: { id: 'E2', event_type: 'service.updated', resource_type: 'service', occurred_at: '2026-03-02T10:00:00Z', agent: null, data: { id: 'PF9KMXH', type: 'service' } } });
    expect(receivePagerdutyWebhook(signed(service), service, [SECRET])).toMatchObject({ ok: true, event: { kind: 'ignored', eventType: 'service.updated', reason: 'service.updated is not about an incident' } });
  });
});
