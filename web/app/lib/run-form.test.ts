import type { Parameter } from '@drydock/core/manifest';
import { describe, expect, test } from 'vitest';
import { checkHost, checkParams } from './run-form.ts';

const parameters: Parameter[] = [
  { name: 'path', type: 'string', title: 'Path', required: true, pattern: '^/' },
  { name: 'depth', type: 'integer', title: 'Depth', required: false, default: 2, min: 1, max: 5 },
  { name: 'human', type: 'boolean', required: false, default: true },
  { name: 'sort', type: 'enum', required: true, options: ['size', 'name'] },
];

function form(fields: Record<string, string>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.set(k, v);
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

  test('an empty number field falls back to the default', () => {
    const { result } = checkParams(parameters, form({ path: '/', depth: '', sort: 'size', human: 'true' }));
    expect(result).toEqual({ ok: true, values: { path: '/', depth: 2, human: true, sort: 'size' } });
  });

  test('asks for a host when none is chosen', () => {
    expect(checkHost(form({}))).toEqual({ hostId: ['Choose a host to run on'] });
    expect(checkHost(form({ hostId: 'local' }))).toEqual({});
  });
});
