import { z } from 'zod';
import { resolveNeeds } from './job-graph.ts';
import { ExposedOutputsSchema, JobParametersSchema, type Job, makeStepSchema, type Step, type Target, TargetSchema } from './job-schema.ts';
import { isTemplate, parseTemplate, type StepValue, substituteTemplate, type TemplateRef } from './job-template.ts';

// Workflow-safe: pure. Step libraries: reusable, parameterised, versioned groups of steps ("drain node",
// "restart service and wait healthy"). A job pins one version (`library: drain-node@3`), so a library changed
// later does not change the jobs that pinned an older version; expansion turns the pinned step into its steps.

/** Inside a library, `targets: inherit` is the targets the job gave the library step. */
const LibraryStepSchema = makeStepSchema(z.union([z.literal('inherit'), TargetSchema]));
export type LibraryStep = z.infer<typeof LibraryStepSchema>;

export const StepLibrarySchema = z
  .strictObject({
    kind: z.literal('step_library', { error: 'a step library document says kind: step_library' }).default('step_library'),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'use lower-case letters, digits and "-"' }),
    version: z.number().int().min(1),
    name: z.string().min(1).max(200),
    description: z.string().max(10_000).optional(),
    parameters: JobParametersSchema.optional(),
    /** Whether the job gives the library step targets, which its steps take with `targets: inherit`. */
    targets: z.enum(['required', 'none']).default('none'),
    steps: z.array(LibraryStepSchema).min(1).max(100),
    outputs: ExposedOutputsSchema.optional(),
  })
  .superRefine((lib, ctx) => {
    lib.steps.forEach((step, i) => {
      if (step.kind === 'library') ctx.addIssue({ code: 'custom', path: ['steps', i, 'library'], message: 'a step library cannot use another library: copy its steps in' });
      if (typeof step.on_failure === 'object') ctx.addIssue({ code: 'custom', path: ['steps', i, 'on_failure'], message: 'rollback branches belong to the job; a library step fails with stop or continue' });
      if ('targets' in step && step.targets === 'inherit' && lib.targets === 'none') ctx.addIssue({ code: 'custom', path: ['steps', i, 'targets'], message: 'targets: inherit needs the library to say targets: required' });
    });
  });
export type StepLibrary = z.infer<typeof StepLibrarySchema>;

export function libraryKey(lib: { id: string; version: number }): string {
  return `${lib.id}@${lib.version}`;
}

/** Where an expanded step came from, to put its problems on the job's node for the library step. */
export interface StepOrigin {
  /** The library step of the job. */
  step: string;
  /** `drain-node@3`. */
  library: string;
  /** The step's id inside the library. */
  inner: string;
}

export type ConcreteStep = Exclude<Step, { kind: 'library' }> & { needs: string[]; origin?: StepOrigin };

export class LibraryExpansionError extends Error {
  override readonly name = 'LibraryExpansionError';
}

function mapValue(value: StepValue, params: Readonly<Record<string, StepValue | undefined>>, mapRef: (ref: TemplateRef & { kind: 'output' }) => TemplateRef): StepValue {
  const one = (text: string): StepValue => {
    if (!isTemplate(text)) return text;
    const parsed = parseTemplate(text);
    if (!parsed.ok) throw new LibraryExpansionError(parsed.error);
    return substituteTemplate(parsed.template, params, mapRef);
  };
  if (typeof value === 'string') return one(value);
  if (Array.isArray(value)) {
    return value.map((item) => {
      const mapped = one(item);
      if (typeof mapped !== 'string') throw new LibraryExpansionError(`a list element became ${Array.isArray(mapped) ? 'a list' : 'a non-text value'}; list elements are texts or hosts`);
      return mapped;
    });
  }
  return value;
}

/** Every template-bearing string of a step, rewritten; the kind's other fields are kept. */
function mapStep<S extends Step>(step: S, map: (value: StepValue) => StepValue): S {
  const text = (t: string) => map(t) as string;
  const out = { ...step } as Step;
  if ('params' in out && out.params) out.params = Object.fromEntries(Object.entries(out.params).map(([k, v]) => [k, map(v)]));
  if ('targets' in out && out.targets) out.targets = mapTargets(out.targets, map);
  switch (out.kind) {
    case 'take_lock':
      out.take_lock = { ...out.take_lock, reason: text(out.take_lock.reason) };
      break;
    case 'approval':
      out.approval = { ...out.approval, message: text(out.approval.message) };
      break;
    case 'wait':
      if ('until' in out.wait) out.wait = { until: text(out.wait.until) };
      break;
    case 'notify':
      out.notify = { ...out.notify, title: text(out.notify.title), ...(out.notify.summary !== undefined ? { summary: text(out.notify.summary) } : {}) };
      break;
    default:
      break;
  }
  return out as S;
}

function mapTargets(targets: Target, map: (value: StepValue) => StepValue): Target {
  if (targets.host !== undefined) {
    const host = map(targets.host);
    return Array.isArray(host) ? { hosts: host } : { host: String(host) };
  }
  if (targets.hosts !== undefined) {
    const hosts = map(targets.hosts);
    return { hosts: Array.isArray(hosts) ? hosts : String(hosts) };
  }
  return targets;
}

