import type { ParamValue, ParamValues, Parameter } from '../manifest.ts';
import { topologicalLayers } from './job-graph.ts';
import type { JobSelector, OnFailure, StepKind, Target } from './job-schema.ts';
import { renderValue, type StepValue, type TemplateScope, TemplateRenderError } from './job-template.ts';
import type { ConcreteStep } from './step-library.ts';
import type { OutputValues } from './step-outputs.ts';
import type { ExpandedJob } from './validate-job.ts';

// Workflow-safe: pure and deterministic. What the job workflow does, decided without Temporal: the order, what
// runs in parallel, what a failure skips, which rollback branch runs, and what a retry reuses. The workflow keeps
// a JobProgress, calls `advance` for the steps to start, and `recordStepResult` as each one ends.

export interface PlannedStep {
  id: string;
  kind: Exclude<StepKind, 'library'>;
  needs: string[];
  /** Topological layer within its list (the main steps, or its branch). */
  layer: number;
  branch?: string;
  onFailure: OnFailure;
  /** Whether a retry may take this step's earlier result instead of running it again. */
  reusable: boolean;
}

export interface ExecutionPlan {
  job: { id: string; version: number | null };
  steps: Record<string, PlannedStep>;
  /** The main steps in list order. */
  order: string[];
  /** The main steps in layers: those of a layer can run at the same time. */
  layers: string[][];
  rollback: Record<string, { order: string[]; layers: string[][] }>;
  onCancel: string | null;
}

/**
 * Kinds a retry always runs again: a lock's lease ended with the earlier run, so its take (and the release that
 * pairs with it) must happen again; an approval is asked again, as time has passed since it was given.
 */
const NEVER_REUSED = new Set<string>(['take_lock', 'release_lock', 'approval']);

