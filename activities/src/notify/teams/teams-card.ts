import { KIND_LABELS, type Notification, type Severity } from '../notification.ts';
import { fitText } from '../text-limits.ts';

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const ADAPTIVE_CARD_VERSION = '1.4';

/** Sizes that keep a card well under the 28 KB Teams accepts from a webhook. */
const LIMITS = { title: 300, summary: 4000, facts: 20, factTitle: 100, factValue: 600, actions: 6, actionTitle: 60 } as const;

/**
 * Adaptive Cards read a subset of Markdown in TextBlock and FactSet text: a value's `[label](url)`, `**`
 * or `_` must show as typed, not become a disguised link or formatting. Backslash escapes are CommonMark's.
 */
export function escapeCardMarkdown(text: string): string {
  return text.replace(/[\\`*_~[\]()#>|]/g, (c) => `\\${c}`);
}

const COLOR: Record<Severity, 'Default' | 'Good' | 'Warning' | 'Attention'> = { info: 'Default', success: 'Good', warning: 'Warning', critical: 'Attention' };

type CardElement =
  | { type: 'TextBlock'; text: string; wrap: true; weight?: 'Bolder'; size?: 'Small' | 'Large'; color?: string; isSubtle?: boolean }
  | { type: 'FactSet'; facts: { title: string; value: string }[] };

export interface TeamsMessage {
  type: 'message';
  attachments: [
    {
      contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE;
      contentUrl: null;
      content: {
        $schema: string;
        type: 'AdaptiveCard';
        version: string;
        fallbackText: string;
        body: CardElement[];
        actions: { type: 'Action.OpenUrl'; title: string; url: string }[];
      };
    },
  ];
}

/** A notification as the message a Teams incoming webhook or a Workflows "post card" flow takes: one Adaptive Card 1.4. */
export function teamsMessage(n: Notification): TeamsMessage {
  const esc = escapeCardMarkdown;
  const body: CardElement[] = [{ type: 'TextBlock', text: fitText(n.title, LIMITS.title, esc), wrap: true, weight: 'Bolder', size: 'Large', color: COLOR[n.severity] }];
  if (n.summary.trim()) body.push({ type: 'TextBlock', text: fitText(n.summary, LIMITS.summary, esc), wrap: true });
  if (n.facts.length > 0) {
    body.push({
      type: 'FactSet',
      facts: n.facts.slice(0, LIMITS.facts).map((f) => ({ title: fitText(f.label, LIMITS.factTitle, esc), value: fitText(f.value || '–', LIMITS.factValue, esc) })),
    });
  }
  body.push({ type: 'TextBlock', text: esc(`Drydock · ${KIND_LABELS[n.kind]} · ${n.occurredAt}`), wrap: true, size: 'Small', isSubtle: true });
  return {
    type: 'message',
    attachments: [
      {
        contentType: ADAPTIVE_CARD_CONTENT_TYPE,
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: ADAPTIVE_CARD_VERSION,
          fallbackText: fitText(n.title, LIMITS.title),
          body,
          actions: n.links.slice(0, LIMITS.actions).map((l) => ({ type: 'Action.OpenUrl', title: fitText(l.label, LIMITS.actionTitle), url: l.url })),
        },
      },
    ],
  };
}
