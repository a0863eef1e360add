import { advance, type JobOutcome, type JobValidationContext, planJob, readStepOutputs, recordStepResult, startJob, validateJob } from '@drydock/core/jobs';

// The workflow bundle of tests/e2e/job-plan-sandbox.e2e.test.ts: the job model inside Temporal's workflow
// sandbox, as jobRunWorkflow will use it.

export interface SandboxRun {
  problems: string[];
  layers: string[][];
  started: string[][];
  outcome: JobOutcome | null;
  outputs: Record<string, unknown>;
}

/** Checks the job, plans it and drives it to the end: every step succeeds (with `outputFile` as its DRYDOCK_OUTPUT) except `failing`. */
export async function jobPlanWorkflow(job: unknown, context: JobValidationContext, failing: string | null, outputFile: string): Promise<SandboxRun> {
  const checked = validateJob(job, context);
  if (!checked.ok) return { problems: checked.problems.map((p) => `${p.path.join('.')}: ${p.message}`), layers: [], started: [], outcome: null, outputs: {} };
  const plan = planJob(checked.expanded);
  let { progress, start } = advance(plan, startJob(plan));
  const started: string[][] = [];
  const outputs: Record<string, unknown> = {};
  while (start.length > 0) {
    started.push(start);
    for (const id of start) {
      const declared = context.catalog.find((s) => checked.expanded.steps.find((x) => x.id === id && x.kind === 'script' && x.script === s.id))?.manifest.outputs ?? [];
      const read = readStepOutputs(new TextEncoder().encode(outputFile), declared, id);
      if (!read.ok) throw new Error(read.problems.join('; '));
      outputs[id] = read.outputs;
      progress = recordStepResult(plan, progress, id, id === failing ? { status: 'failed', error: 'exit 1' } : { status: 'succeeded', outputs: read.outputs, hosts: ['web-1'] });
    }
    ({ progress, start } = advance(plan, progress));
  }
  return { problems: [], layers: plan.layers, started, outcome: progress.outcome, outputs };
}
