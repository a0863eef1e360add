import { describe, expect, test } from 'vitest';
import { validAdf } from '../../../tests/support/jira-double.ts';
import { adfDescription, type FailureDescription, issueSummary, wikiDescription, wikiText } from './jira-description.ts';

const HOSTILE: FailureDescription = {
  error: 'exit 1: *not bold* _nor italic_ {code}x{code} [not|a link] !image.png! -strike- +under+ ^sup^ ~sub~ #heading? |cell|',
  stderrTail: 'first\n{noformat}\n{NOFORMAT}\nlast \\ line',
  facts: [['Host [1]', 'db-1 | *primary*']],
  links: [{ text: 'Run [a|b]', url: 'https://drydock.example.test/runs/1?x=[1]|2 3' }],
};

describe('adfDescription', () => {
  test('the schema the double checks with refuses what Jira refuses', () => {
    expect(validAdf({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: '' }] }] })).toBe(false);
    expect(validAdf({ type: 'doc', version: 1, content: [{ type: 'codeBlock', content: [{ type: 'text', text: 'x', marks: [{ type: 'strong' }] }] }] })).toBe(false);
    expect(validAdf({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'x' }] }] })).toBe(true);
  });

  test.each<[string, FailureDescription]>([
    ['a full failure', HOSTILE],
    ['an empty error and no stderr', { error: '', links: [] }],
    ['an empty stderr tail and a link without text', { error: 'x', stderrTail: '', links: [{ text: '', url: 'https://example.test/' }] }],
    ['a stderr tail far past what Jira keeps', { error: 'e'.repeat(10_000), stderrTail: 'line\n'.repeat(10_000), links: [] }],
  ])('%s is valid ADF by the published schema', (_name, description) => {
    const doc = adfDescription(description);
    expect(validAdf(doc)).toBe(true);
    expect(JSON.stringify(doc).length).toBeLessThan(32_767);
  });
});

describe('wikiDescription', () => {
  test('escapes markup in text, keeps blocks verbatim and links whole', () => {
    const wiki = wikiDescription(HOSTILE);
    expect(wiki).toContain(`{noformat}\n${HOSTILE.error}\n{noformat}`);
    expect(wiki).toContain('{noformat}\nfirst\n{noformat\u200B}\n{NOFORMAT\u200B}\nlast \\ line\n{noformat}');
    expect(wiki).toContain('* *Host \\[1\\]:* db\\-1 \\| \\*primary\\*');
    expect(wiki).toContain('* [Run \\[a\\|b\\]|https://drydock.example.test/runs/1?x=%5B1%5D%7C2%203]');
    // Every {noformat} opened is closed: the blocks pair up.
    expect(wiki.match(/^\{noformat\}$/gm)).toHaveLength(4);
  });

  test('wikiText puts text on one line with each markup character escaped', () => {
    expect(wikiText('a*b\n\n c')).toBe('a\\*b c');
    expect(wikiText('\\')).toBe('\\\\');
  });
});

test('issueSummary is one line of at most 255 characters', () => {
  expect(issueSummary('a\r\nb\tc  ')).toBe('a b c');
  expect(issueSummary('x'.repeat(300))).toHaveLength(255);
});
