import { expect, test } from 'vitest';
import { SEARCH_ATTRIBUTE_FLAGS, searchAttributes } from './search-attributes.ts';

const named = (pairs: ReturnType<typeof searchAttributes>) => pairs.map((p) => [p.key.name, p.value]);

test('a workflow start gets its attributes by meaning, in the registered order whatever the order given', () => {
  const pairs = searchAttributes({ status: 'queued', team: 'ops', initiator: 'ana@example.com', hosts: ['web-1'], script: 'disk-usage', kind: 'script-run' });
  expect(named(pairs)).toEqual([
    ['DrydockKind', 'script-run'],
    ['DrydockScript', 'disk-usage'],
    ['DrydockHosts', ['web-1']],
    ['DrydockInitiator', 'ana@example.com'],
    ['DrydockTeam', 'ops'],
    ['DrydockStatus', 'queued'],
  ]);
});

test('an upsert sets only what it names, and leaves the rest as it is', () => {
  expect(named(searchAttributes({ status: 'waiting_for_lock' }))).toEqual([['DrydockStatus', 'waiting_for_lock']]);
  expect(searchAttributes({})).toEqual([]);
});

test('the dev server registers every attribute the builder can set, with its type', () => {
  const everything = searchAttributes({ kind: 'host-lock', script: 's', hosts: [], initiator: 'i', environment: 'e', team: 't', status: 'running' });
  expect(SEARCH_ATTRIBUTE_FLAGS).toEqual(everything.map((p) => `${p.key.name}=${p.key.name === 'DrydockHosts' ? 'KeywordList' : 'Keyword'}`));
});
