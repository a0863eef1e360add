import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adaptiveCardProblems, type Receiver, startReceiver, teamsJudge, TeamsMessageSchema } from '../../../../tests/support/notify-receivers.ts';
import { failedRun } from '../../../../tests/support/notifications.ts';
import { idempotencyKey } from '../delivery.ts';
import { createTeamsChannel } from './teams-channel.ts';

// Teams webhooks against a receiver that checks the documented message and parses the card with
// Microsoft's Adaptive Cards library, answering 202 as a Workflows webhook does.

let teams: Receiver;
const policy = { loopback: true, privateNetworks: false };
const key = idempotencyKey('evt-0192-run-failed', 'chan-teams');

beforeAll(async () => {
  teams = await startReceiver(teamsJudge);
});
afterAll(() => teams?.close());

interface Card {
  version: string;
  body: { type: string; text?: string; facts?: { title: string; value: string }[]; color?: string }[];
  actions: { type: string; title: string; url: string }[];
}

async function sent(n = failedRun()) {
  const result = await createTeamsChannel(teams.url('/workflows/abc/triggers/manual/paths/invoke?sig=secret'), { policy, timeoutMs: 5000 }).send(n, { idempotencyKey: key, attempt: 1 });
  const message = TeamsMessageSchema.parse(JSON.parse(teams.requests.at(-1)!.body));
  return { result, card: message.attachments[0]!.content as unknown as Card };
}

describe('a Teams message', () => {
  it('is one Adaptive Card 1.4 that Microsoft\'s library parses without a warning, and the webhook accepts it', async () => {
    const { result, card } = await sent();
    expect(result).toMatchObject({ channel: 'teams', outcome: 'delivered', status: 202 });
    expect(result.target).toBe(`http://127.0.0.1:${new URL(teams.url()).port}/workflows/…`);
    expect(result.message).not.toContain('sig=');
    expect(teams.requests.at(-1)!.headers['idempotency-key']).toBe(key);
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(card.version).toBe('1.4');
    expect(card.body.map((e) => e.type)).toEqual(['TextBlock', 'TextBlock', 'FactSet', 'TextBlock']);
    expect(card.body[0]).toMatchObject({ weight: 'Bolder', size: 'Large', color: 'Attention' });
    expect(card.body[2]!.facts![0]).toEqual({ title: 'Script', value: 'nightly-reset' });
    expect(card.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open run', url: 'http://127.0.0.1:3000/runs/0192?tab=logs&attempt=2' },
      { type: 'Action.OpenUrl', title: 'Temporal Web', url: 'http://localhost:8233/namespaces/default/workflows/run%2F0192/abc/history' },
    ]);
  });

  it('escapes Markdown in values, so a summary cannot carry a disguised link or formatting', async () => {
    const { card } = await sent();
    expect(card.body[1]!.text).toBe('Exit code 3. Last line: <!channel\\> see \\[here\\]\\(https://evil.example/phish\\) & \\*\\*urgent\\*\\*');
  });

  it('the receiver refuses a card that breaks the documented shape, and that is a permanent failure', async () => {
    // What the receiver checks, shown on a broken card: an unknown element and an action without its URL.
    expect(adaptiveCardProblems({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'Fancy' }], actions: [{ type: 'Action.OpenUrl', title: 'x' }] })).toEqual([
      'Unknown element type "Fancy". Fallback will be used if present.',
      'Property "url" must be set.',
    ]);
    teams.answer({ status: 400, body: 'Bad payload: card could not be rendered' });
    try {
      const { result } = await sent();
      expect(result).toMatchObject({ outcome: 'permanent', reason: 'rejected', status: 400, responseExcerpt: 'Bad payload: card could not be rendered' });
    } finally {
      teams.answer();
    }
  });
});
