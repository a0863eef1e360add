import { describe, expect, it } from 'vitest';
import { ManifestSchema } from '../manifest.ts';
import { advance, cancelJob, type ExecutionPlan, type JobProgress, planJob, recordStepResult, renderParams, resolveTargets, retryFromFailed, rollbackFor, scopeOf, skippedBy, startJob, type StepResult } from './execution-plan.ts';
import type { JobInput } from './job-schema.ts';
import { type JobValidationContext, validateJob } from './validate-job.ts';

const manifest = (id: string, extra: object = {}) => ManifestSchema.parse({ id, name: id, command_template: 'true', ...extra });
const ctx: JobValidationContext = {
  catalog: [
    { id: 'step', manifest: manifest('step') },
    { id: 'check', manifest: manifest('check', { outputs: [{ name: 'version', type: 'string' }, { name: 'count', type: 'integer' }] }) },
    {
      id: 'use',
      manifest: manifest('use', { parameters: [{ name: 'version', type: 'string' }, { name: 'label', type: 'string' }, { name: 'nodes', type: 'host_list' }, { name: 'n', type: 'string' }] }),
    },
  ],
  actions: [],
  libraries: [],
  hosts: [{ id: 'web-1' }, { id: 'web-2' }, { id: 'db-1' }],
};

function plan(input: Omit<JobInput, 'id' | 'name'>): ExecutionPlan {
  const result = validateJob({ id: 'runbook', name: 'Runbook', version: 2, ...input }, ctx);
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('\n'));
  return planJob(result.expanded);
}

const run = (id: string, extra: object = {}) => ({ id, script: 'step', targets: { host: 'web-1' }, ...extra });

/** Drives a job as the workflow will: start what advance says, feed results back, until it finishes. */
class Driver {
  readonly plan: ExecutionPlan;
  progress: JobProgress;
  started: string[][] = [];
  constructor(plan: ExecutionPlan, reuse: Parameters<typeof startJob>[1] = {}) {
    this.plan = plan;
    this.progress = startJob(plan, reuse);
    this.tick();
  }
  tick() {
    const next = advance(this.plan, this.progress);
    this.progress = next.progress;
    if (next.start.length > 0) this.started.push(next.start);
    return next.start;
  }
  end(id: string, result: StepResult = { status: 'succeeded' }) {
    this.progress = recordStepResult(this.plan, this.progress, id, result);
    return this.tick();
  }
  status() {
    return Object.fromEntries(Object.entries(this.progress.steps).map(([id, r]) => [id, r.status]));
  }
}

