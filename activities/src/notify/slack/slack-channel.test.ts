import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, SlackMessageSchema, slackJudge, startReceiver } from '../../../../tests/support/notify-receivers.ts';
import { failedRun } from '../../../../tests/support/notifications.ts';
import { idempotencyKey } from '../delivery.ts';
import { createSlackChannel } from './slack-channel.ts';
import { SLACK_LIMITS } from './slack-message.ts';

// Slack incoming webhooks against a receiver that holds each message to Slack's documented Block Kit limits.

let slack: Receiver;
const policy = { loopback: true, privateNetworks: false };
const key = idempotencyKey('evt-0192-run-failed', 'chan-slack');

beforeAll(async () => {
  slack = await startReceiver(slackJudge);
});
afterAll(() => slack?.close());

async function sent(n = failedRun()) {
  const result = await createSlackChannel(slack.url('/services/T0001/B0001/secretpart'), { policy, timeoutMs: 5000 }).send(n, { idempotencyKey: key, attempt: 1 });
  const message = SlackMessageSchema.parse(JSON.parse(slack.requests.at(-1)!.body));
  return { result, message };
}

describe('a Slack message', () => {
  it('is accepted with a header, the summary, the facts as fields, a context line and link buttons', async () => {
    const { result, message } = await sent();
    expect(result).toMatchObject({ channel: 'slack', outcome: 'delivered', status: 200, responseExcerpt: 'ok', target: `http://127.0.0.1:${new URL(slack.url()).port}/services/…` });
    expect(slack.requests.at(-1)!.headers['idempotency-key']).toBe(key);
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context', 'actions']);
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '🔴 nightly-reset failed on db-staging-1 <script>alert(1)</script>', emoji: true } });
    expect(message.blocks[2]).toMatchObject({ type: 'section', fields: [{ type: 'mrkdwn', text: '*Script*\nnightly-reset' }, {}, {}, {}] });
    expect(message.blocks[3]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Drydock · Run failed · 2030-05-03T16:04:05.000Z' }] });
    expect(message.blocks[4]).toEqual({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Open run' }, url: 'http://127.0.0.1:3000/runs/0192?tab=logs&attempt=2', action_id: 'drydock-link-0' },
        { type: 'button', text: { type: 'plain_text', text: 'Temporal Web' }, url: 'http://localhost:8233/namespaces/default/workflows/run%2F0192/abc/history', action_id: 'drydock-link-1' },
      ],
    });
    expect(message.text).toMatch(/^nightly-reset failed on db-staging-1 &lt;script&gt;/);
    expect(message.text).toContain('Open run: http://127.0.0.1:3000/runs/0192?tab=logs&amp;attempt=2');
  });

  it('escapes &, < and > so a value cannot mention @channel or make a link', async () => {
    const { message } = await sent();
    const summary = message.blocks[1] as { text: { text: string } };
    expect(summary.text.text).toBe('Exit code 3. Last line: &lt;!channel&gt; see [here](https://evil.example/phish) &amp; **urgent**');
    const note = (message.blocks[2] as { fields: { text: string }[] }).fields[3]!.text;
    expect(note).toBe('*Parameter "note"*\n&lt;img src=x onerror=alert(1)&gt; &amp; "quoted" \'single\'');
    expect(slack.requests.at(-1)!.body).not.toMatch(/<!channel>/);
  });

  it('cuts long values to the limits without breaking an escape or a character, and spreads many facts over sections', async () => {
    const longTitle = `${'T'.repeat(145)}🚀🚀🚀🚀`;
    const nearCut = `${'x'.repeat(1985)}&&&&&&&&`;
    const facts = Array.from({ length: 23 }, (_, i) => ({ label: `fact ${i}`, value: i === 0 ? nearCut : `value ${i}` }));
    const { result, message } = await sent(failedRun({ title: longTitle, summary: '<'.repeat(5000), facts, links: [{ label: 'L'.repeat(100), url: 'https://drydock.example/runs/1' }] }));
    expect(result.outcome).toBe('delivered');
    const header = (message.blocks[0] as { text: { text: string } }).text.text;
    expect(header.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    expect(header).toMatch(/^🔴 T+…$/);
    const summary = (message.blocks[1] as { text: { text: string } }).text.text;
    expect(summary.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(summary).toMatch(/^(&lt;)+…$/);
    const sections = message.blocks.filter((b): b is { type: 'section'; fields: { type: 'mrkdwn'; text: string }[] } => b.type === 'section' && 'fields' in b && b.fields !== undefined);
    expect(sections.map((s) => s.fields.length)).toEqual([10, 10, 3]);
    const first = sections[0]!.fields[0]!.text;
    expect(first.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    expect(first).toMatch(/x(&amp;)*…$/);
    const button = (message.blocks.at(-1) as { elements: { text: { text: string } }[] }).elements[0]!.text.text;
    expect(button).toBe(`${'L'.repeat(74)}…`);
  });

  it('leaves out a summary section when there is no summary, and link buttons when there are no links', async () => {
    const { message } = await sent(failedRun({ summary: '', links: [] }));
    expect(message.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  });
});
