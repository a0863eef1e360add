import type { z } from 'zod';
import { type Manifest, type Parameter, validateParams } from '../manifest.ts';
import type { Operation } from '../operations/operation-schema.ts';
import { PLACEHOLDER } from '../placeholder.ts';
import { ancestorsOf, describeCycle, findCycles, resolveNeeds } from './job-graph.ts';
import { type Job, JobSchema, type Step, type Target } from './job-schema.ts';
import { isTemplate, parseTemplate, refText, type StepValue, type Template, type TemplateRef, templateRefs } from './job-template.ts';
import { type ConcreteStep, expandSteps, type LibraryStep, libraryKey, rewriteStepTemplates, type StepLibrary, StepLibrarySchema } from './step-library.ts';
import { describeType, misfit, typeOf, type ValueType } from './value-types.ts';

// Workflow-safe: pure. The save-time check of a job: every problem at once, each with the path of the field it is
// about, so the builder can show it on the node (and the YAML view on the line).

export type JobPath = (string | number)[];

export interface JobProblem {
  path: JobPath;
  /** The step the problem is about (the library step, for a problem inside a library), for the builder's node. */
  step?: string;
  message: string;
}

/** What the check looks things up in: the team's catalog, hosts and libraries as they are now. */
export interface JobValidationContext {
  /** Catalog scripts; `versions` (commit SHAs) when a step may pin one. */
  catalog: readonly { id: string; manifest: Manifest; versions?: readonly string[] }[];
  actions: readonly { id: string; manifest: Manifest }[];
  /** Every version of every step library that exists. */
  libraries: readonly StepLibrary[];
  hosts: readonly { id: string; environment?: string | null; group?: string | null; tags?: readonly string[] }[];
  /** Other jobs, any versions, for steps that run a job; none when absent. */
  jobs?: readonly Job[];
  /** Notification channel names; when absent, channels are not checked. */
  channels?: readonly string[];
}

/** A job after the check: library steps replaced by their steps, every step's `needs` spelled out. */
export interface ExpandedJob {
  job: Job;
  steps: ConcreteStep[];
  rollback: Record<string, ConcreteStep[]>;
  /** The job's outputs, as references to the expanded steps. */
  outputs: Record<string, string>;
}

export type JobValidation = { ok: true; job: Job; expanded: ExpandedJob } | { ok: false; problems: JobProblem[]; job?: Job };

/** Steps of one run, library steps expanded: each is a node, a state and history events in jobRunWorkflow. */
export const MAX_EXPANDED_STEPS = 1_000;

type AnyStep = Step | LibraryStep;
type Cardinality = 'one' | 'many' | 'unknown';

interface Located {
  step: AnyStep & { needs: string[] };
  path: JobPath;
  /** The step wrote its `needs`, rather than taking the step above. */
  explicitNeeds: boolean;
  /** The rollback branch, or undefined for the main steps. */
  branch: string | undefined;
}

/** One job, or one step library, being checked. */
interface Scope {
  what: 'job' | 'library';
  label: string;
  parameters: readonly Parameter[];
  steps: Map<string, Located>;
  ancestors: Map<string, Set<string>>;
  /** A library's steps with `targets: inherit` run where the job says: one host, several, or (checking the library alone) unknown. */
  inherited: Cardinality;
  ctx: JobValidationContext;
  problems: JobProblem[];
  /** Jobs whose outputs are being typed, to stop at a job that runs itself. */
  visiting: Set<string>;
}

const NO_OUTPUTS: Record<string, string> = {
  operation: 'a host operation',
  bulk: 'a bulk execution',
  take_lock: 'a take_lock step',
  release_lock: 'a release_lock step',
  wait: 'a wait',
  notify: 'a notification',
};
const APPROVAL_OUTPUTS: Record<string, ValueType> = { approver: { type: 'string' }, comment: { type: 'multiline' } };
const TEXT: ValueType = { type: 'multiline' };

function add(scope: Scope, path: JobPath, message: string, step?: string) {
  scope.problems.push({ path, message, ...(step !== undefined ? { step } : {}) });
}

/** Schema problems with their paths; a problem inside a step names the step by the id it was given, when it has one. */
export function zodProblems(error: z.ZodError, input: unknown): JobProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path as (string | number)[];
    const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message;
    const stepPath = path[0] === 'steps' ? path.slice(0, 2) : path[0] === 'rollback' ? path.slice(0, 3) : undefined;
    let raw: unknown = input;
    for (const key of stepPath ?? []) raw = typeof raw === 'object' && raw !== null ? (raw as Record<string | number, unknown>)[key] : undefined;
    const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
    return { path, message, ...(typeof id === 'string' ? { step: id } : {}) };
  });
}

