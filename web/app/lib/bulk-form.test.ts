import type { Parameter } from '@drydock/core/manifest';
import { describe, expect, test } from 'vitest';
import { checkBulkForm, fieldsFromApi } from './bulk-form.ts';
import { describeSelector, describeWaves, mergeHosts } from './bulk-view.ts';
import type { BulkHostView } from '@drydock/core/api-schemas';

const parameters: Parameter[] = [
  { name: 'message', type: 'string', title: 'Message', required: true },
  { name: 'count', type: 'integer', title: 'Count', required: false, default: 1, min: 0, max: 100 },
];

function form(fields: Record<string, string | string[]>): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) data.append(k, one);
  return data;
}

const target = { scriptId: 'echo-params' };

describe('bulk form', () => {
  test('named hosts, parameters and options become the body the API takes, with its defaults', () => {
    const check = checkBulkForm(parameters, form({ selectBy: 'hosts', hostIds: ['local', 'web-1'], message: 'hi', count: '3', maxParallel: '50', batchSize: '25 %', canarySize: '1' }), target);
    expect(check.fields).toEqual({});
    expect(check.body).toEqual({
      scriptId: 'echo-params',
      selector: { hostIds: ['local', 'web-1'] },
      params: { message: 'hi', count: 3 },
      options: { maxParallel: 50, batchSize: '25%', canary: 1, takeLocks: false },
    });
  });

  test('by label: only the label fields count, hosts ticked before switching are left behind', () => {
    const check = checkBulkForm(parameters, form({ selectBy: 'labels', hostIds: 'local', hostEnvironment: 'staging', hostTags: 'linux, db', message: 'hi', takeLocks: 'true' }), target);
    expect(check.body?.selector).toEqual({ environment: 'staging', tags: ['linux', 'db'] });
    expect(check.body?.options.takeLocks).toBe(true);
  });

  test('no hosts chosen is said for the way of choosing on show', () => {
    expect(checkBulkForm(parameters, form({ selectBy: 'hosts', message: 'hi' }), target).fields).toEqual({
      hostIds: ['Tick at least one host, or choose hosts by environment, group or tags instead.'],
    });
    expect(checkBulkForm(parameters, form({ selectBy: 'labels', message: 'hi' }), target).fields).toEqual({
      hostLabels: ['Choose an environment, a group or tags: the hosts carrying all of them run it.'],
    });
  });

  test('wrong options and parameters land on their fields, in words', () => {
    const check = checkBulkForm(
      parameters,
      form({ hostIds: 'local', count: '1000', maxParallel: '0', batchSize: 'half', canarySize: '0', failureThreshold: '150%', hostRetries: '11', timeoutSeconds: '90000' }),
      target,
    );
    expect(check.body).toBeNull();
    expect(check.fields).toEqual({
      message: ['Message is required'],
      count: ['Count must be at most 100'],
      maxParallel: ['a whole number of hosts from 1 to 1000'],
      batchSize: ['a number of hosts (1 or more), or a percentage from 1% to 100% such as "10%"'],
      canarySize: ['a number of hosts (1 or more), or a percentage from 1% to 100% such as "10%"'],
      failureThreshold: ['a number of hosts (1 or more), or a percentage from 1% to 100% such as "10%"'],
      timeoutSeconds: ['a whole number of seconds from 1 to 86400 (24 hours)'],
      hostRetries: ['a whole number of retries from 0 to 10'],
    });
  });

  test("the API's field errors move onto the form's fields", () => {
    expect(fieldsFromApi({ 'options.canary': ['too big'], 'params.count': ['bad'], count: ['worse'], 'selector.hostIds': ['unknown host'], scriptId: ['gone'] }, 'hosts')).toEqual({
      canarySize: ['too big'],
      count: ['bad', 'worse'],
      hostIds: ['unknown host'],
      scriptId: ['gone'],
    });
    expect(fieldsFromApi({ 'selector.hostIds': ['choose hosts'] }, 'labels')).toEqual({ hostLabels: ['choose hosts'] });
  });
});

describe('bulk view', () => {
  test('waves in words, equal runs folded', () => {
    expect(describeWaves([142], false)).toBe('one wave of 142 hosts');
    expect(describeWaves([1, 10, 10, 10, 5], true)).toBe('a canary of 1 host, then 3 waves of 10 hosts and 1 wave of 5 hosts');
    expect(describeWaves([2], true)).toBe('a canary of 2 hosts, alone');
    expect(describeWaves([5, 5, 1], false)).toBe('2 waves of 5 hosts and 1 wave of 1 host');
  });

  test('the selector in one line', () => {
    expect(describeSelector({ hostIds: ['a', 'b', 'c', 'd', 'e'] })).toBe('named: a, b, c and 2 more');
    expect(describeSelector({ environment: 'staging', group: 'payments', tags: ['linux'] })).toBe('environment staging · group payments · tagged linux');
  });

  test('host updates merge by id in position order, and a finished host never goes back', () => {
    const host = (hostId: string, position: number, state: BulkHostView['state']): BulkHostView => ({
      hostId,
      position,
      wave: 0,
      state,
      runId: `run-${hostId}`,
      exitCode: null,
      error: null,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
    });
    const grid = [host('a', 0, 'succeeded'), host('c', 2, 'running')];
    const merged = mergeHosts(grid, [host('c', 2, 'failed'), host('a', 0, 'running'), host('b', 1, 'pending')]);
    expect(merged.map((h) => [h.hostId, h.state])).toEqual([
      ['a', 'succeeded'],
      ['b', 'pending'],
      ['c', 'failed'],
    ]);
    expect(merged[0]).toBe(grid[0]);
  });
});
