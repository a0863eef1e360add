import { z } from 'zod';
import { PLACEHOLDER } from './placeholder.ts';
import { SECRET_MASK } from './secret-mask.ts';
import { OperationSchema } from './operations/operation-schema.ts';
import { linearPattern } from './linear-pattern.ts';
import { isVaultReference, VaultReferenceSchema } from './vault-reference.ts';
import { artifactGlob, GLOB_OUTSIDE } from './artifact-glob.ts';
import { OutputDeclarationsSchema } from './jobs/output-declaration.ts';

// Browser-safe: the web form validates with the same schemas the API uses, so nothing here touches Node.

export const PARAMETER_TYPES = ['string', 'integer', 'number', 'boolean', 'enum', 'multiline', 'secret', 'host', 'host_list', 'date'] as const;
export const INTERPRETERS = ['bash', 'sh', 'python', 'powershell', 'node'] as const;
export const RUNNERS = ['agent', 'ssh', 'winrm', 'docker'] as const;
export type Runner = (typeof RUNNERS)[number];
export type Interpreter = (typeof INTERPRETERS)[number];

const ParameterName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, { error: 'parameter names are lower_snake_case, starting with a letter' });

/** `2026-02-30` has the shape of a date but is none: the calendar decides, not the regex. */
export function isRealDate(text: string): boolean {
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(text);
}

const DateShape = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'dates are written YYYY-MM-DD' });
const IsoDate = DateShape.refine(isRealDate, { error: (issue) => `${String(issue.input)} is not a real date (YYYY-MM-DD: month 01-12, a day that month has)` });

const ParameterBase = {
  name: ParameterName,
  title: z.string().min(1).optional(),
  description: z.string().optional(),
  required: z.boolean().default(false),
};

/** A secret's default is a vault: reference or nothing: a value would sit in clear in the repository. */
const CheckedSecretDefault = z.string().superRefine((text, ctx) => {
  if (!isVaultReference(text)) {
    ctx.addIssue({ code: 'custom', message: 'a secret parameter\'s default can only be a Vault reference, like vault:secret/app/db#password: a value would sit in clear in the repository' });
    return;
  }
  const parsed = VaultReferenceSchema.safeParse(text);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
});

const CheckedPattern = z.string().superRefine((p, ctx) => {
  const compiled = linearPattern(p);
  if (!compiled.ok) ctx.addIssue({ code: 'custom', message: compiled.reason });
});

/**
 * `checked`: patterns compile in the linear engine, dates are real and artifact globs are ones Drydock matches. Manifests read back from Postgres were
 * checked when stored, by the rules of that day: they parse unchecked, so one that today's rules refuse stays
 * listed, and its run form says why a value cannot be checked.
 */
function parameterSchema(checked: boolean) {
  const Pattern = checked ? CheckedPattern : z.string();
  const Day = checked ? IsoDate : DateShape;
  const StringLike = {
    ...ParameterBase,
    default: z.string().optional(),
    pattern: Pattern.optional(),
    min_length: z.number().int().min(0).optional(),
    max_length: z.number().int().min(1).optional(),
  };
  return z.discriminatedUnion('type', [
    z.strictObject({ ...StringLike, type: z.literal('string') }),
    z.strictObject({ ...StringLike, type: z.literal('multiline') }),
    z.strictObject({ ...ParameterBase, type: z.literal('secret'), default: (checked ? CheckedSecretDefault : z.string()).optional(), min_length: z.number().int().min(0).optional() }),
    z.strictObject({
      ...ParameterBase,
      type: z.literal('integer'),
      default: z.number().int().optional(),
      min: z.number().int().optional(),
      max: z.number().int().optional(),
    }),
    z.strictObject({
      ...ParameterBase,
      type: z.literal('number'),
      default: z.number().optional(),
      min: z.number().optional(),
      max: z.number().optional(),
    }),
    z.strictObject({ ...ParameterBase, type: z.literal('boolean'), default: z.boolean().optional() }),
    z.strictObject({
      ...ParameterBase,
      type: z.literal('enum'),
      options: z.array(z.string().min(1)).min(1),
      default: z.string().optional(),
    }),
    z.strictObject({ ...ParameterBase, type: z.literal('host'), default: z.string().optional() }),
    z.strictObject({
      ...ParameterBase,
      type: z.literal('host_list'),
      default: z.array(z.string()).optional(),
      min: z.number().int().min(0).optional(),
      max: z.number().int().min(1).optional(),
    }),
    z.strictObject({
      ...ParameterBase,
      type: z.literal('date'),
      default: Day.optional(),
      min: Day.optional(),
      max: Day.optional(),
    }),
  ]);
}

