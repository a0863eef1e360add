import { KIND_LABELS, type Notification, type Severity } from '../notification.ts';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const SEVERITY_COLOR: Record<Severity, string> = { info: '#1d4ed8', success: '#15803d', warning: '#b45309', critical: '#b91c1c' };

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** A notification as an email: the subject on one line, a text body, and an HTML body in which every value is escaped. */
export function emailContent(n: Notification): EmailContent {
  // eslint-disable-next-line no-control-regex
  const subject = `[Drydock] ${n.title}`.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 250);
  const footer = `Drydock · ${KIND_LABELS[n.kind]} · ${n.occurredAt}`;
  const text = [
    n.title,
    '',
    ...(n.summary.trim() ? [n.summary.trim(), ''] : []),
    ...n.facts.map((f) => `${f.label}: ${f.value}`),
    ...(n.facts.length > 0 ? [''] : []),
    ...n.links.map((l) => `${l.label}: ${l.url}`),
    ...(n.links.length > 0 ? [''] : []),
    '-- ',
    footer,
  ].join('\n');
  const facts = n.facts
    .map((f) => `<tr><th align="left" style="padding:2px 12px 2px 0;color:#555">${escapeHtml(f.label)}</th><td style="padding:2px 0">${escapeHtml(f.value)}</td></tr>`)
    .join('');
  const links = n.links.map((l) => `<a href="${escapeHtml(l.url)}" style="margin-right:16px">${escapeHtml(l.label)}</a>`).join('');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;font-size:14px">',
    `<h2 style="color:${SEVERITY_COLOR[n.severity]};margin:0 0 12px">${escapeHtml(n.title)}</h2>`,
    n.summary.trim() ? `<p style="white-space:pre-wrap">${escapeHtml(n.summary.trim())}</p>` : '',
    facts ? `<table>${facts}</table>` : '',
    links ? `<p>${links}</p>` : '',
    `<p style="color:#777;font-size:12px">${escapeHtml(footer)}</p>`,
    '</body></html>',
  ].join('');
  return { subject, text, html };
}
