import { z } from 'zod';

// Browser-safe: the web form validates with the same schemas the API uses, so nothing here touches Node.

export const PARAMETER_TYPES = ['string', 'integer', 'number', 'boolean', 'enum', 'multiline', 'secret'] as const;
export const INTERPRETERS = ['bash', 'sh', 'python', 'node'] as const;
export type Interpreter = (typeof INTERPRETERS)[number];

const ParameterName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, { error: 'parameter names are lower_snake_case, starting with a letter' });

const ParameterBase = {
  name: ParameterName,
  title: z.string().min(1).optional(),
  description: z.string().optional(),
  required: z.boolean().default(false),
};

const StringLike = {
  ...ParameterBase,
  default: z.string().optional(),
  pattern: z
    .string()
    .refine((p) => compiles(p), { error: 'pattern is not a valid regular expression' })
    .optional(),
  min_length: z.number().int().min(0).optional(),
  max_length: z.number().int().min(1).optional(),
};

export const ParameterSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...StringLike, type: z.literal('string') }),
  z.strictObject({ ...StringLike, type: z.literal('multiline') }),
  z.strictObject({ ...ParameterBase, type: z.literal('secret'), min_length: z.number().int().min(0).optional() }),
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
]);
export type Parameter = z.infer<typeof ParameterSchema>;

/** A script path stays inside its repository: relative, no `..` segments, no absolute paths. */
export const ScriptPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..') && !p.includes('\0'), {
    error: 'script must be a path inside the repository (relative, without "..")',
  });

export const ManifestSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'id is lower-kebab-case: letters, digits and "-"' }),
    name: z.string().min(1),
    description: z.string().default(''),
    category: z.string().default('general'),
    tags: z.array(z.string()).default([]),
    version: z.union([z.string(), z.number()]).transform(String).optional(),
    script: ScriptPath,
    interpreter: z.enum(INTERPRETERS),
    timeout: z.number().int().min(1).max(86_400).default(300),
    retries: z.number().int().min(0).max(10).default(0),
    retry_delay: z.number().int().min(0).max(3_600).default(5),
    parameters: z.array(ParameterSchema).default([]),
  })
  .superRefine((m, ctx) => {
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
export type Manifest = z.infer<typeof ManifestSchema>;

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export type ParamValue = string | number | boolean;
export type ParamValues = Record<string, ParamValue>;

function fieldSchema(p: Parameter): z.ZodType<ParamValue | undefined> {
  const label = p.title ?? p.name;
  let schema: z.ZodType<ParamValue>;
  switch (p.type) {
    case 'string':
    case 'multiline': {
      let s = z.string({ error: `${label} must be text` });
      if (p.min_length !== undefined) s = s.min(p.min_length, { error: `${label} needs at least ${p.min_length} characters` });
      if (p.max_length !== undefined) s = s.max(p.max_length, { error: `${label} allows at most ${p.max_length} characters` });
      if (p.pattern !== undefined) s = s.regex(new RegExp(p.pattern), { error: `${label} must match ${p.pattern}` });
      schema = p.type === 'string' ? s.refine((v) => !v.includes('\n'), { error: `${label} must be a single line` }) : s;
      break;
    }
    case 'secret': {
      let s = z.string({ error: `${label} must be text` });
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
  }
  if (p.required) return schema as z.ZodType<ParamValue | undefined>;
  return schema.optional();
}

/** The zod schema of a manifest's parameters: the one validation used by the API, the workflow input and the web form. */
export function paramsSchema(parameters: readonly Parameter[]) {
  const shape: Record<string, z.ZodType<ParamValue | undefined>> = {};
  for (const p of parameters) shape[p.name] = fieldSchema(p);
  return z.strictObject(shape);
}

export type ParamsResult = { ok: true; values: ParamValues } | { ok: false; fields: Record<string, string[]> };

/** Applies defaults, then validates. Field errors are keyed by parameter name, one message each. */
export function validateParams(parameters: readonly Parameter[], input: Record<string, unknown>): ParamsResult {
  const withDefaults: Record<string, unknown> = {};
  for (const p of parameters) {
    const given = input[p.name];
    const empty = given === undefined || given === null || (given === '' && p.type !== 'string' && p.type !== 'multiline');
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
export function coerceFormValues(parameters: readonly Parameter[], form: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of parameters) {
    const raw = form[p.name];
    if (p.type === 'boolean') {
      out[p.name] = raw === 'true' || raw === 'on';
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

export const SECRET_MASK = '••••••';

/** What may be stored, logged or returned: every secret parameter replaced by a mask. */
export function redactParams(parameters: readonly Parameter[], values: ParamValues): ParamValues {
  const out: ParamValues = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = parameters.find((p) => p.name === k)?.type === 'secret' ? SECRET_MASK : v;
  }
  return out;
}