export const ParameterSchema = parameterSchema(true);
export type Parameter = z.infer<typeof ParameterSchema>;

function insideRepository(p: string): boolean {
  return !p.startsWith('/') && !/^[a-zA-Z]:/.test(p) && !p.split(/[\\/]/).includes('..') && !p.includes('\0');
}

/** A script path stays inside its repository: relative, no `..` segments, no absolute paths. */
export const ScriptPath = z.string().min(1).refine(insideRepository, {
  error: 'script must be a path inside the repository (relative, without "..")',
});

const ArtifactGlobShape = z.string().min(1).refine(insideRepository, {
  error: 'artifact globs are relative to the run directory, without ".."',
});
const CheckedArtifactGlob = ArtifactGlobShape.superRefine((glob, ctx) => {
  const compiled = artifactGlob(glob);
  if (!compiled.ok && compiled.reason !== GLOB_OUTSIDE) ctx.addIssue({ code: 'custom', message: compiled.reason });
});

export const SuccessCriteriaSchema = z.strictObject({
  exit_codes: z.array(z.number().int().min(0).max(255)).min(1).default([0]),
  output_contains: z.array(z.string().min(1)).default([]),
  output_not_contains: z.array(z.string().min(1)).default([]),
  max_execution_time: z.number().int().min(1).optional(),
});
export type SuccessCriteria = z.infer<typeof SuccessCriteriaSchema>;

/** A package or service name as its manager spells it: never a pattern, an option or a path, as it reaches dpkg-query, rpm, systemctl or Get-Service. */
export const INVENTORY_NAME = /^[A-Za-z0-9][A-Za-z0-9.+_@:-]{0,127}$/;
/** How many packages, and how many services, one manifest may name: each is a lookup on the host after every attempt. */
export const MAX_INVENTORY_NAMES = 50;