function listed(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

function manifestOf(step: AnyStep, ctx: JobValidationContext): { manifest: Manifest; label: string } | undefined {
  if (step.kind === 'script') return withLabel(ctx.catalog.find((s) => s.id === step.script)?.manifest, `script ${step.script}`);
  if (step.kind === 'action') return withLabel(ctx.actions.find((a) => a.id === step.action)?.manifest, `action ${step.action}`);
  if (step.kind === 'bulk') {
    if (step.bulk.script !== undefined) return withLabel(ctx.catalog.find((s) => s.id === step.bulk.script)?.manifest, `script ${step.bulk.script}`);
    return withLabel(ctx.actions.find((a) => a.id === step.bulk.action)?.manifest, `action ${step.bulk.action}`);
  }
  return undefined;
}

function withLabel(manifest: Manifest | undefined, label: string) {
  return manifest === undefined ? undefined : { manifest, label };
}

function findLibrary(ctx: JobValidationContext, key: string): StepLibrary | undefined {
  return ctx.libraries.find((l) => libraryKey(l) === key);
}

function latestJob(ctx: JobValidationContext, id: string, version?: number): Job | undefined {
  const candidates = (ctx.jobs ?? []).filter((j) => j.id === id && (version === undefined || j.version === version));
  return candidates.reduce<Job | undefined>((best, j) => (best === undefined || (j.version ?? 0) > (best.version ?? 0) ? j : best), undefined);
}

/** Whether the step at `from` may read what the step `to` produced: `to` comes before it. */
function comesBefore(scope: Scope, to: string, from: Located): boolean {
  const target = scope.steps.get(to);
  if (!target) return false;
  if (from.branch !== undefined && target.branch === undefined) return true;
  return target.branch === from.branch && (scope.ancestors.get(from.step.id)?.has(to) ?? false);
}

function cardinality(scope: Scope, targets: Target | 'inherit' | undefined, seen = new Set<string>()): Cardinality {
  if (targets === undefined) return 'unknown';
  if (targets === 'inherit') return scope.inherited;
  if (targets.host !== undefined) return 'one';
  if (Array.isArray(targets.hosts)) return targets.hosts.length === 1 ? 'one' : 'many';
  if (typeof targets.hosts === 'string') {
    const parsed = parseTemplate(targets.hosts);
    if (!parsed.ok || !parsed.template.whole) return 'unknown';
    const t = refType(scope, parsed.template.parts[0] as TemplateRef, undefined, []);
    return t?.type === 'host' ? 'one' : 'many';
  }
  if (targets.selector !== undefined) return 'many';
  const from = targets.from_step !== undefined ? scope.steps.get(targets.from_step) : undefined;
  if (!from || seen.has(from.step.id)) return 'unknown';
  seen.add(from.step.id);
  return cardinality(scope, 'targets' in from.step ? from.step.targets : undefined, seen);
}

/**
 * The type of a reference, or undefined when it cannot be known (a problem already said why). With `at`, the
 * reference is being used by that step, and the rules of use are checked: the step producing it comes before, and
 * runs on one host.
 */
function refType(scope: Scope, ref: TemplateRef, at: Located | undefined, path: JobPath): ValueType | undefined {
  const report = (message: string) => {
    if (at) add(scope, path, message, stepLabel(at));
  };
  if (ref.kind === 'param') {
    const p = scope.parameters.find((x) => x.name === ref.name);
    if (!p) {
      report(`{{ ${refText(ref)} }}: the ${scope.what} has no parameter ${ref.name} (its parameters: ${listed(scope.parameters.map((x) => x.name))})`);
      return undefined;
    }
    return typeOf(p);
  }
  if (ref.step.includes('/')) {
    report(`{{ ${refText(ref)} }}: the steps inside a library step are reached through the library's outputs: {{ steps.${ref.step.split('/')[0]}.outputs.<name> }}`);
    return undefined;
  }
  const producer = scope.steps.get(ref.step);
  if (!producer) {
    report(`{{ ${refText(ref)} }}: there is no step ${ref.step}`);
    return undefined;
  }
  if (at) {
    if (producer.step.id === at.step.id) {
      report(`{{ ${refText(ref)} }}: a step cannot use its own outputs`);
      return undefined;
    }
    if (at.branch === undefined && producer.branch !== undefined) {
      report(`{{ ${refText(ref)} }}: ${ref.step} is a step of rollback branch ${producer.branch}, which runs only after a failure`);
      return undefined;
    }
    if (!comesBefore(scope, ref.step, at)) {
      report(`{{ ${refText(ref)} }}: ${ref.step} does not come before ${at.step.id}; add ${ref.step} to the needs of ${at.step.id} (directly or through a step it needs)`);
      return undefined;
    }
  }
  return outputType(scope, producer, ref, report);
}

function outputType(scope: Scope, producer: Located, ref: TemplateRef & { kind: 'output' }, report: (message: string) => void): ValueType | undefined {
  const step = producer.step;
  const unknown = (known: readonly string[], owner: string) => {
    report(`{{ ${refText(ref)} }}: ${owner} has no output ${ref.name} (${known.length === 0 ? `it declares none${step.kind === 'script' || step.kind === 'action' ? ': declare it under outputs: in its manifest' : ''}` : `its outputs: ${known.join(', ')}`})`);
    return undefined;
  };
  switch (step.kind) {
    case 'script':
    case 'action': {
      const found = manifestOf(step, scope.ctx);
      if (!found) return undefined;
      const decl = found.manifest.outputs?.find((o) => o.name === ref.name);
      if (!decl) return unknown(found.manifest.outputs?.map((o) => o.name) ?? [], found.label);
      const hosts = cardinality(scope, 'targets' in step ? step.targets : undefined);
      if (hosts === 'many') {
        report(`{{ ${refText(ref)} }}: ${step.id} runs on several hosts, each with its own outputs: target one host (targets: { host: … }) to pass an output forward`);
        return undefined;
      }
      return typeOf(decl);
    }
    case 'approval':
      return APPROVAL_OUTPUTS[ref.name] ?? unknown(Object.keys(APPROVAL_OUTPUTS), `approval ${step.id}`);
    case 'job': {
      const child = latestJob(scope.ctx, step.job, step.version);
      if (!child) return undefined;
      const types = jobOutputTypes(child, scope.ctx, scope.visiting);
      return types.get(ref.name) ?? unknown([...types.keys()], `job ${step.job}`);
    }
    case 'library': {
      const lib = findLibrary(scope.ctx, step.library);
      if (!lib) return undefined;
      const template = lib.outputs?.[ref.name];
      if (template === undefined) return unknown(Object.keys(lib.outputs ?? {}), `step library ${step.library}`);
      const libScope = libraryScope(lib, scope.ctx, cardinality(scope, step.targets), scope.visiting);
      const parsed = parseTemplate(template);
      if (!parsed.ok || !parsed.template.whole) return undefined;
      const inner = parsed.template.parts[0] as TemplateRef;
      if (inner.kind === 'param') {
        const p = lib.parameters?.find((x) => x.name === inner.name);
        return p ? typeOf(p) : undefined;
      }
      const innerStep = libScope.steps.get(inner.step);
      let innerProblem: string | undefined;
      const type = innerStep ? outputType(libScope, innerStep, inner, (m) => (innerProblem = m)) : undefined;
      if (innerProblem !== undefined) report(`{{ ${refText(ref)} }}: in ${step.library}, ${innerProblem}`);
      return type;
    }
    default:
      report(`{{ ${refText(ref)} }}: ${step.id} is ${NO_OUTPUTS[step.kind]}, which has no outputs`);
      return undefined;
  }
}

function stepLabel(at: Located): string {
  return at.step.id;
}

/** The type of each output a job exposes, read through its steps; a job that runs itself stops the search. */
function jobOutputTypes(job: Job, ctx: JobValidationContext, visiting: Set<string>): Map<string, ValueType> {
  const types = new Map<string, ValueType>();
  if (visiting.has(job.id)) return types;
  const scope = buildScope('job', `job ${job.id}`, job.parameters ?? [], job.steps, job.rollback ?? {}, ctx, 'one', new Set([...visiting, job.id]));
  for (const [name, template] of Object.entries(job.outputs ?? {})) {
    const parsed = parseTemplate(template);
    if (!parsed.ok || !parsed.template.whole) continue;
    const type = refType(scope, parsed.template.parts[0] as TemplateRef, undefined, []);
    if (type) types.set(name, type);
  }
  return types;
}

function buildScope(
  what: 'job' | 'library',
  label: string,
  parameters: readonly Parameter[],
  steps: readonly AnyStep[],
  rollback: Readonly<Record<string, readonly AnyStep[]>>,
  ctx: JobValidationContext,
  inherited: Cardinality,
  visiting: Set<string>,
): Scope {
  const located = new Map<string, Located>();
  const lists: { original: readonly AnyStep[]; list: (AnyStep & { needs: string[] })[]; branch: string | undefined; prefix: JobPath }[] = [
    { original: steps, list: resolveNeeds(steps), branch: undefined, prefix: ['steps'] },
    ...Object.entries(rollback).map(([branch, list]) => ({ original: list, list: resolveNeeds(list), branch, prefix: ['rollback', branch] as JobPath })),
  ];
  const ancestors = new Map<string, Set<string>>();
  for (const { original, list, branch, prefix } of lists) {
    list.forEach((step, i) => {
      if (!located.has(step.id)) located.set(step.id, { step, path: [...prefix, i], branch, explicitNeeds: original[i]!.needs !== undefined });
    });
    for (const [id, set] of ancestorsOf(list)) if (!ancestors.has(id)) ancestors.set(id, set);
  }
  return { what, label, parameters, steps: located, ancestors, inherited, ctx, problems: [], visiting };
}

function libraryScope(lib: StepLibrary, ctx: JobValidationContext, inherited: Cardinality, visiting: Set<string>): Scope {
  return buildScope('library', `step library ${libraryKey(lib)}`, lib.parameters ?? [], lib.steps, {}, ctx, inherited, visiting);
}

/** Parses a template field and checks each reference's use; returns the template with the types found, or undefined. */
function checkTemplate(scope: Scope, at: Located, path: JobPath, text: string): { template: Template; types: (ValueType | undefined)[] } | undefined {
  const parsed = parseTemplate(text);
  if (!parsed.ok) {
    add(scope, path, parsed.error, stepLabel(at));
    return undefined;
  }
  const types = templateRefs(parsed.template).map((ref) => refType(scope, ref, at, path));
  return { template: parsed.template, types };
}

/** A template field that must fit `target` (a parameter's type, or text for a message). */
function checkFit(scope: Scope, at: Located, path: JobPath, text: string, target: ValueType, what: string, required = false): void {
  const checked = checkTemplate(scope, at, path, text);
  if (!checked) return;
  const refs = templateRefs(checked.template);
  refs.forEach((ref, i) => {
    const source = checked.types[i];
    if (!source) return;
    const why = misfit(source, target, checked.template.whole);
    if (why) add(scope, path, `${what}: {{ ${refText(ref)} }} ${why}`, stepLabel(at));
  });
  if (required && checked.template.whole && refs[0]?.kind === 'param') {
    const p = scope.parameters.find((x) => x.name === refs[0]!.name);
    if (p && !p.required && !('default' in p && p.default !== undefined)) {
      add(scope, path, `{{ params.${p.name} }} may have no value (the ${scope.what}'s parameter ${p.name} is optional, without a default), and ${what} is required: make ${p.name} required or give it a default`, stepLabel(at));
    }
  }
}

/** A step's `params` against the parameters they fill: unknown names, missing required ones, literal values and template types. */
function checkParams(scope: Scope, at: Located, given: Readonly<Record<string, StepValue>> | undefined, declared: readonly Parameter[], owner: string) {
  const base = [...at.path, 'params'];
  for (const name of Object.keys(given ?? {})) {
    if (!declared.some((p) => p.name === name)) add(scope, [...base, name], `${owner} has no parameter ${name} (its parameters: ${listed(declared.map((p) => p.name))})`, stepLabel(at));
  }
  for (const p of declared) {
    const value = given?.[p.name];
    const path = [...base, p.name];
    const what = `parameter ${p.name} of ${owner}`;
    if (value === undefined) {
      if (p.required && !('default' in p && p.default !== undefined)) add(scope, base, `missing required parameter ${p.name}${p.title ? ` (${p.title})` : ''} of ${owner}`, stepLabel(at));
      continue;
    }
    if (typeof value === 'string' && isTemplate(value)) {
      checkFit(scope, at, path, value, typeOf(p), what, p.required);
      continue;
    }
    if (Array.isArray(value) && value.some(isTemplate)) {
      if (p.type !== 'host_list') {
        add(scope, path, `${what} is ${describeType(typeOf(p))}, not a list`, stepLabel(at));
        continue;
      }
      value.forEach((item, i) => {
        if (isTemplate(item)) checkFit(scope, at, [...path, i], item, { type: 'host' }, `each host of ${what}`);
        else checkKnownHost(scope, at, [...path, i], item);
      });
      continue;
    }
    const checked = validateParams([p], { [p.name]: value });
    if (!checked.ok) {
      for (const message of Object.values(checked.fields).flat()) add(scope, path, `${message} (${what})`, stepLabel(at));
      continue;
    }
    if (p.type === 'host' && typeof value === 'string') checkKnownHost(scope, at, path, value);
    if (p.type === 'host_list' && Array.isArray(value)) value.forEach((h, i) => checkKnownHost(scope, at, [...path, i], h));
  }
}

function checkKnownHost(scope: Scope, at: Located, path: JobPath, id: string) {
  if (!scope.ctx.hosts.some((h) => h.id === id)) add(scope, path, `there is no host ${id}`, stepLabel(at));
}

function selectorText(s: NonNullable<Target['selector']>): string {
  return [s.environment && `environment ${s.environment}`, s.group && `group ${s.group}`, s.tags?.length && `tags ${s.tags.join(', ')}`].filter(Boolean).join(', ');
}

function checkTargets(scope: Scope, at: Located, manifest: Manifest | undefined, owner: string | undefined) {
  const step = at.step;
  const targets = 'targets' in step ? step.targets : undefined;
  const path = [...at.path, 'targets'];
  if (targets === undefined) {
    add(scope, at.path, `say where ${step.id} runs: targets: { host: … }, { hosts: […] }, { selector: … } or { from_step: … }`, stepLabel(at));
    return;
  }
  if (targets === 'inherit') return;
  const needTags = manifest?.host_tags ?? [];
  const literalHost = (id: string, p: JobPath) => {
    const host = scope.ctx.hosts.find((h) => h.id === id);
    if (!host) return add(scope, p, `there is no host ${id}`, stepLabel(at));
    const missing = needTags.filter((t) => !(host.tags ?? []).includes(t));
    if (missing.length > 0) add(scope, p, `host ${id} lacks the tags ${owner} needs: ${missing.join(', ')}`, stepLabel(at));
  };
  if (targets.host !== undefined) {
    if (isTemplate(targets.host)) checkFit(scope, at, [...path, 'host'], targets.host, { type: 'host' }, 'the target host', true);
    else literalHost(targets.host, [...path, 'host']);
  } else if (Array.isArray(targets.hosts)) {
    targets.hosts.forEach((h, i) => (isTemplate(h) ? checkFit(scope, at, [...path, 'hosts', i], h, { type: 'host' }, 'a target host', true) : literalHost(h, [...path, 'hosts', i])));
  } else if (typeof targets.hosts === 'string') {
    const parsed = parseTemplate(targets.hosts);
    if (parsed.ok && !parsed.template.whole) add(scope, [...path, 'hosts'], 'hosts given as a template is one reference alone, {{ params.<host list> }}, or a list', stepLabel(at));
    else checkFit(scope, at, [...path, 'hosts'], targets.hosts, { type: 'host_list' }, 'the target hosts', true);
  } else if (targets.selector !== undefined) {
    const s = targets.selector;
    const matching = scope.ctx.hosts.filter(
      (h) => (s.environment === undefined || h.environment === s.environment) && (s.group === undefined || h.group === s.group) && (s.tags ?? []).every((t) => (h.tags ?? []).includes(t)),
    );
    if (matching.length === 0) add(scope, [...path, 'selector'], `the selector (${selectorText(s)}) matches no host`, stepLabel(at));
  } else if (targets.from_step !== undefined) {
    const from = scope.steps.get(targets.from_step);
    if (!from) add(scope, [...path, 'from_step'], `there is no step ${targets.from_step}`, stepLabel(at));
    else if (!('targets' in from.step) || (from.step.kind === 'library' && from.step.targets === undefined)) {
      add(scope, [...path, 'from_step'], `${targets.from_step} runs on no hosts of its own (it is a ${from.step.kind} step)`, stepLabel(at));
    }
    else if (!comesBefore(scope, targets.from_step, at)) add(scope, [...path, 'from_step'], `${targets.from_step} does not come before ${step.id}, so its hosts are not known yet: add it to the needs of ${step.id}`, stepLabel(at));
  }
}

function operationPlaceholders(op: Operation): string[] {
  return [...new Set([...JSON.stringify(op).matchAll(new RegExp(PLACEHOLDER.source, 'g'))].map((m) => m[1]!))];
}

function checkOperation(scope: Scope, at: Located, step: Extract<AnyStep, { kind: 'operation' }>) {
  const names = operationPlaceholders(step.operation);
  const base = [...at.path, 'params'];
  const password = step.operation.type === 'database_query' ? step.operation.connection.password_param : undefined;
  for (const name of names) if (step.params?.[name] === undefined) add(scope, base, `{{${name}}} in the operation has no value: give it in params`, stepLabel(at));
  if (password !== undefined && step.params?.[password] === undefined) add(scope, base, `password_param ${password} has no value: give it in params, from a secret parameter`, stepLabel(at));
  for (const [name, value] of Object.entries(step.params ?? {})) {
    const path = [...base, name];
    if (name === password) {
      const parsed = typeof value === 'string' ? parseTemplate(value) : undefined;
      const ref = parsed?.ok && parsed.template.whole ? (parsed.template.parts[0] as TemplateRef) : undefined;
      const type = ref ? refType(scope, ref, at, path) : undefined;
      if (ref && type && type.type !== 'secret') add(scope, path, `the database password comes from a secret: {{ ${refText(ref)} }} is ${describeType(type)}`, stepLabel(at));
      if (!ref) add(scope, path, 'the database password is a reference to a secret parameter, {{ params.<secret> }}, never written in the job', stepLabel(at));
      continue;
    }
    if (!names.includes(name)) {
      add(scope, path, `params.${name} is not used by the operation (its placeholders: ${listed(names)})`, stepLabel(at));
      continue;
    }
    if (typeof value === 'string' && isTemplate(value)) checkFit(scope, at, path, value, TEXT, `{{${name}}} of the operation`);
    else if (Array.isArray(value)) add(scope, path, `{{${name}}} of the operation is filled with text, not a list`, stepLabel(at));
  }
}

function checkNeeds(scope: Scope, at: Located) {
  at.step.needs.forEach((id, i) => {
    const path = at.explicitNeeds ? [...at.path, 'needs', i] : [...at.path];
    const other = scope.steps.get(id);
    if (!other) add(scope, path, `${at.step.id} needs ${id}, but there is no step ${id}`, stepLabel(at));
    else if (other.branch !== at.branch) {
      add(scope, path, at.branch === undefined ? `${id} is a step of rollback branch ${other.branch}: main steps cannot need it` : `${id} is not a step of rollback branch ${at.branch}: a branch's steps need only each other`, stepLabel(at));
    }
  });
}

function checkStep(scope: Scope, at: Located, job: Job | undefined) {
  const step = at.step;
  checkNeeds(scope, at);
  if (typeof step.on_failure === 'object') {
    if (at.branch !== undefined) add(scope, [...at.path, 'on_failure'], 'a rollback step cannot start another rollback: use stop or continue', stepLabel(at));
    else if (!(job?.rollback && step.on_failure.rollback in job.rollback)) {
      add(scope, [...at.path, 'on_failure', 'rollback'], `there is no rollback branch ${step.on_failure.rollback} (branches: ${listed(Object.keys(job?.rollback ?? {}))})`, stepLabel(at));
    }
  }
  switch (step.kind) {
    case 'script':
    case 'action':
    case 'bulk': {
      const ref = step.kind === 'bulk' ? (step.bulk.script !== undefined ? { kind: 'script', id: step.bulk.script } : { kind: 'action', id: step.bulk.action! }) : step.kind === 'script' ? { kind: 'script', id: step.script } : { kind: 'action', id: step.action };
      const found = manifestOf(step, scope.ctx);
      const field = step.kind === 'bulk' ? [...at.path, 'bulk', ref.kind] : [...at.path, ref.kind];
      if (!found) add(scope, field, ref.kind === 'script' ? `there is no script ${ref.id} in the catalog` : `there is no action ${ref.id}`, stepLabel(at));
      const version = step.kind === 'script' ? step.version : step.kind === 'bulk' ? step.bulk.version : undefined;
      const versions = ref.kind === 'script' ? scope.ctx.catalog.find((s) => s.id === ref.id)?.versions : undefined;
      if (version !== undefined && versions !== undefined && !versions.some((v) => v.startsWith(version))) {
        add(scope, step.kind === 'bulk' ? [...at.path, 'bulk', 'version'] : [...at.path, 'version'], `script ${ref.id} has no version ${version}`, stepLabel(at));
      }
      if (found) checkParams(scope, at, step.params, found.manifest.parameters, found.label);
      checkTargets(scope, at, found?.manifest, found?.label);
      break;
    }
    case 'operation':
      checkOperation(scope, at, step);
      checkTargets(scope, at, undefined, undefined);
      break;
    case 'take_lock':
      checkFit(scope, at, [...at.path, 'take_lock', 'reason'], step.take_lock.reason, TEXT, 'the reason');
      checkTargets(scope, at, undefined, undefined);
      break;
    case 'release_lock': {
      const taken = scope.steps.get(step.release_lock);
      const path = [...at.path, 'release_lock'];
      if (!taken) add(scope, path, `there is no step ${step.release_lock}`, stepLabel(at));
      else if (taken.step.kind !== 'take_lock') add(scope, path, `${step.release_lock} is a ${taken.step.kind} step; release_lock names the take_lock step whose locks it releases`, stepLabel(at));
      else if (!comesBefore(scope, step.release_lock, at)) add(scope, path, `${step.release_lock} does not come before ${step.id}: add it to the needs of ${step.id}`, stepLabel(at));
      break;
    }
    case 'approval':
      checkFit(scope, at, [...at.path, 'approval', 'message'], step.approval.message, TEXT, 'the message');
      break;
    case 'wait':
      if ('until' in step.wait) checkFit(scope, at, [...at.path, 'wait', 'until'], step.wait.until, { type: 'string' }, 'until', true);
      break;
    case 'notify':
      checkFit(scope, at, [...at.path, 'notify', 'title'], step.notify.title, TEXT, 'the title');
      if (step.notify.summary !== undefined) checkFit(scope, at, [...at.path, 'notify', 'summary'], step.notify.summary, TEXT, 'the summary');
      if (scope.ctx.channels !== undefined) {
        step.notify.channels.forEach((c, i) => {
          if (!scope.ctx.channels!.includes(c)) add(scope, [...at.path, 'notify', 'channels', i], `there is no notification channel ${c}`, stepLabel(at));
        });
      }
      break;
    case 'job': {
      const path = [...at.path, 'job'];
      const any = (scope.ctx.jobs ?? []).filter((j) => j.id === step.job);
      const child = latestJob(scope.ctx, step.job, step.version);
      if (any.length === 0) add(scope, path, `there is no job ${step.job}`, stepLabel(at));
      else if (!child) add(scope, [...at.path, 'version'], `job ${step.job} has no version ${step.version} (versions: ${listed(any.map((j) => String(j.version ?? 1)))})`, stepLabel(at));
      if (child) {
        const loop = jobLoop(scope.ctx, child.id, job?.id);
        if (loop) add(scope, path, `${loop.join(' runs ')}: a job cannot run itself`, stepLabel(at));
        checkParams(scope, at, step.params, child.parameters ?? [], `job ${child.id}`);
      }
      break;
    }
    case 'library':
      checkLibraryStep(scope, at, step);
      break;
  }
}

/** The chain of jobs from `start` back to `home` through steps that run jobs, or undefined when there is none. */
function jobLoop(ctx: JobValidationContext, start: string, home: string | undefined): string[] | undefined {
  if (home === undefined) return undefined;
  const queue: string[][] = [[home, start]];
  const seen = new Set<string>([start]);
  for (let head = 0; head < queue.length; head++) {
    const path = queue[head]!;
    const last = path.at(-1)!;
    if (last === home) return path;
    const job = latestJob(ctx, last);
    for (const s of [...(job?.steps ?? []), ...Object.values(job?.rollback ?? {}).flat()]) {
      if (s.kind !== 'job') continue;
      if (s.job === home) return [...path, home];
      if (!seen.has(s.job)) {
        seen.add(s.job);
        queue.push([...path, s.job]);
      }
    }
  }
  return undefined;
}

function checkLibraryStep(scope: Scope, at: Located, step: Extract<AnyStep, { kind: 'library' }>) {
  const lib = findLibrary(scope.ctx, step.library);
  const path = [...at.path, 'library'];
  if (!lib) {
    const [id] = step.library.split('@');
    const versions = scope.ctx.libraries.filter((l) => l.id === id).map((l) => l.version);
    add(scope, path, versions.length === 0 ? `there is no step library ${id}` : `step library ${step.library} no longer exists (versions now: ${versions.sort((a, b) => a - b).join(', ')}): pin one of them`, stepLabel(at));
    return;
  }
  if (step.timeout !== undefined || step.retries !== undefined || step.retry_delay !== undefined) {
    add(scope, at.path, `timeout and retries of a library step are set by its steps, inside ${step.library}`, stepLabel(at));
  }
  checkParams(scope, at, step.params, lib.parameters ?? [], `step library ${step.library}`);
  if (lib.targets === 'required') checkTargets(scope, at, undefined, undefined);
  else if (step.targets !== undefined) add(scope, [...at.path, 'targets'], `step library ${step.library} takes no targets: its steps say where they run`, stepLabel(at));
  // The library against today's catalog and hosts, with the job's targets: what changed since it was saved shows here.
  const inner = validateLibraryScope(lib, scope.ctx, lib.targets === 'required' ? cardinality(scope, step.targets) : 'unknown', scope.visiting, false);
  for (const problem of inner) add(scope, at.path, `in ${step.library}${problem.step ? `, step ${problem.step}` : ''}: ${problem.message}`, stepLabel(at));
}

/** A library's problems; its exposed outputs are checked when it is saved, and where a job uses them when a job is. */
function validateLibraryScope(lib: StepLibrary, ctx: JobValidationContext, inherited: Cardinality, visiting: Set<string>, exposed: boolean): JobProblem[] {
  const scope = libraryScope(lib, ctx, inherited, visiting);
  checkGraph(scope, undefined);
  if (exposed) for (const [name, template] of Object.entries(lib.outputs ?? {})) checkExposedOutput(scope, ['outputs', name], template);
  return scope.problems;
}

function checkExposedOutput(scope: Scope, path: JobPath, template: string) {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return add(scope, path, parsed.error);
  if (!parsed.template.whole) return add(scope, path, 'an output is one reference alone, like {{ steps.check.outputs.version }}');
  const ref = parsed.template.parts[0] as TemplateRef;
  const producer = ref.kind === 'output' ? scope.steps.get(ref.step) : undefined;
  if (producer?.branch !== undefined) return add(scope, path, `${ref.kind === 'output' ? ref.step : ''} is a rollback step: outputs come from the main steps`);
  let problem: string | undefined;
  if (ref.kind === 'output' && producer) outputType(scope, producer, ref, (m) => (problem = m));
  else if (ref.kind === 'output') problem = `{{ ${refText(ref)} }}: there is no step ${ref.step}`;
  else if (!scope.parameters.some((p) => p.name === ref.name)) problem = `{{ ${refText(ref)} }}: there is no parameter ${ref.name}`;
  if (problem !== undefined) add(scope, path, problem);
}

function checkGraph(scope: Scope, job: Job | undefined) {
  const seen = new Map<string, JobPath>();
  for (const at of scope.steps.values()) seen.set(at.step.id, at.path);
  // Duplicates never reach the map: find them from the lists themselves.
  const all: Located[] = [];
  const lists = job ? [{ list: job.steps, prefix: ['steps'] as JobPath }, ...Object.entries(job.rollback ?? {}).map(([b, list]) => ({ list, prefix: ['rollback', b] as JobPath }))] : [];
  const firstAt = new Map<string, JobPath>();
  for (const { list, prefix } of lists) {
    list.forEach((s, i) => {
      const path = [...prefix, i];
      const first = firstAt.get(s.id);
      if (first) add(scope, [...path, 'id'], `step id ${s.id} is used twice (first at ${first.join('.')})`, s.id);
      else firstAt.set(s.id, path);
    });
  }
  for (const at of scope.steps.values()) all.push(at);
  const byBranch = new Map<string | undefined, Located[]>();
  for (const at of all) byBranch.set(at.branch, [...(byBranch.get(at.branch) ?? []), at]);
  for (const list of byBranch.values()) {
    for (const cycle of findCycles(list.map((at) => at.step))) {
      const first = scope.steps.get(cycle[0]!)!;
      add(scope, [...first.path, 'needs'], `the steps form a cycle: ${describeCycle(cycle)}`, cycle[0]);
    }
  }
  for (const at of all) checkStep(scope, at, job);
}

/**
 * The save-time check of a job: schema, then every problem the builder shows on a node: a cycle (named), a
 * `needs` to an unknown step, an unknown output or the output of a step that does not come before, a missing
 * required parameter, a type mismatch where it can be known, a target selector that matches nothing, a step
 * library version that no longer exists, an unknown script, action, host or job. On success, the job with its
 * library steps expanded, for `planJob`.
 */
export function validateJob(input: unknown, ctx: JobValidationContext): JobValidation {
  const parsed = JobSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, input) };
  const job = parsed.data;
  const scope = buildScope('job', `job ${job.id}`, job.parameters ?? [], job.steps, job.rollback ?? {}, ctx, 'one', new Set([job.id]));
  checkGraph(scope, job);
  if (job.on_cancel && !(job.rollback && job.on_cancel.rollback in job.rollback)) {
    add(scope, ['on_cancel', 'rollback'], `there is no rollback branch ${job.on_cancel.rollback} (branches: ${listed(Object.keys(job.rollback ?? {}))})`);
  }
  for (const [name, template] of Object.entries(job.outputs ?? {})) checkExposedOutput(scope, ['outputs', name], template);
  if (scope.problems.length > 0) return { ok: false, problems: scope.problems, job };
  const expanded = expandJob(job, ctx.libraries);
  const size = expanded.steps.length + Object.values(expanded.rollback).flat().length;
  if (size > MAX_EXPANDED_STEPS) {
    return { ok: false, problems: [{ path: ['steps'], message: `with its step libraries expanded the job has ${size} steps; at most ${MAX_EXPANDED_STEPS} run in one job: split it into jobs` }], job };
  }
  return { ok: true, job, expanded };
}

