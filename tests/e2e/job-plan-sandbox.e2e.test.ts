import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema } from '@drydock/core';
import type { JobValidationContext } from '@drydock/core/jobs';
import { startSandboxWorker, type SandboxWorker } from '../support/sandbox-worker.ts';
import { jobPlanWorkflow } from '../support/job-plan.test-workflows.ts';

// @drydock/core/jobs is meant for jobRunWorkflow: here a real worker bundles it and runs it in the workflow sandbox.

let sandbox: SandboxWorker;

beforeAll(async () => {
  sandbox = await startSandboxWorker('job-plan', createRequire(import.meta.url).resolve('../support/job-plan.test-workflows.ts'));
});
afterAll(() => sandbox?.stop());

const context: JobValidationContext = {
  catalog: [
    { id: 'check-version', manifest: ManifestSchema.parse({ id: 'check-version', name: 'Check', command_template: 'true', outputs: [{ name: 'version', type: 'string' }] }) },
    { id: 'migrate', manifest: ManifestSchema.parse({ id: 'migrate', name: 'Migrate', command_template: 'true', parameters: [{ name: 'from', type: 'string', required: true }] }) },
  ],
  actions: [],
  libraries: [],
  hosts: [{ id: 'web-1' }],
};
const job = {
  id: 'upgrade',
  name: 'Upgrade',
  steps: [
    { id: 'check', script: 'check-version', targets: { host: 'web-1' } },
    { id: 'migrate', script: 'migrate', params: { from: '{{ steps.check.outputs.version }}' }, targets: { host: 'web-1' }, on_failure: { rollback: 'undo' } },
    { id: 'tell', needs: ['check'], wait: { duration: '1s' } },
  ],
  rollback: { undo: [{ id: 'restore', script: 'migrate', params: { from: 'backup' }, targets: { host: 'web-1' } }] },
};
const execute = (failing: string | null, input: unknown = job) =>
  sandbox.client.workflow.execute(jobPlanWorkflow, { args: [input, context, failing, 'version<<EOF\n2.4\nEOF\n'], taskQueue: sandbox.taskQueue, workflowId: `job-plan-${randomBytes(4).toString('hex')}` });

describe('the job model in the workflow sandbox', () => {
  it('checks, plans and drives a job, reading outputs as a worker would', async () => {
    const run = await execute(null);
    expect(run).toEqual({
      problems: [],
      layers: [['check'], ['migrate', 'tell']],
      started: [['check'], ['migrate', 'tell']],
      outcome: 'succeeded',
      outputs: { check: { version: '2.4' }, migrate: {}, tell: {} },
    });
  });

  it('rolls back in the sandbox as it does outside it', async () => {
    expect(await execute('migrate')).toMatchObject({ started: [['check'], ['migrate', 'tell'], ['restore']], outcome: 'rolled_back' });
  });

  it('refuses a job with a cycle, naming it', async () => {
    const cyclic = { ...job, steps: [{ ...job.steps[0], needs: ['tell'] }, job.steps[1], job.steps[2]] };
    expect((await execute(null, cyclic)).problems).toEqual(['steps.0.needs: the steps form a cycle: check needs tell, tell needs check']);
  });
});