function inventoryNames(what: 'package' | 'service') {
  return z
    .array(z.string().regex(INVENTORY_NAME, { error: `${what} names are letters, digits and . + _ - @ : (starting with a letter or digit, at most 128)` }))
    .max(MAX_INVENTORY_NAMES, { error: `at most ${MAX_INVENTORY_NAMES} ${what}s` })
    .superRefine((names, ctx) => {
      names.forEach((name, i) => {
        if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${what} "${name}" is named twice` });
      });
    })
    .default([]);
}

/** `checked`: as parameterSchema's. */
function captureSchema(checked: boolean) {
  return z
    .strictObject({
      environment_snapshot: z.boolean().optional(),
      artifacts: z.array(checked ? CheckedArtifactGlob : ArtifactGlobShape).default([]),
      /** Packages whose installed version the snapshot records. */
      packages: inventoryNames('package'),
      /** Services whose state the snapshot records. */
      services: inventoryNames('service'),
    })
    .superRefine((c, ctx) => {
      if (c.environment_snapshot === false && (c.packages.length > 0 || c.services.length > 0)) {
        ctx.addIssue({ code: 'custom', path: ['environment_snapshot'], message: 'packages and services are recorded in the environment snapshot; remove environment_snapshot: false' });
      }
    })
    // Naming packages or services asks for the snapshot they are recorded in.
    .transform((c) => ({ environment_snapshot: c.environment_snapshot ?? (c.packages.length > 0 || c.services.length > 0), artifacts: c.artifacts, packages: c.packages, services: c.services }));
}

export const CaptureSchema = captureSchema(true);

/** runner docker: what the throwaway container gets. Nothing is shared with it unless asked. */
export const ContainerSchema = z.strictObject({
  /** The engine's default network; without it the container has loopback only. */
  network: z.boolean().default(false),
  memory_mb: z.number().int().min(6).max(1_048_576).optional(),
  cpus: z.number().positive().max(1_024).optional(),
  pids: z.number().int().min(1).max(1_000_000).optional(),
  /** The image mounted read-only; the run directory and /tmp stay writable. */
  read_only: z.boolean().default(false),
});
export type ContainerOptions = z.infer<typeof ContainerSchema>;

export { PLACEHOLDER } from './placeholder.ts';

/**
 * Splits a command template into argv words *before* any value is known, honouring '…' and "…" quoting, so a
 * value can never add, split or join words: it lands inside the word its placeholder was written in.
 */
export function templateWords(template: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (const ch of template) {
    if (quote) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started || word) words.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} quote in command template`);
  if (started || word) words.push(word);
  return words;
}

/** The argv a command template renders to: values replace placeholders inside words, never split into more. */
export function renderCommand(template: string, values: ParamValues): string[] {
  return templateWords(template).map((word) =>
    word.replace(PLACEHOLDER, (_m, name: string) => {
      const v = values[name];
      return v === undefined ? '' : Array.isArray(v) ? v.join(',') : String(v);
    }),
  );
}

function manifestSchema(checked: boolean) {
  return z
    .strictObject({
      id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'id is lower-kebab-case: letters, digits and "-"' }),
      name: z.string().min(1),
      description: z.string().default(''),
      category: z.string().default('general'),
      tags: z.array(z.string()).default([]),
      version: z.union([z.string(), z.number()]).transform(String).optional(),
      script: ScriptPath.optional(),
      interpreter: z.enum(INTERPRETERS).optional(),
      command_template: z.string().min(1).optional(),
      /** A structured host operation (shell_command, file_validation, service_health, database_query). */
      operation: OperationSchema.optional(),
      runner: z.enum(RUNNERS).default('agent'),
      runner_image: z.string().min(1).optional(),
      container: ContainerSchema.optional(),
      timeout: z.number().int().min(1).max(86_400).default(300),
      retries: z.number().int().min(0).max(10).default(0),
      retry_delay: z.number().int().min(0).max(3_600).default(5),
      requires_lock: z.boolean().default(false),
      success_criteria: SuccessCriteriaSchema.prefault({}),
      capture: captureSchema(checked).prefault({}),
      host_tags: z.array(z.string().min(1)).default([]),
      parameters: z.array(parameterSchema(checked)).default([]),
      /** What the script writes to its DRYDOCK_OUTPUT file, typed, for jobs that pass it forward (docs/jobs.md). */
      outputs: OutputDeclarationsSchema.optional(),
    })
    .superRefine((m, ctx) => {
      const kinds = [m.script !== undefined, m.command_template !== undefined, m.operation !== undefined].filter(Boolean).length;
      if (kinds > 1) {
        ctx.addIssue({ code: 'custom', path: ['script'], message: 'give one of script (with interpreter), command_template or operation, not several' });
      } else if (kinds === 0) {
        ctx.addIssue({ code: 'custom', path: ['script'], message: 'say what runs: script (with interpreter), command_template or operation' });
      }
      if (m.operation !== undefined) {
        const text = JSON.stringify(m.operation);
        for (const match of text.matchAll(PLACEHOLDER)) {
          const param = m.parameters.find((p) => p.name === match[1]);
          if (!param) ctx.addIssue({ code: 'custom', path: ['operation'], message: `{{${match[1]}}} is not a parameter of this manifest` });
          else if (param.type === 'secret') {
            ctx.addIssue({ code: 'custom', path: ['operation'], message: `secret ${param.name} cannot be spliced into an operation; name it in password_param instead` });
          }
        }
        if (m.operation.type === 'database_query' && m.operation.connection.password_param !== undefined) {
          const name = m.operation.connection.password_param;
          if (m.parameters.find((p) => p.name === name)?.type !== 'secret') {
            ctx.addIssue({ code: 'custom', path: ['operation', 'connection', 'password_param'], message: `password_param must name a secret parameter of this manifest (${name} is not one)` });
          }
        }
      }
      if (m.operation !== undefined && (m.outputs?.length ?? 0) > 0) {
        ctx.addIssue({ code: 'custom', path: ['outputs'], message: 'a host operation writes no DRYDOCK_OUTPUT file: outputs apply to scripts and command templates' });
      }
      if (m.script !== undefined && m.interpreter === undefined) {
        ctx.addIssue({ code: 'custom', path: ['interpreter'], message: `interpreter is required with script: one of ${INTERPRETERS.join(', ')}` });
      }
      if (m.runner === 'docker' && m.runner_image === undefined) {
        ctx.addIssue({ code: 'custom', path: ['runner_image'], message: 'runner docker needs runner_image' });
      }
      if (m.runner !== 'docker' && (m.runner_image !== undefined || m.container !== undefined)) {
        ctx.addIssue({ code: 'custom', path: [m.container !== undefined ? 'container' : 'runner_image'], message: 'runner_image and container apply to runner docker only' });
      }
      if (m.runner === 'docker' && m.operation !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['operation'], message: 'host operations check a host; they do not run in a container (use runner agent, ssh or winrm)' });
      }
      if (m.command_template !== undefined) {
        let words: string[] = [];
        try {
          words = templateWords(m.command_template);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['command_template'], message: (err as Error).message });
        }
        if (words.length > 0 && PLACEHOLDER.test(words[0]!)) {
          ctx.addIssue({ code: 'custom', path: ['command_template'], message: 'the command itself cannot be a parameter' });
        }
        PLACEHOLDER.lastIndex = 0;
        for (const match of m.command_template.matchAll(PLACEHOLDER)) {
          const param = m.parameters.find((p) => p.name === match[1]);
          if (!param) {
            ctx.addIssue({ code: 'custom', path: ['command_template'], message: `{{${match[1]}}} is not a parameter of this manifest` });
          } else if (param.type === 'secret') {
            ctx.addIssue({
              code: 'custom',
              path: ['command_template'],
              message: `secret ${param.name} cannot appear in a command line (ps shows it); the command reads it from DRYDOCK_PARAM_${param.name.toUpperCase()}`,
            });
          }
        }
      }
      const seen = new Set<string>();
      m.parameters.forEach((p, i) => {
        if (seen.has(p.name)) {
          ctx.addIssue({ code: 'custom', path: ['parameters', i, 'name'], message: `duplicate parameter "${p.name}"` });
        }
        seen.add(p.name);
        if (p.type === 'enum' && p.default !== undefined && !p.options.includes(p.default)) {
          ctx.addIssue({ code: 'custom', path: ['parameters', i, 'default'], message: 'default is not one of the options' });
        }
      });
    });
}

