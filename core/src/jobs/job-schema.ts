import { z } from 'zod';
import { ENVIRONMENTS } from '../api/hosts.ts';
import { CountOrPercent, MAX_BULK_HOSTS } from '../bulk.ts';
import { TEAM_ROLES } from '../group-map.ts';
import { LOCK_TYPES, MAX_LOCK_TTL_SECONDS } from '../host-lock.ts';
import { ParameterSchema } from '../manifest.ts';
import { OperationSchema, parseDuration } from '../operations/operation-schema.ts';
import { MAX_TEMPLATE_LENGTH, parseTemplate } from './job-template.ts';
import { OutputName } from './output-declaration.ts';

// Workflow- and browser-safe: the job definition as the API, the builder, the git catalog and the job workflow
// read it. The semantics (defaults, the DAG, what runs when) are in docs/jobs.md and execution-plan.ts.

/** Steps in one job, its rollback branches included; a runbook longer than this is several jobs. */
export const MAX_JOB_STEPS = 200;
/** The longest a step may run; an approval or a wait has its own limit. */
export const MAX_STEP_TIMEOUT_SECONDS = 7 * 86_400;
export const MAX_APPROVAL_TIMEOUT_SECONDS = 30 * 86_400;
export const MAX_WAIT_SECONDS = 30 * 86_400;

export const STEP_KINDS = ['script', 'action', 'operation', 'bulk', 'take_lock', 'release_lock', 'approval', 'wait', 'notify', 'job', 'library'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** As channels and notifications rank events. */
export const NOTIFY_SEVERITIES = ['info', 'success', 'warning', 'critical'] as const;

const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'use lower-case letters, digits and "-"' });
export const StepId = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, { error: 'step ids are lower-case letters, digits, "-" and "_", starting with a letter' });
export const BranchName = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, { error: 'rollback branch names are lower-case letters, digits, "-" and "_", starting with a letter' });
const ParamKey = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { error: 'parameter names are lower_snake_case, starting with a letter' });
/** `drain-node@3`: a step library pinned to one version. */
export const LibraryRef = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}@[1-9][0-9]{0,8}$/, { error: 'pin a step library as <id>@<version>, like drain-node@3' });

