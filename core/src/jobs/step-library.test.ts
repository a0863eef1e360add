import { describe, expect, it } from 'vitest';
import { ManifestSchema } from '../manifest.ts';
import { JobSchema } from './job-schema.ts';
import { libraryUsage, StepLibrarySchema } from './step-library.ts';
import { expandJob, validateJob } from './validate-job.ts';

const restartAndWait = StepLibrarySchema.parse({
  kind: 'step_library',
  id: 'restart-and-wait',
  version: 2,
  name: 'Restart a service and wait until it is healthy',
  parameters: [
    { name: 'service', type: 'string', required: true },
    { name: 'settle', type: 'string', default: '30s' },
  ],
  targets: 'required',
  steps: [
    { id: 'stop', script: 'svc', params: { action: 'stop', name: '{{ params.service }}' }, targets: 'inherit' },
    { id: 'start', script: 'svc', params: { action: 'start', name: '{{ params.service }}' }, targets: 'inherit', on_failure: 'continue' },
    { id: 'settle', needs: ['start'], wait: { duration: '30s' } },
    { id: 'probe', needs: ['start'], script: 'health', params: { name: 'svc {{ params.service }} after {{ params.settle }}' }, targets: 'inherit' },
  ],
  outputs: { status: '{{ steps.probe.outputs.status }}' },
});

describe('expanding a library step', () => {
  const job = JobSchema.parse({
    id: 'deploy',
    name: 'Deploy',
    parameters: [{ name: 'app', type: 'string', required: true }],
    steps: [
      { id: 'prepare', wait: { duration: '1m' } },
      { id: 'restart', library: 'restart-and-wait@2', params: { service: '{{ params.app }}-worker' }, targets: { hosts: ['web-1', 'web-2'] }, on_failure: { rollback: 'undo' } },
      { id: 'report', notify: { channels: ['ops'], title: '{{ params.app }}: {{ steps.restart.outputs.status }}' } },
      { id: 'again', targets: { from_step: 'restart' }, script: 'svc', params: { action: 'status', name: 'x' } },
    ],
    rollback: { undo: [{ id: 'u', wait: { duration: '1m' } }] },
  });
  const expanded = expandJob(job, [restartAndWait]);

  it('puts the library\'s steps in its place, prefixed, needing what it needed', () => {
    expect(expanded.steps.map((s) => [s.id, s.needs])).toEqual([
      ['prepare', []],
      ['restart/stop', ['prepare']],
      ['restart/start', ['restart/stop']],
      ['restart/settle', ['restart/start']],
      ['restart/probe', ['restart/start']],
      // Both last steps of the library, since nothing inside needs either.
      ['report', ['restart/settle', 'restart/probe']],
      ['again', ['report']],
    ]);
    expect(expanded.steps[2]!.origin).toEqual({ step: 'restart', library: 'restart-and-wait@2', inner: 'start' });
  });

  it('fills the library\'s parameters with the job\'s values and defaults, as templates of the job', () => {
    const params = (id: string) => {
      const s = expanded.steps.find((x) => x.id === id);
      return s && 'params' in s ? s.params : undefined;
    };
    expect(params('restart/stop')).toEqual({ action: 'stop', name: '{{ params.app }}-worker' });
    expect(params('restart/probe')).toEqual({ name: 'svc {{ params.app }}-worker after 30s' });
  });

  it('gives inherited targets the library step\'s, and its on_failure to steps without their own', () => {
    const stop = expanded.steps.find((s) => s.id === 'restart/stop')!;
    const start = expanded.steps.find((s) => s.id === 'restart/start')!;
    expect('targets' in stop && stop.targets).toEqual({ hosts: ['web-1', 'web-2'] });
    expect(stop.on_failure).toEqual({ rollback: 'undo' });
    expect(start.on_failure).toBe('continue');
    const again = expanded.steps.find((s) => s.id === 'again')!;
    expect('targets' in again && again.targets).toEqual({ hosts: ['web-1', 'web-2'] });
  });

  it('turns references to the library\'s outputs into references to the step behind them', () => {
    const report = expanded.steps.find((s) => s.id === 'report')!;
    expect(report.kind === 'notify' && report.notify.title).toBe('{{ params.app }}: {{ steps.restart/probe.outputs.status }}');
  });

  it('keeps pinned versions apart: a job pinned to version 2 checks against version 2 only', () => {
    const svc = ManifestSchema.parse({ id: 'svc', name: 'svc', command_template: 'true', parameters: [{ name: 'action', type: 'string' }, { name: 'name', type: 'string' }] });
    const health = ManifestSchema.parse({ id: 'health', name: 'health', command_template: 'true', parameters: [{ name: 'name', type: 'string' }], outputs: [{ name: 'status', type: 'string' }] });
    const v3 = StepLibrarySchema.parse({ ...restartAndWait, version: 3, outputs: {} });
    const ctx = { catalog: [{ id: 'svc', manifest: svc }, { id: 'health', manifest: health }], actions: [], libraries: [restartAndWait, v3], hosts: [{ id: 'web-1' }, { id: 'web-2' }], channels: ['ops'] };
    const single = { ...job, steps: job.steps.map((s) => (s.kind === 'library' ? { ...s, targets: { host: 'web-1' } } : s)) };
    expect(validateJob(single, ctx).ok).toBe(true);
    const onV3 = { ...single, steps: single.steps.map((s) => (s.kind === 'library' ? { ...s, library: 'restart-and-wait@3' } : s)) };
    const result = validateJob(onV3, ctx);
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual(['{{ steps.restart.outputs.status }}: step library restart-and-wait@3 has no output status (it declares none)']);
  });

  it('refuses outputs of a library that runs on several hosts', () => {
    const svc = ManifestSchema.parse({ id: 'svc', name: 'svc', command_template: 'true', parameters: [{ name: 'action', type: 'string' }, { name: 'name', type: 'string' }] });
    const health = ManifestSchema.parse({ id: 'health', name: 'health', command_template: 'true', parameters: [{ name: 'name', type: 'string' }], outputs: [{ name: 'status', type: 'string' }] });
    const ctx = { catalog: [{ id: 'svc', manifest: svc }, { id: 'health', manifest: health }], actions: [], libraries: [restartAndWait], hosts: [{ id: 'web-1' }, { id: 'web-2' }], channels: ['ops'] };
    const result = validateJob(job, ctx);
    expect(result.ok ? [] : result.problems.map((p) => `${p.path.join('.')}: ${p.message}`)).toEqual([
      'steps.2.notify.title: {{ steps.restart.outputs.status }}: in restart-and-wait@2, {{ steps.probe.outputs.status }}: probe runs on several hosts, each with its own outputs: target one host (targets: { host: … }) to pass an output forward',
    ]);
  });
});

