import { KIND_LABELS, type Notification, type Severity } from '../notification.ts';
import { fitText } from '../text-limits.ts';

/** Slack's documented Block Kit limits (docs.slack.dev, reference/block-kit). */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  /** The top-level text: shown in notifications and where blocks cannot be; Slack advises 4,000 characters at most. */
  fallbackText: 4000,
} as const;

/** Slack's mrkdwn control characters: `<!channel>` or `<https://x|label>` in a value must stay text. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const SEVERITY_MARK: Record<Severity, string> = { info: 'ℹ️', success: '✅', warning: '⚠️', critical: '🔴' };

type TextObject = { type: 'plain_text'; text: string; emoji?: boolean } | { type: 'mrkdwn'; text: string };
export type SlackBlock =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'actions'; elements: { type: 'button'; text: TextObject; url: string; action_id: string }[] };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** A notification as an incoming-webhook message: header, summary, facts as fields, context, link buttons, and a text fallback. */
export function slackMessage(n: Notification): SlackMessage {
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: fitText(`${SEVERITY_MARK[n.severity]} ${n.title}`, SLACK_LIMITS.headerText), emoji: true } }];
  if (n.summary.trim()) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitText(n.summary, SLACK_LIMITS.sectionText, escapeMrkdwn) } });
  const fields = n.facts.map((f): TextObject => {
    const label = `*${fitText(f.label, 200, escapeMrkdwn)}*\n`;
    return { type: 'mrkdwn', text: label + fitText(f.value || '–', SLACK_LIMITS.fieldText - label.length, escapeMrkdwn) };
  });
  // Leave room for the context and actions blocks under the block limit.
  const fieldBlocks = SLACK_LIMITS.blocks - blocks.length - 2;
  for (let i = 0; i < fields.length && i / SLACK_LIMITS.sectionFields < fieldBlocks; i += SLACK_LIMITS.sectionFields) {
    blocks.push({ type: 'section', fields: fields.slice(i, i + SLACK_LIMITS.sectionFields) });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`Drydock · ${KIND_LABELS[n.kind]} · ${n.occurredAt}`) }] });
  const buttons = n.links
    .filter((l) => l.url.length <= SLACK_LIMITS.buttonUrl)
    .slice(0, SLACK_LIMITS.actionsElements)
    .map((l, i) => ({ type: 'button' as const, text: { type: 'plain_text' as const, text: fitText(l.label, SLACK_LIMITS.buttonText) }, url: l.url, action_id: `drydock-link-${i}` }));
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  const fallback = [n.title, n.summary.trim(), ...n.links.map((l) => `${l.label}: ${l.url}`)].filter(Boolean).join('\n');
  return { text: fitText(fallback, SLACK_LIMITS.fallbackText, escapeMrkdwn), blocks };
}