/** Rewrites every template of a step: for job steps after expansion, references to a library step's outputs. */
export function rewriteStepTemplates<S extends Step>(step: S, mapRef: (ref: TemplateRef & { kind: 'output' }) => TemplateRef): S {
  return mapStep(step, (value) => mapValue(value, {}, mapRef));
}

/**
 * The concrete steps of one library step of a job, ids prefixed `<step id>/`. The library's first steps need what
 * the library step needs; `{{ params.x }}` becomes the value the job gave (a template of the job, or a default);
 * `targets: inherit` becomes the library step's targets; a step without its own `on_failure` takes the library
 * step's. Returns the steps and the library's outputs as references to them, and the ids of the last steps (those
 * that nothing inside needs), which the job's steps that need the library step will need instead.
 */
export function expandLibraryStep(
  step: Extract<Step, { kind: 'library' }>,
  needs: readonly string[],
  library: StepLibrary,
): { steps: ConcreteStep[]; exits: string[]; outputs: Record<string, string> } {
  const prefix = `${step.id}/`;
  const given: Record<string, StepValue | undefined> = {};
  for (const p of library.parameters ?? []) {
    const value = step.params?.[p.name] ?? ('default' in p ? (p.default as StepValue | undefined) : undefined);
    if (value !== undefined) given[p.name] = value;
  }
  const innerIds = new Set(library.steps.map((s) => s.id));
  const mapRef = (ref: TemplateRef & { kind: 'output' }): TemplateRef => (innerIds.has(ref.step) ? { ...ref, step: prefix + ref.step } : ref);
  const key = libraryKey(library);
  const resolved = resolveNeeds(library.steps);
  const steps = resolved.map((inner) => {
    const inherit = 'targets' in inner && inner.targets === 'inherit';
    const own = (inherit ? { ...inner, targets: undefined } : inner) as Step;
    let concrete = mapStep(own, (value) => mapValue(value, given, mapRef)) as ConcreteStep;
    concrete = {
      ...concrete,
      id: prefix + inner.id,
      needs: inner.needs.length === 0 ? [...needs] : inner.needs.map((id) => prefix + id),
      origin: { step: step.id, library: key, inner: inner.id },
    };
    if (inherit) (concrete as { targets?: Target }).targets = step.targets;
    if (concrete.on_failure === undefined && step.on_failure !== undefined) concrete.on_failure = step.on_failure;
    if (concrete.kind === 'release_lock' && innerIds.has(concrete.release_lock)) concrete.release_lock = prefix + concrete.release_lock;
    if ('targets' in concrete && concrete.targets?.from_step !== undefined && innerIds.has(concrete.targets.from_step)) {
      concrete.targets = { from_step: prefix + concrete.targets.from_step };
    }
    return concrete;
  });
  const needed = new Set(resolved.flatMap((s) => s.needs));
  const exits = resolved.filter((s) => !needed.has(s.id)).map((s) => prefix + s.id);
  const outputs: Record<string, string> = {};
  for (const [name, template] of Object.entries(library.outputs ?? {})) outputs[name] = String(mapValue(template, given, mapRef));
  return { steps, exits, outputs };
}

/** A job with its library steps replaced by their steps, and the library steps' outputs by the references behind them. */
export interface ExpandedSteps {
  steps: ConcreteStep[];
  /** Library step id to its exposed outputs (name to the template of the inner output). */
  libraryOutputs: Map<string, Record<string, string>>;
  /** Library step id to the ids a step that needs it needs instead. */
  exits: Map<string, string[]>;
}

/** Expands the library steps of one list of steps (the job's, or a rollback branch's); unknown libraries are left out (validateJob reports them). */
export function expandSteps(steps: readonly Step[], libraries: ReadonlyMap<string, StepLibrary>): ExpandedSteps {
  const withNeeds = resolveNeeds(steps);
  const exits = new Map<string, string[]>();
  const libraryOutputs = new Map<string, Record<string, string>>();
  const out: ConcreteStep[] = [];
  for (const step of withNeeds) {
    const needs = step.needs.flatMap((id) => exits.get(id) ?? [id]);
    if (step.kind !== 'library') {
      out.push({ ...step, needs } as ConcreteStep);
      continue;
    }
    const library = libraries.get(step.library);
    if (!library) continue;
    const expanded = expandLibraryStep(step, needs, library);
    out.push(...expanded.steps);
    exits.set(step.id, expanded.exits);
    libraryOutputs.set(step.id, expanded.outputs);
  }
  // A step listed before the library step it needs is fixed up once every library is expanded.
  for (const s of out) s.needs = [...new Set(s.needs.flatMap((id) => exits.get(id) ?? [id]))];
  return { steps: out, libraryOutputs, exits };
}

/** How many jobs pin each library version: the usage count a library's page shows. */
export function libraryUsage(jobs: readonly Pick<Job, 'steps' | 'rollback'>[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    const pinned = new Set<string>();
    for (const step of [...job.steps, ...Object.values(job.rollback ?? {}).flat()]) if (step.kind === 'library') pinned.add(step.library);
    for (const key of pinned) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