export const ManifestSchema = manifestSchema(true);
/** A manifest as Postgres keeps it: see parameterSchema for why it is read back unchecked. */
export const StoredManifestSchema = manifestSchema(false);
export type Manifest = z.infer<typeof ManifestSchema>;

export type ParamValue = string | number | boolean | string[];
export type ParamValues = Record<string, ParamValue>;

const HOST_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Linux refuses a single argument or variable longer than 128 KiB (MAX_ARG_STRLEN) with E2BIG at spawn; a value
 * reaches the script as `DRYDOCK_PARAM_<NAME>=value` and `--name=value`, so it keeps 1 KiB below that for the name.
 */
export const MAX_PARAM_VALUE_BYTES = 127 * 1024;
/**
 * All of a run's parameters as the script receives them, as variables and arguments together. Linux allows
 * about 2 MiB of argv and environment (a quarter of the stack limit, at least 128 KiB); half of it stays for the
 * host's own variables and the interpreter's arguments.
 */
export const MAX_PARAMS_TOTAL_BYTES = 1024 * 1024;
/** All of a run's parameters as JSON, which is how the workflow input carries them: well within Temporal's 2 MB payload limit. */
export const MAX_PARAMS_PAYLOAD_BYTES = 1536 * 1024;

/** UTF-8 length without allocating: what the kernel counts. */
function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function valueText(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/** What a parameter adds to the script's argv and environment: its variable, and its `--name=value` unless secret. */
function argumentBytes(p: Parameter, value: unknown): number {
  const bytes = utf8Bytes(valueText(value));
  const variable = `DRYDOCK_PARAM_${p.name}=`.length + bytes + 1;
  return p.type === 'secret' ? variable : variable + `--${p.name}=`.length + bytes + 1;
}

/** Text a script receives: no NUL (no argument or variable can hold one), and no more than one argument can carry. */
function textValue(label: string) {
  return z
    .string({ error: `${label} must be text` })
    .refine((v) => !v.includes('\0'), { error: `${label} cannot contain a NUL character (\\0): no argument or variable can carry one` })
    .refine((v) => v.length <= MAX_PARAM_VALUE_BYTES && utf8Bytes(v) <= MAX_PARAM_VALUE_BYTES, {
      error: (issue) =>
        `${label} is ${kib(utf8Bytes(String(issue.input)))}; a value can be at most ${kib(MAX_PARAM_VALUE_BYTES)}, as one argument on Linux is limited to 128 KiB: pass a file or a reference instead`,
    });
}

/** Text that the red asterisk promises: a required value that is empty or only spaces is missing, whoever sends it. */
function text(p: Parameter, label: string) {
  const s = textValue(label);
  return p.required ? s.refine((v) => v.trim() !== '', { error: `${label} is required`, abort: true }) : s;
}

function fieldSchema(p: Parameter): z.ZodType<ParamValue | undefined> {
  const label = p.title ?? p.name;
  let schema: z.ZodType<ParamValue>;
  switch (p.type) {
    case 'string':
    case 'multiline': {
      let s = text(p, label);
      if (p.min_length !== undefined) s = s.min(p.min_length, { error: `${label} needs at least ${p.min_length} characters` });
      if (p.max_length !== undefined) s = s.max(p.max_length, { error: `${label} allows at most ${p.max_length} characters` });
      const pattern = p.pattern === undefined ? undefined : linearPattern(p.pattern);
      // A pattern that no longer compiles (stored before the linear engine) refuses every value rather than none.
      if (pattern !== undefined) s = s.refine((v) => pattern.ok && pattern.test(v), { error: pattern.ok ? `${label} must match ${p.pattern}` : `${label} cannot be checked: ${pattern.reason}` });
      schema = p.type === 'string' ? s.refine((v) => !v.includes('\n'), { error: `${label} must be a single line` }) : s;
      break;
    }
    case 'secret': {
      let s = text(p, label);
      if (p.min_length !== undefined) s = s.min(p.min_length, { error: `${label} needs at least ${p.min_length} characters` });
      schema = s;
      break;
    }
    case 'integer':
    case 'number': {
      let n = z.number({ error: `${label} must be a number` });
      if (p.type === 'integer') n = n.int({ error: `${label} must be a whole number` });
      if (p.min !== undefined) n = n.min(p.min, { error: `${label} must be at least ${p.min}` });
      if (p.max !== undefined) n = n.max(p.max, { error: `${label} must be at most ${p.max}` });
      schema = n;
      break;
    }
    case 'boolean':
      schema = z.boolean({ error: `${label} must be true or false` });
      break;
    case 'enum':
      schema = z.enum(p.options as [string, ...string[]], { error: `${label} must be one of: ${p.options.join(', ')}` });
      break;
    case 'host':
      schema = z.string({ error: `${label} must be a host id` }).regex(HOST_ID, { error: `${label} must be a host id` });
      break;
    case 'host_list': {
      let list = z.array(z.string().regex(HOST_ID, { error: `${label} must list host ids` }), { error: `${label} must be a list of hosts` });
      if (p.min !== undefined) list = list.min(p.min, { error: `${label} needs at least ${p.min} host${p.min === 1 ? '' : 's'}` });
      if (p.max !== undefined) list = list.max(p.max, { error: `${label} allows at most ${p.max} hosts` });
      schema = list.refine((l) => new Set(l).size === l.length, { error: `${label} lists a host twice` });
      break;
    }
    case 'date': {
      let d = z
        .string({ error: `${label} must be a date` })
        .regex(/^\d{4}-\d{2}-\d{2}$/, { error: `${label} must be a date (YYYY-MM-DD)` })
        .refine(isRealDate, { error: `${label} is not a real date` });
      if (p.min !== undefined) d = d.refine((v) => v >= p.min!, { error: `${label} must be on or after ${p.min}` });
      if (p.max !== undefined) d = d.refine((v) => v <= p.max!, { error: `${label} must be on or before ${p.max}` });
      schema = d;
      break;
    }
  }
  if (p.required) return schema as z.ZodType<ParamValue | undefined>;
  return schema.optional();
}

/** The zod schema of a manifest's parameters: the one validation used by the API, the workflow input and the web form. */
export function paramsSchema(parameters: readonly Parameter[]) {
  const shape: Record<string, z.ZodType<ParamValue | undefined>> = {};
  for (const p of parameters) shape[p.name] = fieldSchema(p);
  return z.strictObject(shape).superRefine((values, ctx) => {
    const given = parameters.filter((p) => values[p.name] !== undefined);
    // Each is said on the largest value: that is the one to shorten.
    const refuse = (measure: (p: Parameter) => number, limit: number, what: string) => {
      const sizes = given.map((p) => ({ p, bytes: measure(p) }));
      const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
      if (total <= limit || sizes.length === 0) return false;
      const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      ctx.addIssue({ code: 'custom', path: [largest.p.name], message: `${largest.p.title ?? largest.p.name} is the largest of parameters that together take ${kib(total)} ${what}` });
      return true;
    };
    if (refuse((p) => argumentBytes(p, values[p.name]), MAX_PARAMS_TOTAL_BYTES, `as the script's arguments and variables; they can take at most ${kib(MAX_PARAMS_TOTAL_BYTES)} (Linux refuses more at start)`)) return;
    // Control characters grow sixfold in JSON (\u0001): the run's workflow input must stay within Temporal's 2 MB payload limit.
    refuse((p) => utf8Bytes(JSON.stringify(values[p.name])), MAX_PARAMS_PAYLOAD_BYTES, `in the run's workflow input; they can take at most ${kib(MAX_PARAMS_PAYLOAD_BYTES)} there (write control characters some other way)`);
  });
}

export type ParamsResult = { ok: true; values: ParamValues } | { ok: false; fields: Record<string, string[]> };

/** Applies defaults, then validates. Field errors are keyed by parameter name, one message each. */
export function validateParams(parameters: readonly Parameter[], input: Record<string, unknown>): ParamsResult {
  const withDefaults: Record<string, unknown> = {};
  for (const p of parameters) {
    const given = input[p.name];
    const empty =
      given === undefined ||
      given === null ||
      (given === '' && p.type !== 'string' && p.type !== 'multiline') ||
      (Array.isArray(given) && given.length === 0);
    if (!empty) withDefaults[p.name] = given;
    else if ('default' in p && p.default !== undefined) withDefaults[p.name] = p.default;
  }
  for (const key of Object.keys(input)) if (!parameters.some((p) => p.name === key)) withDefaults[key] = input[key];

  const result = paramsSchema(parameters).safeParse(withDefaults);
  if (result.success) {
    const values: ParamValues = {};
    for (const [k, v] of Object.entries(result.data)) if (v !== undefined) values[k] = v;
    return { ok: true, values };
  }
  const fields: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : '_';
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown parameter${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`
        : issue.code === 'invalid_type' && withDefaults[key] === undefined
          ? `${parameters.find((p) => p.name === key)?.title ?? key} is required`
          : issue.message;
    fields[key] ??= [message];
  }
  return { ok: false, fields };
}

/** Form fields arrive as strings; turn them into the types the manifest declares before validating. */
export function coerceFormValues(parameters: readonly Parameter[], form: Record<string, string | string[] | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of parameters) {
    const given = form[p.name];
    if (p.type === 'host_list') {
      // A multi-select sends several values; a text field sends one comma-separated value.
      const list = (Array.isArray(given) ? given : (given ?? '').split(',')).map((h) => h.trim()).filter(Boolean);
      if (list.length > 0) out[p.name] = list;
      continue;
    }
    const raw = Array.isArray(given) ? given[0] : given;
    if (p.type === 'boolean') {
      out[p.name] = raw === 'true' || raw === 'on';
      continue;
    }
    // A required text field left empty stays empty, so it is refused as the API refuses it, not filled with a default.
    const requiredText = p.required && (p.type === 'string' || p.type === 'multiline' || p.type === 'secret');
    if (raw === '' && requiredText) {
      out[p.name] = raw;
      continue;
    }
    if (raw === undefined || raw === '') continue;
    if (p.type === 'integer' || p.type === 'number') {
      const n = Number(raw);
      out[p.name] = raw.trim() === '' || Number.isNaN(n) ? raw : n;
    } else {
      out[p.name] = raw;
    }
  }
  return out;
}

export { SECRET_MASK } from './secret-mask.ts';

/** What may be stored, logged or returned: every secret parameter replaced by a mask. */
export function redactParams(parameters: readonly Parameter[], values: ParamValues): ParamValues {
  const out: ParamValues = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = parameters.find((p) => p.name === k)?.type === 'secret' ? SECRET_MASK : v;
  }
  return out;
}