export function planJob(expanded: ExpandedJob): ExecutionPlan {
  const steps: Record<string, PlannedStep> = {};
  const place = (list: ConcreteStep[], branch?: string) => {
    const layers = topologicalLayers(list);
    layers.forEach((layer, depth) => {
      for (const id of layer) {
        const s = list.find((x) => x.id === id)!;
        steps[id] = {
          id,
          kind: s.kind,
          needs: [...s.needs],
          layer: depth,
          ...(branch !== undefined ? { branch } : {}),
          onFailure: s.on_failure ?? 'stop',
          reusable: branch === undefined && !NEVER_REUSED.has(s.kind),
        };
      }
    });
    return { order: list.map((s) => s.id), layers };
  };
  const main = place(expanded.steps);
  const rollback = Object.fromEntries(Object.entries(expanded.rollback).map(([branch, list]) => [branch, place(list, branch)]));
  return { job: { id: expanded.job.id, version: expanded.job.version ?? null }, steps, order: main.order, layers: main.layers, rollback, onCancel: expanded.job.on_cancel?.rollback ?? null };
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'reused' | 'failed' | 'skipped' | 'cancelled';

export interface StepRecord {
  status: StepStatus;
  outputs?: OutputValues;
  /** The hosts the step ran on (what `from_step` gives a later step). */
  hosts?: string[];
  error?: string;
  /** Why a step was skipped. */
  reason?: string;
  /** A retry's earlier result, taken instead of running the step once what it needs is done. */
  reuse?: { outputs: OutputValues; hosts?: string[] };
}

export type JobPhase = 'running' | 'stopping' | 'rolling_back' | 'finished';
export type JobOutcome = 'succeeded' | 'succeeded_with_failures' | 'failed' | 'rolled_back' | 'rollback_failed' | 'cancelled';

export interface JobProgress {
  job: { id: string; version: number | null };
  phase: JobPhase;
  steps: Record<string, StepRecord>;
  /** Why no new main step starts: the first failure that stops the job, or a cancel. */
  stoppedBy: { failed: string } | { cancelled: true } | null;
  /** The rollback branch chosen, and what chose it. */
  rollback: { branch: string; trigger: string } | null;
  outcome: JobOutcome | null;
}

export type StepResult = { status: 'succeeded'; outputs?: OutputValues; hosts?: string[] } | { status: 'failed'; error: string; hosts?: string[] } | { status: 'cancelled' };

export function startJob(plan: ExecutionPlan, reuse: Readonly<Record<string, { outputs: OutputValues; hosts?: string[] }>> = {}): JobProgress {
  const steps: Record<string, StepRecord> = {};
  for (const id of Object.keys(plan.steps)) {
    const earlier = reuse[id];
    steps[id] = earlier !== undefined && plan.steps[id]!.reusable ? { status: 'pending', reuse: earlier } : { status: 'pending' };
  }
  return { job: plan.job, phase: 'running', steps, stoppedBy: null, rollback: null, outcome: null };
}

const DONE = new Set<StepStatus>(['succeeded', 'reused']);
const ENDED = new Set<StepStatus>(['succeeded', 'reused', 'failed', 'skipped', 'cancelled']);

function clone(progress: JobProgress): JobProgress {
  return { ...progress, steps: Object.fromEntries(Object.entries(progress.steps).map(([id, r]) => [id, { ...r }])) };
}

/** Starts, reuses or skips what the list's state allows; true when anything changed. */
function step(plan: ExecutionPlan, progress: JobProgress, order: readonly string[], stopping: boolean, start: string[]): boolean {
  let changed = false;
  for (const id of order) {
    const record = progress.steps[id]!;
    if (record.status !== 'pending') continue;
    const planned = plan.steps[id]!;
    const blocked = planned.needs.find((need) => ['failed', 'skipped', 'cancelled'].includes(progress.steps[need]!.status));
    if (blocked !== undefined) {
      const status = progress.steps[blocked]!.status;
      progress.steps[id] = { status: 'skipped', reason: `needs ${blocked}, which ${status === 'failed' ? 'failed' : status === 'cancelled' ? 'was cancelled' : 'was skipped'}` };
      changed = true;
      continue;
    }
    if (stopping || !planned.needs.every((need) => DONE.has(progress.steps[need]!.status))) continue;
    if (record.reuse) {
      progress.steps[id] = { status: 'reused', outputs: record.reuse.outputs, ...(record.reuse.hosts ? { hosts: record.reuse.hosts } : {}) };
    } else {
      progress.steps[id] = { status: 'running' };
      start.push(id);
    }
    changed = true;
  }
  return changed;
}

function outcomeOf(plan: ExecutionPlan, progress: JobProgress): JobOutcome {
  const rolledBack = progress.rollback
    ? plan.rollback[progress.rollback.branch]!.order.every((id) => DONE.has(progress.steps[id]!.status))
      ? 'ok'
      : 'failed'
    : null;
  if (rolledBack === 'failed') return 'rollback_failed';
  if (progress.stoppedBy && 'cancelled' in progress.stoppedBy) return 'cancelled';
  if (rolledBack === 'ok') return 'rolled_back';
  if (progress.stoppedBy) return 'failed';
  return plan.order.some((id) => progress.steps[id]!.status === 'failed') ? 'succeeded_with_failures' : 'succeeded';
}

/**
 * Moves the job on as far as its state allows: reuses what a retry may reuse, skips the steps whose needs failed
 * or were skipped, and returns the steps to start now (already marked running). Once stopping and nothing runs, the
 * steps left are skipped and the rollback branch (if one was chosen) begins; once that is done, the job finishes.
 */
export function advance(plan: ExecutionPlan, current: JobProgress): { progress: JobProgress; start: string[] } {
  const progress = clone(current);
  const start: string[] = [];
  for (;;) {
    if (progress.phase === 'finished') break;
    if (progress.phase === 'running' || progress.phase === 'stopping') {
      while (step(plan, progress, plan.order, progress.phase === 'stopping', start));
      const running = plan.order.some((id) => progress.steps[id]!.status === 'running');
      const pending = plan.order.some((id) => progress.steps[id]!.status === 'pending');
      if (running || (pending && progress.phase === 'running')) break;
      const why = progress.stoppedBy === null ? '' : 'cancelled' in progress.stoppedBy ? 'the job was cancelled' : `the job stopped after ${progress.stoppedBy.failed} failed`;
      for (const id of plan.order) if (progress.steps[id]!.status === 'pending') progress.steps[id] = { status: 'skipped', reason: why };
      progress.phase = progress.rollback ? 'rolling_back' : 'finished';
      continue;
    }
    const branch = plan.rollback[progress.rollback!.branch]!;
    const stopped = branch.order.some((id) => progress.steps[id]!.status === 'failed' && plan.steps[id]!.onFailure === 'stop');
    while (step(plan, progress, branch.order, stopped, start));
    if (branch.order.some((id) => progress.steps[id]!.status === 'running')) break;
    if (!stopped && branch.order.some((id) => progress.steps[id]!.status === 'pending')) break;
    for (const id of branch.order) if (progress.steps[id]!.status === 'pending') progress.steps[id] = { status: 'skipped', reason: 'the rollback stopped after a step failed' };
    progress.phase = 'finished';
  }
  if (progress.phase === 'finished' && progress.outcome === null) progress.outcome = outcomeOf(plan, progress);
  return { progress, start };
}

/**
 * Records how a running step ended. A failure applies the step's `on_failure`: `continue` lets the others go on
 * (what needs the step is skipped), `stop` lets the running steps finish and starts nothing more, and
 * `{ rollback }` does the same, then runs the branch. The first failure that names a branch chooses it.
 */
export function recordStepResult(plan: ExecutionPlan, current: JobProgress, id: string, result: StepResult): JobProgress {
  const progress = clone(current);
  const planned = plan.steps[id];
  if (!planned) throw new Error(`the job has no step ${id}`);
  if (progress.steps[id]!.status !== 'running') throw new Error(`step ${id} is not running (it is ${progress.steps[id]!.status})`);
  if (result.status === 'succeeded') {
    progress.steps[id] = { status: 'succeeded', outputs: result.outputs ?? {}, ...(result.hosts ? { hosts: result.hosts } : {}) };
    return progress;
  }
  if (result.status === 'cancelled' && progress.stoppedBy !== null && 'cancelled' in progress.stoppedBy) {
    progress.steps[id] = { status: 'cancelled' };
    return progress;
  }
  // A step cancelled by anything but the job's cancel (a person cancelling its run) failed, as far as the job goes.
  const error = result.status === 'cancelled' ? 'the step was cancelled' : result.error;
  progress.steps[id] = { status: 'failed', error, ...(result.status === 'failed' && result.hosts ? { hosts: result.hosts } : {}) };
  if (planned.branch !== undefined || planned.onFailure === 'continue') return progress;
  if (progress.stoppedBy === null) progress.stoppedBy = { failed: id };
  if (progress.phase === 'running') progress.phase = 'stopping';
  if (typeof planned.onFailure === 'object' && progress.rollback === null) progress.rollback = { branch: planned.onFailure.rollback, trigger: id };
  return progress;
}

/**
 * Cancels the job: nothing more starts, and the running main steps are to be cancelled (the workflow cancels
 * them and records each as it ends). When they have, the job's `on_cancel` branch runs, unless a failure chose a
 * branch already. A cancel while the rollback runs does not stop the rollback.
 */
export function cancelJob(plan: ExecutionPlan, current: JobProgress): { progress: JobProgress; cancel: string[] } {
  if (current.phase === 'rolling_back' || current.phase === 'finished') return { progress: current, cancel: [] };
  const progress = clone(current);
  progress.stoppedBy = { cancelled: true };
  progress.phase = 'stopping';
  if (progress.rollback === null && plan.onCancel !== null) progress.rollback = { branch: plan.onCancel, trigger: 'cancel' };
  return { progress, cancel: plan.order.filter((id) => progress.steps[id]!.status === 'running') };
}

/** The steps skipped if `id` fails with `continue`: everything that needs it, directly or through others. */
export function skippedBy(plan: ExecutionPlan, id: string): string[] {
  const branch = plan.steps[id]?.branch;
  const order = branch === undefined ? plan.order : plan.rollback[branch]!.order;
  const hit = new Set([id]);
  for (const other of order) if (plan.steps[other]!.needs.some((n) => hit.has(n))) hit.add(other);
  hit.delete(id);
  return order.filter((x) => hit.has(x));
}

/** The rollback branch that runs if `id` fails (or, for 'cancel', when the job is cancelled), or null. */
export function rollbackFor(plan: ExecutionPlan, id: string | 'cancel'): string | null {
  if (id === 'cancel') return plan.onCancel;
  const onFailure = plan.steps[id]?.onFailure;
  return typeof onFailure === 'object' ? onFailure.rollback : null;
}

export type RetryPlan = { ok: true; reuse: Record<string, { outputs: OutputValues; hosts?: string[] }>; rerun: string[] } | { ok: false; reason: string };

/**
 * "Retry from the failed step": a new run of the same job version and parameters that takes the outputs of the
 * steps that succeeded (and may be reused) instead of running them, and runs the rest. Refused after a rollback
 * (it undid what those steps did), for another version of the job, and for a run that did not fail.
 */
export function retryFromFailed(plan: ExecutionPlan, earlier: JobProgress): RetryPlan {
  if (earlier.job.id !== plan.job.id || earlier.job.version !== plan.job.version) {
    return { ok: false, reason: `the earlier run ran ${earlier.job.id} version ${earlier.job.version ?? 1}; a retry runs the same version` };
  }
  if (earlier.phase !== 'finished') return { ok: false, reason: 'the earlier run has not finished' };
  if (earlier.outcome === 'succeeded') return { ok: false, reason: 'the earlier run succeeded: nothing failed to retry' };
  if (earlier.rollback !== null) {
    return { ok: false, reason: `the earlier run rolled back (branch ${earlier.rollback.branch}), which undid what its steps did, so their outputs cannot be reused: start the job again` };
  }
  const reuse: Record<string, { outputs: OutputValues; hosts?: string[] }> = {};
  const rerun: string[] = [];
  for (const id of plan.order) {
    const record = earlier.steps[id];
    if (record && DONE.has(record.status) && plan.steps[id]!.reusable) reuse[id] = { outputs: record.outputs ?? {}, ...(record.hosts ? { hosts: record.hosts } : {}) };
    else rerun.push(id);
  }
  return { ok: true, reuse, rerun };
}

/** What templates may read at this point of the run: the job's parameters and the outputs of the steps done. */
export function scopeOf(progress: JobProgress, params: ParamValues): TemplateScope {
  const steps: Record<string, OutputValues> = {};
  for (const [id, record] of Object.entries(progress.steps)) if (DONE.has(record.status)) steps[id] = record.outputs ?? {};
  return { params, steps };
}

export type ResolvedTargets = { hosts: string[] } | { selector: JobSelector };

/** A step's targets with its templates rendered and `from_step` replaced by the hosts that step ran on. */
export function resolveTargets(targets: Target, progress: JobProgress, scope: TemplateScope): ResolvedTargets {
  const host = (value: ParamValue): string[] => (Array.isArray(value) ? value : [String(value)]);
  if (targets.host !== undefined) return { hosts: host(renderValue(targets.host, scope)) };
  if (targets.hosts !== undefined) return { hosts: host(renderValue(targets.hosts, scope)) };
  if (targets.selector !== undefined) return { selector: targets.selector };
  const from = progress.steps[targets.from_step!];
  if (!from?.hosts || !ENDED.has(from.status)) throw new TemplateRenderError(`from_step ${targets.from_step}: that step has not run on any host in this run`);
  return { hosts: [...from.hosts] };
}

/**
 * A step's parameters rendered for the step: templates filled, values as data (never spliced into a command
 * line). With the parameters they fill, a whole reference is put in the declared type where that loses nothing
 * (a number into text, one host into a host list); the step's own validation (validateParams) checks the rest.
 */
export function renderParams(params: Readonly<Record<string, StepValue>> | undefined, scope: TemplateScope, parameters?: readonly Parameter[]): ParamValues {
  const out: ParamValues = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    const rendered = renderValue(value, scope);
    const type = parameters?.find((p) => p.name === name)?.type;
    if (type === 'host_list' && typeof rendered === 'string') out[name] = [rendered];
    else if (type !== undefined && ['string', 'multiline', 'enum', 'date', 'host', 'secret'].includes(type) && (typeof rendered === 'number' || typeof rendered === 'boolean')) out[name] = String(rendered);
    else out[name] = rendered;
  }
  return out;
}