/** A string that may hold `{{ … }}` expressions; a syntax error is reported on the field, with its position. */
export const TemplateText = z
  .string()
  .max(MAX_TEMPLATE_LENGTH)
  .superRefine((text, ctx) => {
    const parsed = parseTemplate(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

/** A parameter value in a step: a literal, or a template rendered when the step starts. */
export const StepValueSchema = z.union([TemplateText, z.number(), z.boolean(), z.array(TemplateText).max(MAX_BULK_HOSTS)], {
  error: 'a value is text (which may hold {{ … }}), a number, true or false, or a list of texts',
});
export const StepParamsSchema = z.record(ParamKey, StepValueSchema);

/** Hosts chosen by their labels, as bulk executions choose them: every host that matches all the given ones. */
export const JobSelectorSchema = z
  .strictObject({
    environment: z.enum(ENVIRONMENTS).optional(),
    group: z.string().min(1).max(100).optional(),
    tags: z.array(z.string().min(1).max(64)).max(20).optional(),
  })
  .refine((s) => s.environment !== undefined || s.group !== undefined || (s.tags?.length ?? 0) > 0, { error: 'select hosts by environment, group or tags' });
export type JobSelector = z.infer<typeof JobSelectorSchema>;

/** Where a step runs: one host, a list, a selector, or the hosts an earlier step ran on. */
export const TargetSchema = z
  .strictObject({
    host: TemplateText.pipe(z.string().min(1)).optional(),
    hosts: z.union([z.array(TemplateText.pipe(z.string().min(1))).min(1).max(MAX_BULK_HOSTS), TemplateText.pipe(z.string().min(1))]).optional(),
    selector: JobSelectorSchema.optional(),
    from_step: StepId.optional(),
  })
  .refine((t) => [t.host, t.hosts, t.selector, t.from_step].filter((x) => x !== undefined).length === 1, {
    error: 'targets are one of host, hosts, selector or from_step',
  });
export type Target = z.infer<typeof TargetSchema>;

export const OnFailureSchema = z.union([z.enum(['stop', 'continue']), z.strictObject({ rollback: BranchName })], {
  error: 'on_failure is stop, continue, or { rollback: <branch name> }',
});
export type OnFailure = z.infer<typeof OnFailureSchema>;

const StepBase = {
  id: StepId,
  name: z.string().min(1).max(200).optional(),
  /** Steps that must succeed first. Absent: the step above in the list (none for the first); `[]`: none. */
  needs: z.array(StepId).max(50).optional(),
  timeout: z.number().int().min(1).max(MAX_STEP_TIMEOUT_SECONDS).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  retry_delay: z.number().int().min(0).max(3_600).optional(),
  /** Absent: stop. */
  on_failure: OnFailureSchema.optional(),
};

const Version = z.string().regex(/^[0-9a-f]{4,64}$/, { error: 'version is a commit SHA or a prefix of one' });

const Duration = z.string().superRefine((text, ctx) => {
  try {
    if (parseDuration(text) > MAX_WAIT_SECONDS * 1000) ctx.addIssue({ code: 'custom', message: `a wait is at most ${MAX_WAIT_SECONDS / 86_400} days` });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const Instant = TemplateText.refine((t) => t.includes('{{') || z.iso.datetime({ offset: true }).safeParse(t).success, {
  error: 'until is an instant with its offset, like 2026-03-01T18:00:00+01:00, or a template',
});

/** The steps' schemas, with the targets schema given: a job's, or a step library's (which also takes `inherit`). */
function stepOptions<T extends z.ZodType>(targets: T) {
  const Targets = targets.optional();
  return [
    z.strictObject({ ...StepBase, kind: z.literal('script'), script: Slug, version: Version.optional(), params: StepParamsSchema.optional(), targets: Targets }),
    z.strictObject({ ...StepBase, kind: z.literal('action'), action: Slug, params: StepParamsSchema.optional(), targets: Targets }),
    z.strictObject({
      ...StepBase,
      kind: z.literal('operation'),
      /** `{{name}}` placeholders in the operation take their values from `params`, as a manifest's do from its parameters. */
      operation: OperationSchema,
      params: StepParamsSchema.optional(),
      targets: Targets,
    }),
    z.strictObject({
      ...StepBase,
      kind: z.literal('bulk'),
      bulk: z
        .strictObject({
          script: Slug.optional(),
          action: Slug.optional(),
          version: Version.optional(),
          max_parallel: z.number().int().min(1).max(1_000).optional(),
          batch_size: CountOrPercent.optional(),
          canary: CountOrPercent.optional(),
          failure_threshold: CountOrPercent.optional(),
          take_locks: z.boolean().optional(),
        })
        .refine((b) => (b.script === undefined) !== (b.action === undefined), { error: 'a bulk step runs a script or an action: give one of them' }),
      params: StepParamsSchema.optional(),
      targets: Targets,
    }),
    z.strictObject({
      ...StepBase,
      kind: z.literal('take_lock'),
      take_lock: z.strictObject({
        type: z.enum(LOCK_TYPES).optional(),
        reason: TemplateText.pipe(z.string().trim().min(1, { error: 'say why: the locks page shows it' }).max(500)),
        /** Seconds the lease lasts unless released or extended; default an hour. */
        ttl: z.number().int().min(10).max(MAX_LOCK_TTL_SECONDS).optional(),
      }),
      targets: Targets,
    }),
    z.strictObject({ ...StepBase, kind: z.literal('release_lock'), /** The take_lock step whose leases end. */ release_lock: StepId }),
    z.strictObject({
      ...StepBase,
      kind: z.literal('approval'),
      approval: z.strictObject({
        message: TemplateText.pipe(z.string().min(1).max(4_000)),
        approvers: z
          .strictObject({ roles: z.array(z.enum(TEAM_ROLES)).min(1).optional(), users: z.array(z.email()).min(1).max(50).optional() })
          .refine((a) => a.roles !== undefined || a.users !== undefined, { error: 'name the roles or the users who may approve' })
          .optional(),
        /** Seconds to wait for an answer; no answer in time is a rejection. Default a day. */
        timeout: z.number().int().min(60).max(MAX_APPROVAL_TIMEOUT_SECONDS).optional(),
      }),
    }),
    z.strictObject({
      ...StepBase,
      kind: z.literal('wait'),
      wait: z.union([z.strictObject({ duration: Duration }), z.strictObject({ until: Instant })], {
        error: 'wait for a duration (duration: 15m) or until an instant (until: 2026-03-01T18:00:00Z)',
      }),
    }),
    z.strictObject({
      ...StepBase,
      kind: z.literal('notify'),
      notify: z.strictObject({
        /** Notification channel names. */
        channels: z.array(z.string().min(1).max(100)).min(1).max(20),
        severity: z.enum(NOTIFY_SEVERITIES).optional(),
        title: TemplateText.pipe(z.string().trim().min(1).max(500)),
        summary: TemplateText.pipe(z.string().max(20_000)).optional(),
      }),
    }),
    z.strictObject({ ...StepBase, kind: z.literal('job'), job: Slug, version: z.number().int().min(1).optional(), params: StepParamsSchema.optional() }),
    z.strictObject({ ...StepBase, kind: z.literal('library'), library: LibraryRef, params: StepParamsSchema.optional(), targets: Targets }),
  ] as const;
}

/** `kind` may be left out: it is the one of the kind keys (script, action, …) that the step has. */
function withKind(raw: unknown, ctx: z.core.$RefinementCtx): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || 'kind' in raw) return raw;
  const present = STEP_KINDS.filter((k) => k in raw);
  if (present.length === 1) return { ...raw, kind: present[0] };
  ctx.addIssue({
    code: 'custom',
    message: present.length === 0 ? `say what the step does with one of ${STEP_KINDS.join(', ')}` : `a step does one thing: it has ${present.join(' and ')}; split it into steps`,
  });
  return z.NEVER;
}

export function makeStepSchema<T extends z.ZodType>(targets: T) {
  return z.preprocess(withKind, z.discriminatedUnion('kind', stepOptions(targets), { error: `kind is one of ${STEP_KINDS.join(', ')}` }));
}

export const StepSchema = makeStepSchema(TargetSchema);
export type Step = z.infer<typeof StepSchema>;
export type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;

export const JobParametersSchema = z
  .array(ParameterSchema)
  .max(100)
  .superRefine((parameters, ctx) => {
    parameters.forEach((p, i) => {
      if (parameters.findIndex((other) => other.name === p.name) !== i) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate parameter "${p.name}"` });
      if (p.type === 'enum' && p.default !== undefined && !p.options.includes(p.default)) ctx.addIssue({ code: 'custom', path: [i, 'default'], message: 'default is not one of the options' });
    });
  });

/** Outputs a job (or a step library) hands to whoever runs it: each a reference to one of its steps' outputs. */
export const ExposedOutputsSchema = z.record(OutputName, TemplateText);

export const JobSchema = z.strictObject({
  kind: z.literal('job', { error: 'a job document says kind: job' }).default('job'),
  id: Slug,
  name: z.string().min(1).max(200),
  description: z.string().max(10_000).optional(),
  /** The job's revision; stored jobs count up, and a run records the one it ran. */
  version: z.number().int().min(1).optional(),
  tags: z.array(z.string().min(1).max(64)).max(50).optional(),
  parameters: JobParametersSchema.optional(),
  outputs: ExposedOutputsSchema.optional(),
  steps: z.array(StepSchema).min(1, { error: 'a job has at least one step' }).max(MAX_JOB_STEPS),
  /** Named branches of steps that undo what the job did, run when a step fails with `on_failure: { rollback }` or the job is cancelled. */
  rollback: z.record(BranchName, z.array(StepSchema).min(1).max(MAX_JOB_STEPS)).optional(),
  on_cancel: z.strictObject({ rollback: BranchName }).optional(),
});
export type Job = z.infer<typeof JobSchema>;
export type JobInput = z.input<typeof JobSchema>;