describe('size', () => {
  it('refuses a job whose libraries expand past what one run holds', () => {
    const long = StepLibrarySchema.parse({ kind: 'step_library', id: 'long', version: 1, name: 'Long', steps: Array.from({ length: 100 }, (_, i) => ({ id: `w${i}`, wait: { duration: '1s' } })) });
    const job = { id: 'big', name: 'Big', steps: Array.from({ length: 11 }, (_, i) => ({ id: `l${i}`, library: 'long@1' })) };
    const result = validateJob(job, { catalog: [], actions: [], libraries: [long], hosts: [] });
    expect(result.ok ? [] : result.problems).toEqual([{ path: ['steps'], message: 'with its step libraries expanded the job has 1100 steps; at most 1000 run in one job: split it into jobs' }]);
  });
});

describe('usage counts', () => {
  it('count each job once per library version it pins', () => {
    const uses = (library: string) => ({ id: 'x', library, params: {} });
    const jobs = [
      JobSchema.parse({ id: 'a', name: 'A', steps: [uses('drain-node@3'), { ...uses('drain-node@3'), id: 'y' }] }),
      JobSchema.parse({ id: 'b', name: 'B', steps: [uses('drain-node@4')], rollback: { undo: [uses('drain-node@3')] } }),
    ];
    expect(Object.fromEntries(libraryUsage(jobs))).toEqual({ 'drain-node@3': 2, 'drain-node@4': 1 });
  });
});