/** The job with its library steps replaced by their steps, and references to a library step's outputs by the references behind them. */
export function expandJob(job: Job, libraries: readonly StepLibrary[]): ExpandedJob {
  const byKey = new Map(libraries.map((l) => [libraryKey(l), l]));
  const libraryOutputs = new Map<string, Record<string, string>>();
  const expand = (list: readonly Step[]) => {
    const expanded = expandSteps(list, byKey);
    for (const [id, outputs] of expanded.libraryOutputs) libraryOutputs.set(id, outputs);
    return expanded.steps;
  };
  const main = expand(job.steps);
  const rollback = Object.fromEntries(Object.entries(job.rollback ?? {}).map(([branch, list]) => [branch, expand(list)]));
  const mapRef = (ref: TemplateRef & { kind: 'output' }): TemplateRef => {
    const template = libraryOutputs.get(ref.step)?.[ref.name];
    if (template === undefined) return ref;
    const parsed = parseTemplate(template);
    return parsed.ok && parsed.template.whole ? (parsed.template.parts[0] as TemplateRef) : ref;
  };
  const rewrite = (steps: ConcreteStep[]) => steps.map((s) => rewriteStepTemplates(s, mapRef));
  const outputs: Record<string, string> = {};
  for (const [name, template] of Object.entries(job.outputs ?? {})) {
    const parsed = parseTemplate(template);
    const ref = parsed.ok && parsed.template.whole ? (parsed.template.parts[0] as TemplateRef) : undefined;
    outputs[name] = ref?.kind === 'output' ? `{{ ${refText(mapRef(ref))} }}` : template;
  }
  // "The hosts of" a library step are the targets the job gave it.
  const libraryTargets = new Map<string, Target>();
  for (const s of [...job.steps, ...Object.values(job.rollback ?? {}).flat()]) if (s.kind === 'library' && s.targets) libraryTargets.set(s.id, s.targets);
  const retarget = (steps: ConcreteStep[]) =>
    steps.map((s) => {
      const from = 'targets' in s ? s.targets?.from_step : undefined;
      const targets = from === undefined ? undefined : libraryTargets.get(from);
      return targets === undefined ? s : ({ ...s, targets } as ConcreteStep);
    });
  const finish = (steps: ConcreteStep[]) => rewrite(retarget(steps));
  return { job, steps: finish(main), rollback: Object.fromEntries(Object.entries(rollback).map(([b, s]) => [b, finish(s)])), outputs };
}

/** The save-time check of a step library, against the catalog and hosts it will run with. */
export function validateStepLibrary(input: unknown, ctx: JobValidationContext): { ok: true; library: StepLibrary } | { ok: false; problems: JobProblem[]; library?: StepLibrary } {
  const parsed = StepLibrarySchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, input) };
  const lib = parsed.data;
  const problems = validateLibraryScope(lib, ctx, 'unknown', new Set(), true);
  return problems.length > 0 ? { ok: false, problems, library: lib } : { ok: true, library: lib };
}
