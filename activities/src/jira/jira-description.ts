// An issue's description, from a failed run, in the two forms Jira takes: the Atlassian Document Format for REST
// API v3 (Cloud) and wiki markup for v2 (Data Center).

/** What a filed issue says about the failure: channel-neutral, rendered per API version. */
export interface FailureDescription {
  /** The failure in one or a few sentences: the run's error. */
  error: string;
  /** The last lines the script wrote to stderr, already masked: shown verbatim in a code block. */
  stderrTail?: string;
  /** Label and value pairs: script, version, host, started, exit code. */
  facts?: [string, string][];
  /** The run, its Temporal history, the bundle. */
  links: { text: string; url: string }[];
}

/** Jira stores a rich-text field in at most 32,767 characters; long parts are cut well below that. */
const MAX_ERROR = 4_000;
const MAX_TAIL = 12_000;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… [cut at ${max} characters]` : text;
}

/** Jira refuses a summary over 255 characters or with a line break. */
export function issueSummary(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 255 ? `${line.slice(0, 254)}…` : line;
}

type AdfNode = Record<string, unknown>;
/** ADF refuses empty text nodes, so empty text is no node at all. */
const text = (value: string, marks?: AdfNode[]): AdfNode[] => (value === '' ? [] : [{ type: 'text', text: value, ...(marks ? { marks } : {}) }]);
const paragraph = (...content: AdfNode[][]): AdfNode => ({ type: 'paragraph', content: content.flat() });
const heading = (value: string): AdfNode => ({ type: 'heading', attrs: { level: 3 }, content: text(value) });

/** The description as an Atlassian Document Format document (REST API v3). */
export function adfDescription(d: FailureDescription): AdfNode {
  const content: AdfNode[] = [heading('Error'), paragraph(text(cut(d.error, MAX_ERROR)))];
  if (d.facts && d.facts.length > 0) {
    content.push({
      type: 'bulletList',
      content: d.facts.map(([label, value]) => ({ type: 'listItem', content: [paragraph(text(`${label}: `, [{ type: 'strong' }]), text(value))] })),
    });
  }
  if (d.stderrTail) content.push(heading('Last lines of stderr'), { type: 'codeBlock', attrs: {}, content: text(cut(d.stderrTail, MAX_TAIL)) });
  if (d.links.length > 0) {
    content.push(heading('Links'), {
      type: 'bulletList',
      content: d.links.map((l) => ({ type: 'listItem', content: [paragraph(text(l.text || l.url, [{ type: 'link', attrs: { href: l.url } }]))] })),
    });
  }
  return { type: 'doc', version: 1, content };
}

/** Text outside a block, with every character wiki markup gives a meaning to escaped, on one line. */
export function wikiText(value: string): string {
  return value.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\\*_+^~{}[\]|!#?-]/g, (c) => `\\${c}`);
}

/** Text kept verbatim in a {noformat} block: only "{noformat}" itself would end it, so it is broken by a zero-width space. */
function noformat(value: string): string {
  return `{noformat}\n${value.replace(/\{noformat\}/gi, (m) => `${m.slice(0, -1)}\u200B}`)}\n{noformat}`;
}

/** A link target: characters that end or split a wiki link are percent-encoded. */
function wikiUrl(url: string): string {
  return url.replace(/[|[\]\s{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The description as Jira wiki markup (REST API v2). */
export function wikiDescription(d: FailureDescription): string {
  const out = ['h3. Error', noformat(cut(d.error, MAX_ERROR))];
  if (d.facts && d.facts.length > 0) out.push(d.facts.map(([label, value]) => `* *${wikiText(label)}:* ${wikiText(value)}`).join('\n'));
  if (d.stderrTail) out.push('h3. Last lines of stderr', noformat(cut(d.stderrTail, MAX_TAIL)));
  if (d.links.length > 0) out.push('h3. Links', d.links.map((l) => `* [${wikiText(l.text || l.url)}|${wikiUrl(l.url)}]`).join('\n'));
  return out.join('\n\n');
}
