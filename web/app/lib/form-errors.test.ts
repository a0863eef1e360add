import { HostBodySchema } from '@drydock/core/api-schemas';
import { StartBulkBodySchema } from '@drydock/core/bulk';
import { describe, expect, test } from 'vitest';
import { fieldErrors, mergeFieldErrors, parseErrors, topLevelField, unplacedErrors } from './form-errors.ts';

const host = { id: 'db-1', transport: 'ssh', address: '10.0.0.1', username: 'ops', credentialId: '0b0e8f5e-6a57-4a35-8a3c-5f7a0e8f9d21' };

describe('schema issues as form fields', () => {
  test('each issue lands on the field its path names; a list item on its list with topLevelField', () => {
    const parsed = HostBodySchema.safeParse({ ...host, port: 70_000, tags: ['linux', 'x'.repeat(100)] });
    expect(Object.keys(parseErrors(parsed)).sort()).toEqual(['port', 'tags.1']);
    expect(Object.keys(parseErrors(parsed, { field: topLevelField })).sort()).toEqual(['port', 'tags']);
  });

  test("a form names its own fields and words its own messages; the schema's message stays where it gives none", () => {
    const parsed = StartBulkBodySchema.safeParse({ scriptId: 'echo-params', selector: { hostIds: ['local'] }, params: {}, options: { canary: 'some', maxParallel: 0 } });
    const schemaMessage = parseErrors(parsed)['options.maxParallel'];
    const fields = parseErrors(parsed, {
      field: (path) => ({ 'options.canary': 'canarySize', 'options.maxParallel': 'maxParallel' })[path] ?? path,
      message: (_issue, field) => (field === 'canarySize' ? 'a number of hosts, or a share such as "5%"' : undefined),
    });
    expect(fields).toEqual({ canarySize: ['a number of hosts, or a share such as "5%"'], maxParallel: schemaMessage });
  });

  test('a valid body has no errors; an issue without a path belongs to the form as a whole', () => {
    expect(parseErrors(HostBodySchema.safeParse(host))).toEqual({});
    expect(fieldErrors([{ path: [], message: 'choose some hosts' }])).toEqual({ _: ['choose some hosts'] });
  });

  test('checks together keep every message once, and what no input shows is listed apart', () => {
    const fields = mergeFieldErrors({ hostId: ['choose a host'] }, { hostId: ['choose a host'], count: ['too many'] }, { bogus: ['unknown parameter: bogus'] });
    expect(fields).toEqual({ hostId: ['choose a host'], count: ['too many'], bogus: ['unknown parameter: bogus'] });
    expect(unplacedErrors(fields, (f) => f === 'hostId' || f === 'count')).toEqual([['bogus', ['unknown parameter: bogus']]]);
  });
});
