import { z } from 'zod';
import { PLACEHOLDER } from '../placeholder.ts';
import { errorMessage } from './operation-result.ts';
import { type SqlEngine, sqlPlaceholders, sqlStatements } from './sql-statements.ts';

/** An operation that cannot run as written: a bad check, duration or query, or a placeholder without a value. */
export class OperationDefinitionError extends Error {
  override readonly name = 'OperationDefinitionError';
}

export type DatabaseEngine = SqlEngine;
export type Duration = `${number}${'s' | 'm' | 'h' | 'd'}`;
export type FileCheck =
  | 'exists'
  | 'readable'
  | 'writable'
  | `size_gt_mb:${number}`
  | `size_lt_mb:${number}`
  | `modified_within:${Duration}`
  | `contains:${string}`;

export type ParsedFileCheck =
  | { kind: 'exists' | 'readable' | 'writable' }
  | { kind: 'size_gt_mb' | 'size_lt_mb'; mb: number }
  | { kind: 'modified_within'; ms: number; text: string }
  | { kind: 'contains'; needle: string };

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `15m`, `24h`, `7d` to milliseconds; anything else (`5 min`, `1.5h`, `0s`, `10`) is an error. */
export function parseDuration(text: string): number {
  const match = /^([1-9][0-9]{0,8})([smhd])$/.exec(text);
  if (!match) {
    throw new OperationDefinitionError(
      `"${text}" is not a duration: write a whole number above 0 and one unit, s, m, h or d (30s, 15m, 24h, 7d)`,
    );
  }
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

const MEGABYTES = /^[0-9]{1,9}(\.[0-9]{1,6})?$/;

export function parseFileCheck(check: string): ParsedFileCheck {
  if (check === 'exists' || check === 'readable' || check === 'writable') return { kind: check };
  const colon = check.indexOf(':');
  const kind = colon === -1 ? check : check.slice(0, colon);
  const arg = colon === -1 ? '' : check.slice(colon + 1);
  switch (kind) {
    case 'size_gt_mb':
    case 'size_lt_mb':
      if (!MEGABYTES.test(arg)) throw new OperationDefinitionError(`${kind} needs a size in MB, like ${kind}:10 or ${kind}:0.5; got "${arg}"`);
      return { kind, mb: Number(arg) };
    case 'modified_within':
      return { kind, ms: parseDuration(arg), text: arg };
    case 'contains':
      if (arg === '') throw new OperationDefinitionError('contains needs the text to look for, like contains:ERROR');
      return { kind, needle: arg };
    default:
      throw new OperationDefinitionError(
        `unknown file check "${check}": use exists, readable, writable, size_gt_mb:N, size_lt_mb:N, modified_within:<30s|15m|24h|7d> or contains:<text>`,
      );
  }
}

/** A copy of `text` with every `{{param}}` replaced by `sample`, to validate a field before its values are known. */
function withSamples(text: string, sample: string): string {
  return text.replace(new RegExp(PLACEHOLDER.source, 'g'), sample);
}

function hasPlaceholder(text: string): boolean {
  return new RegExp(PLACEHOLDER.source).test(text);
}

const NoNul = z.string().refine((s) => !s.includes('\0'), { error: 'text cannot contain NUL characters' });
const Seconds = z.number().positive().max(86_400);
const ParameterName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { error: 'a parameter name: lower_snake_case, starting with a letter' });

const ShellCommandSchema = z.strictObject({
  type: z.literal('shell_command'),
  command: z
    .array(NoNul)
    .min(1, { error: 'command is an argv list: the program, then its arguments' })
    .refine((argv) => argv[0] === undefined || argv[0].trim() !== '', { error: 'the first word of command is the program to run' })
    .refine((argv) => argv[0] === undefined || !hasPlaceholder(argv[0]), { error: 'the program itself cannot be a parameter' }),
  timeout_seconds: Seconds.optional(),
  working_directory: NoNul.min(1).optional(),
  environment: z
    .record(z.string(), NoNul)
    .superRefine((env, ctx) => {
      for (const name of Object.keys(env)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'environment names are letters, digits and _' });
      }
    })
    .optional(),
});

const CHECK_KINDS_WITH_ARGUMENT = ['size_gt_mb', 'size_lt_mb', 'modified_within', 'contains'];

// A check with a placeholder is validated in full by renderOperation, once its value is known.
const FileCheckSchema = z
  .string()
  .superRefine((check, ctx) => {
    if (hasPlaceholder(check)) {
      const kind = check.slice(0, Math.max(0, check.indexOf(':')));
      if (!CHECK_KINDS_WITH_ARGUMENT.includes(kind)) ctx.addIssue({ code: 'custom', message: `a parameter can only fill the argument of ${CHECK_KINDS_WITH_ARGUMENT.map((k) => `${k}:`).join(', ')}` });
      return;
    }
    try {
      parseFileCheck(check);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: errorMessage(err) });
    }
  })
  .transform((check) => check as FileCheck);