describe('the order', () => {
  const dag = plan({
    steps: [run('a'), run('b', { needs: [] }), run('c', { needs: ['a', 'b'] }), run('d'), run('e', { needs: ['a'], on_failure: 'continue' })],
  });

  it('lays the steps out in layers; a layer runs in parallel', () => {
    expect(dag.layers).toEqual([['a', 'b'], ['c', 'e'], ['d']]);
    expect(dag.order).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('starts each step as soon as what it needs has succeeded', () => {
    const job = new Driver(dag);
    expect(job.started).toEqual([['a', 'b']]);
    expect(job.end('a')).toEqual(['e']);
    expect(job.end('b')).toEqual(['c']);
    expect(job.end('c')).toEqual(['d']);
    job.end('e');
    job.end('d');
    expect(job.progress.phase).toBe('finished');
    expect(job.progress.outcome).toBe('succeeded');
  });
});

describe('failures', () => {
  it('with continue, skips what needs the failed step and runs the rest', () => {
    const p = plan({ steps: [run('a', { on_failure: 'continue' }), run('b', { needs: [] }), run('c', { needs: ['a'] }), run('d', { needs: ['c'] }), run('e', { needs: ['b'] })] });
    expect(skippedBy(p, 'a')).toEqual(['c', 'd']);
    const job = new Driver(p);
    job.end('a', { status: 'failed', error: 'exit 3' });
    expect(job.progress.steps.c).toEqual({ status: 'skipped', reason: 'needs a, which failed' });
    expect(job.progress.steps.d).toEqual({ status: 'skipped', reason: 'needs c, which was skipped' });
    expect(job.end('b')).toEqual(['e']);
    job.end('e');
    expect(job.progress.outcome).toBe('succeeded_with_failures');
  });

  it('with stop, lets running steps finish, starts nothing more, and fails the job', () => {
    const p = plan({ steps: [run('a'), run('b', { needs: [] }), run('c', { needs: ['a'] })] });
    const job = new Driver(p);
    expect(job.end('b', { status: 'failed', error: 'exit 1' })).toEqual([]);
    expect(job.progress.phase).toBe('stopping');
    expect(job.end('a')).toEqual([]);
    expect(job.status()).toEqual({ a: 'succeeded', b: 'failed', c: 'skipped' });
    expect(job.progress.steps.c!.reason).toBe('the job stopped after b failed');
    expect(job.progress.outcome).toBe('failed');
  });

  it('with rollback, runs the named branch once the running steps end', () => {
    const p = plan({
      steps: [run('lock', { needs: [] }), run('migrate', { on_failure: { rollback: 'restore' } }), run('verify')],
      rollback: { restore: [run('restore-db'), run('unlock')], other: [run('x')] },
    });
    expect(rollbackFor(p, 'migrate')).toBe('restore');
    expect(rollbackFor(p, 'verify')).toBeNull();
    const job = new Driver(p);
    job.end('lock');
    expect(job.end('migrate', { status: 'failed', error: 'exit 2' })).toEqual(['restore-db']);
    expect(job.progress.rollback).toEqual({ branch: 'restore', trigger: 'migrate' });
    expect(job.end('restore-db')).toEqual(['unlock']);
    job.end('unlock');
    expect(job.status()).toMatchObject({ verify: 'skipped', x: 'pending' });
    expect(job.progress.outcome).toBe('rolled_back');
  });

  it('says the rollback failed when a branch step fails', () => {
    const p = plan({ steps: [run('migrate', { on_failure: { rollback: 'restore' } })], rollback: { restore: [run('r1'), run('r2')] } });
    const job = new Driver(p);
    job.end('migrate', { status: 'failed', error: 'x' });
    job.end('r1', { status: 'failed', error: 'restore failed' });
    expect(job.status()).toMatchObject({ r1: 'failed', r2: 'skipped' });
    expect(job.progress.outcome).toBe('rollback_failed');
  });

  it('counts a step cancelled from outside the job as failed', () => {
    const job = new Driver(plan({ steps: [run('a'), run('b')] }));
    job.end('a', { status: 'cancelled' });
    expect(job.progress.steps.a).toEqual({ status: 'failed', error: 'the step was cancelled' });
    expect(job.progress.outcome).toBe('failed');
  });
});

describe('cancel', () => {
  const p = plan({ steps: [run('a'), run('b', { needs: [] }), run('c', { needs: ['a', 'b'] })], rollback: { undo: [run('u')] }, on_cancel: { rollback: 'undo' } });

  it('cancels the running steps, skips the rest and runs the on_cancel branch', () => {
    expect(rollbackFor(p, 'cancel')).toBe('undo');
    const job = new Driver(p);
    job.end('a');
    const { progress, cancel } = cancelJob(p, job.progress);
    job.progress = progress;
    expect(cancel).toEqual(['b']);
    expect(job.end('b', { status: 'cancelled' })).toEqual(['u']);
    expect(job.status()).toMatchObject({ a: 'succeeded', b: 'cancelled', c: 'skipped' });
    expect(job.progress.steps.c!.reason).toBe('needs b, which was cancelled');
    job.end('u');
    expect(job.progress.outcome).toBe('cancelled');
  });

  it('does not stop a rollback under way', () => {
    const job = new Driver(p);
    job.progress = cancelJob(p, job.progress).progress;
    job.end('a', { status: 'cancelled' });
    job.end('b', { status: 'cancelled' });
    expect(job.progress.phase).toBe('rolling_back');
    expect(cancelJob(p, job.progress)).toEqual({ progress: job.progress, cancel: [] });
  });
});

describe('retry from the failed step', () => {
  const p = plan({
    steps: [
      { id: 'check', script: 'check', targets: { host: 'web-1' } },
      { id: 'lock', take_lock: { reason: 'retry test' }, targets: { host: 'web-1' } },
      run('migrate'),
      { id: 'unlock', release_lock: 'lock' },
    ],
  });

  it('reuses the outputs of the steps that succeeded, takes the lock again and runs the failed step', () => {
    const first = new Driver(p);
    first.end('check', { status: 'succeeded', outputs: { version: '1.2' }, hosts: ['web-1'] });
    first.end('lock', { status: 'succeeded', hosts: ['web-1'] });
    first.end('migrate', { status: 'failed', error: 'exit 1' });
    expect(first.progress.outcome).toBe('failed');

    const retry = retryFromFailed(p, first.progress);
    expect(retry).toEqual({ ok: true, reuse: { check: { outputs: { version: '1.2' }, hosts: ['web-1'] } }, rerun: ['lock', 'migrate', 'unlock'] });
    if (!retry.ok) return;
    const second = new Driver(p, retry.reuse);
    expect(second.started).toEqual([['lock']]);
    expect(second.progress.steps.check).toEqual({ status: 'reused', outputs: { version: '1.2' }, hosts: ['web-1'] });
    expect(second.end('lock')).toEqual(['migrate']);
    expect(second.end('migrate')).toEqual(['unlock']);
    second.end('unlock');
    expect(second.progress.outcome).toBe('succeeded');
  });

  it('is refused after a rollback, for another version, and for a run that succeeded', () => {
    const rolled = plan({ steps: [run('a'), run('b', { on_failure: { rollback: 'undo' } })], rollback: { undo: [run('u')] } });
    const job = new Driver(rolled);
    job.end('a');
    job.end('b', { status: 'failed', error: 'x' });
    job.end('u');
    expect(retryFromFailed(rolled, job.progress)).toEqual({
      ok: false,
      reason: 'the earlier run rolled back (branch undo), which undid what its steps did, so their outputs cannot be reused: start the job again',
    });
    expect(retryFromFailed(rolled, { ...job.progress, job: { id: 'runbook', version: 1 } })).toMatchObject({ ok: false, reason: 'the earlier run ran runbook version 1; a retry runs the same version' });
    const fine = new Driver(plan({ steps: [run('a')] }));
    fine.end('a');
    expect(retryFromFailed(fine.plan, fine.progress)).toEqual({ ok: false, reason: 'the earlier run succeeded: nothing failed to retry' });
  });
});

describe('step inputs', () => {
  it('renders parameters as data, in the types the script declares', () => {
    const p = plan({
      steps: [
        { id: 'check', script: 'check', targets: { host: 'web-1' } },
        { id: 'use', script: 'use', params: { version: '{{ steps.check.outputs.version }}', nodes: ['web-2'] }, targets: { from_step: 'check' } },
      ],
    });
    const job = new Driver(p);
    job.end('check', { status: 'succeeded', outputs: { version: '1.2', count: 4 }, hosts: ['web-1'] });
    const scope = scopeOf(job.progress, {});
    // One host where the script takes a list, a number where it takes text: put in the declared type.
    const use = ctx.catalog.find((s) => s.id === 'use')!.manifest;
    expect(renderParams({ version: '{{ steps.check.outputs.version }}', label: 'v{{ steps.check.outputs.version }} ($(id))', nodes: 'web-2', n: '{{ steps.check.outputs.count }}' }, scope, use.parameters)).toEqual({
      version: '1.2',
      label: 'v1.2 ($(id))',
      nodes: ['web-2'],
      n: '4',
    });
    expect(resolveTargets({ from_step: 'check' }, job.progress, scope)).toEqual({ hosts: ['web-1'] });
    expect(resolveTargets({ hosts: ['web-2', '{{ steps.check.outputs.version }}'] }, job.progress, scope)).toEqual({ hosts: ['web-2', '1.2'] });
    expect(() => resolveTargets({ from_step: 'use' }, job.progress, scope)).toThrow('from_step use: that step has not run on any host in this run');
  });
});
