import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { z } from 'zod';

// Receivers for the notification channels, since Slack and Teams cannot run here: local HTTP servers
// that check what the services document (Slack's Block Kit limits; Teams' message with an Adaptive
// Card, parsed by Microsoft's own `adaptivecards` library) and answer as they do.

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiver answers one request: a status (with body and headers), or no answer at all. */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url(path?: string): string;
  requests: ReceivedRequest[];
  /** Answers the following requests with this (in order, the last one repeating), instead of the default. */
  answer(...answers: Answer[]): void;
  close(): Promise<void>;
}

export async function startReceiver(judge: (req: ReceivedRequest) => Answer = () => ({ status: 200, body: 'ok' })): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let queue: Answer[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const answer = queue.length > 1 ? queue.shift()! : (queue[0] ?? judge(received));
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    requests,
    answer: (...answers) => {
      queue = answers;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const plainText = (max: number) => z.strictObject({ type: z.literal('plain_text'), text: z.string().min(1).max(max), emoji: z.boolean().optional() });
const mrkdwn = (max: number) => z.strictObject({ type: z.literal('mrkdwn'), text: z.string().min(1).max(max), verbatim: z.boolean().optional() });

/** An incoming-webhook message as Slack documents it: https://docs.slack.dev/reference/block-kit/blocks (limits per block). */
export const SlackMessageSchema = z.strictObject({
  text: z.string().min(1).max(40_000),
  blocks: z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('header'), text: plainText(150), block_id: z.string().max(255).optional() }),
        z
          .strictObject({
            type: z.literal('section'),
            text: z.union([plainText(3000), mrkdwn(3000)]).optional(),
            fields: z.array(z.union([plainText(2000), mrkdwn(2000)])).min(1).max(10).optional(),
            block_id: z.string().max(255).optional(),
          })
          .refine((s) => s.text !== undefined || s.fields !== undefined, 'a section needs text or fields'),
        z.strictObject({ type: z.literal('context'), elements: z.array(z.union([plainText(3000), mrkdwn(3000)])).min(1).max(10) }),
        z.strictObject({
          type: z.literal('actions'),
          elements: z
            .array(z.strictObject({ type: z.literal('button'), text: plainText(75), url: z.url().max(3000), action_id: z.string().max(255), value: z.string().max(2000).optional() }))
            .min(1)
            .max(25),
        }),
        z.strictObject({ type: z.literal('divider') }),
      ]),
    )
    .max(50),
});

/** A Slack-like incoming webhook: 400 `invalid_blocks` for a message outside the documented shape, 200 `ok` otherwise. */
export function slackJudge(req: ReceivedRequest): Answer {
  if (req.headers['content-type']?.split(';')[0] !== 'application/json') return { status: 400, body: 'invalid_payload' };
  const parsed = SlackMessageSchema.safeParse(JSON.parse(req.body));
  return parsed.success ? { status: 200, body: 'ok' } : { status: 400, body: `invalid_blocks: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}` };
}

interface AdaptiveCardsLibrary {
  AdaptiveCard: new () => { parse(json: unknown, context: unknown): void; validateProperties(): { validationEvents: { message: string }[] } };
  SerializationContext: new () => { eventCount: number; getEventAt(i: number): { message: string } };
}
const adaptiveCards = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as AdaptiveCardsLibrary;

/** What Microsoft's Adaptive Cards library finds wrong with a card when it parses and validates it. */
export function adaptiveCardProblems(card: unknown): string[] {
  const context = new adaptiveCards.SerializationContext();
  const parsed = new adaptiveCards.AdaptiveCard();
  parsed.parse(card, context);
  const problems = Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i).message);
  return [...problems, ...parsed.validateProperties().validationEvents.map((e) => e.message)];
}

/** The message Teams' incoming webhooks and Workflows take: https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using */
export const TeamsMessageSchema = z.strictObject({
  type: z.literal('message'),
  attachments: z
    .array(
      z.strictObject({
        contentType: z.literal('application/vnd.microsoft.card.adaptive'),
        contentUrl: z.null().optional(),
        content: z.looseObject({
          type: z.literal('AdaptiveCard'),
          version: z.string().regex(/^1\.([4-9]|\d{2,})$/, 'AdaptiveCard 1.4 or later'),
          $schema: z.string().optional(),
          body: z.array(z.looseObject({ type: z.string() })).min(1),
        }),
      }),
    )
    .length(1),
});

/** A Teams Workflows webhook: 400 with the problems for a message it could not show, 202 otherwise. */
export function teamsJudge(req: ReceivedRequest): Answer {
  const parsed = TeamsMessageSchema.safeParse(JSON.parse(req.body));
  if (!parsed.success) return { status: 400, body: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  const problems = adaptiveCardProblems(parsed.data.attachments[0]!.content);
  return problems.length > 0 ? { status: 400, body: problems.join('; ') } : { status: 202, body: '' };
}