const FileValidationSchema = z.strictObject({
  type: z.literal('file_validation'),
  path: NoNul.min(1),
  checks: z.array(FileCheckSchema).min(1, { error: 'list at least one check: exists, readable, writable, size_gt_mb:N, …' }),
});

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const protocol = new URL(text).protocol;
  return protocol === 'http:' || protocol === 'https:';
}

function hasCredentials(url: string): boolean {
  const { username, password } = new URL(url);
  return username !== '' || password !== '';
}

const HttpCheckSchema = z
  .strictObject({
    url: z
      .string()
      .refine((u) => isHttpUrl(withSamples(u, 'x')), { error: 'url must be an http:// or https:// URL' })
      .refine((u) => !isHttpUrl(withSamples(u, 'x')) || !hasCredentials(withSamples(u, 'x')), { error: 'url cannot carry a user name or password' }),
    method: z.enum(['GET', 'HEAD']).optional(),
    expect_status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    expect_body_contains: z.string().min(1).optional(),
    timeout_seconds: z.number().positive().max(300).optional(),
  })
  .refine((h) => !(h.method === 'HEAD' && h.expect_body_contains !== undefined), {
    error: 'a HEAD response has no body: use GET with expect_body_contains',
    path: ['expect_body_contains'],
  });

const SYSTEMD_UNIT = /^[A-Za-z0-9:_.\\@-]{1,255}$/;
const WINDOWS_SERVICE_NAME = /^[^\\/\0\s"][^\\/\0"]{0,255}$/;

const ServiceHealthSchema = z
  .strictObject({
    type: z.literal('service_health'),
    http: HttpCheckSchema.optional(),
    systemd: z
      .strictObject({
        unit: z.string().refine((u) => SYSTEMD_UNIT.test(withSamples(u, 'x')) && !u.startsWith('-'), { error: 'unit is a systemd unit name, like nginx.service' }),
        expect: z.enum(['active', 'inactive', 'failed']),
      })
      .optional(),
    windows_service: z
      .strictObject({
        name: z.string().refine((n) => WINDOWS_SERVICE_NAME.test(withSamples(n, 'x')), { error: 'name is a Windows service name (not its display name), like W32Time' }),
        expect: z.enum(['Running', 'Stopped']),
      })
      .optional(),
  })
  .refine((s) => [s.http, s.systemd, s.windows_service].filter((x) => x !== undefined).length === 1, {
    error: 'service_health checks exactly one of http, systemd or windows_service',
  });

const DatabaseQuerySchema = z
  .strictObject({
    type: z.literal('database_query'),
    engine: z.enum(['postgresql', 'mysql']),
    connection: z.strictObject({
      host: NoNul.min(1),
      port: z.number().int().min(1).max(65_535).optional(),
      database: NoNul.min(1),
      user: NoNul.min(1),
      password_param: ParameterName.optional(),
    }),
    query: NoNul.min(1),
    /** Values for the query's `$1` (PostgreSQL) or `?` (MySQL) markers; renderOperation fills it from `{{param}}` placeholders. */
    bind: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
    expect: z
      .strictObject({ min: z.number().optional(), max: z.number().optional(), equals: z.union([z.string(), z.number()]).optional() })
      .refine((e) => e.min === undefined || e.max === undefined || e.min <= e.max, { error: 'expect.min is above expect.max' })
      .optional(),
    timeout_seconds: z.number().positive().max(3_600).optional(),
  })
  .superRefine((op, ctx) => {
    try {
      const count = sqlStatements(op.query, op.engine).length;
      if (count !== 1) ctx.addIssue({ code: 'custom', path: ['query'], message: `query must be exactly one statement; found ${count}` });
      const quoted = sqlPlaceholders(op.query, op.engine, 'quoted');
      if (quoted.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['query'],
          message: `write ${quoted.join(', ')} bare, not inside quotes: a parameter is sent to the database as a bound value, never pasted into the SQL`,
        });
      }
      if (op.bind !== undefined && sqlPlaceholders(op.query, op.engine, 'code').length > 0) {
        ctx.addIssue({ code: 'custom', path: ['bind'], message: 'use either {{param}} placeholders or bind with $1/? markers, not both' });
      }
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['query'], message: errorMessage(err) });
    }
  });

export const OperationSchema = z.discriminatedUnion('type', [ShellCommandSchema, FileValidationSchema, ServiceHealthSchema, DatabaseQuerySchema]);
export type Operation = z.infer<typeof OperationSchema>;
export type ShellCommandOperation = Extract<Operation, { type: 'shell_command' }>;
export type FileValidationOperation = Extract<Operation, { type: 'file_validation' }>;
export type ServiceHealthOperation = Extract<Operation, { type: 'service_health' }>;
export type DatabaseQueryOperation = Extract<Operation, { type: 'database_query' }>;
