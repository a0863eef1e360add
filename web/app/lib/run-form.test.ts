import type { Parameter } from '@drydock/core/manifest';
import { describe, expect, test } from 'vitest';
import { checkHost, checkParams, checkRunForm, readParamFields } from './run-form.ts';

const parameters: Parameter[] = [
  { name: 'path', type: 'string', title: 'Path', required: true, pattern: '^/' },
  { name: 'depth', type: 'integer', title: 'Depth', required: false, default: 2, min: 1, max: 5 },
  { name: 'human', type: 'boolean', required: false, default: true },
  { name: 'sort', type: 'enum', required: true, options: ['size', 'name'] },
];

const hostParameters: Parameter[] = [
  { name: 'target', type: 'host', title: 'Target', required: true },
  { name: 'peers', type: 'host_list', title: 'Peers', required: true, max: 2 },
  { name: 'window', type: 'date', title: 'Window', required: false, min: '2026-01-01' },
];

function form(fields: Record<string, string | string[]>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) data.append(k, one);
  return data;
}

describe('run form', () => {
  test('turns form strings into typed values, an unticked box into false', () => {
    const { result } = checkParams(parameters, form({ path: '/srv', depth: '3', sort: 'name' }));
    expect(result).toEqual({ ok: true, values: { path: '/srv', depth: 3, human: false, sort: 'name' } });
  });

  test('reports each invalid field under its parameter name', () => {
    const { result } = checkParams(parameters, form({ path: 'srv', depth: '9', human: 'true' }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.fields).sort()).toEqual(['depth', 'path', 'sort']);
    expect(result.fields.depth).toEqual(['Depth must be at most 5']);
  });

  test('checks a pattern in linear time, as the API does: ^(a+)+$ against a value that stalls a backtracking engine', () => {
    const catastrophic: Parameter[] = [{ name: 'word', type: 'string', title: 'Word', required: true, pattern: '^(a+)+$' }];
    const { result } = checkParams(catastrophic, form({ word: `${'a'.repeat(40)}!` }));
    expect(result).toEqual({ ok: false, fields: { word: ['Word must match ^(a+)+$'] } });
  });

  test('an empty number field falls back to the default', () => {
    const { result } = checkParams(parameters, form({ path: '/', depth: '', sort: 'size', human: 'true' }));
    expect(result).toEqual({ ok: true, values: { path: '/', depth: 2, human: true, sort: 'size' } });
  });

  test('every ticked host of a host list arrives, as a list', () => {
    expect(readParamFields(hostParameters, form({ target: 'web-1', peers: ['web-1', 'db-1'] })).peers).toEqual(['web-1', 'db-1']);
    const { result } = checkParams(hostParameters, form({ target: 'web-1', peers: ['web-1', 'db-1'], window: '2026-03-01' }));
    expect(result).toEqual({ ok: true, values: { target: 'web-1', peers: ['web-1', 'db-1'], window: '2026-03-01' } });
  });

  test('host lists and dates are checked against their limits', () => {
    const { result } = checkParams(hostParameters, form({ target: 'web-1', peers: ['a', 'b', 'c'], window: '2025-12-31' }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.fields.peers).toEqual(['Peers allows at most 2 hosts']);
    expect(result.fields.window).toEqual(['Window must be on or after 2026-01-01']);
  });

  test('no ticked host is a missing required host list', () => {
    const { result } = checkParams(hostParameters, form({ target: 'web-1' }));
    expect(result.ok ? null : result.fields.peers).toEqual(['Peers is required']);
  });

  test('a required text left empty is missing, default or not, as the API says', () => {
    const withDefault: Parameter[] = [{ name: 'message', type: 'string', title: 'Message', required: true, default: 'hello' }];
    expect(checkRunForm(withDefault, form({ hostId: 'local', message: '' }))).toEqual({ message: ['Message is required'] });
    expect(checkRunForm(parameters, form({ hostId: 'local', path: '   ', sort: 'size' }))).toEqual({ path: ['Path is required'] });
  });

  test('asks for a host when none is chosen', () => {
    expect(checkHost(form({}))).toEqual({ hostId: ['Choose a host to run on'] });
    expect(checkHost(form({ hostId: 'local' }))).toEqual({});
  });
});
