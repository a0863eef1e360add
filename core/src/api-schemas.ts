import { z } from 'zod';
import { RUN_STATUSES } from './db/schema.ts';
import type { Manifest, Parameter, ParamValues, SuccessCriteria } from './manifest.ts';

// Browser-safe: request schemas shared by the API (zValidator) and the web app.

const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'use lower-case letters, digits and "-"' });

export const StartRunBodySchema = z
  .strictObject({
    scriptId: Slug.optional(),
    actionId: Slug.optional(),
    /** A script's commit SHA (or prefix) to run instead of the current version: a rollback. */
    version: z.string().regex(/^[0-9a-f]{4,64}$/, { error: 'version is a commit SHA or a prefix of one' }).optional(),
    hostId: Slug,
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((b) => (b.scriptId === undefined) !== (b.actionId === undefined), { error: 'give scriptId or actionId, not both', path: ['scriptId'] })
  .refine((b) => b.version === undefined || b.scriptId !== undefined, { error: 'version applies to scripts only', path: ['version'] });
export type StartRunBody = z.infer<typeof StartRunBodySchema>;

export const RUN_SORTS = ['created_at', 'duration_ms'] as const;

export const RunListQuerySchema = z.strictObject({
  script: z.string().optional(),
  host: z.string().optional(),
  status: z.enum(RUN_STATUSES).optional(),
  initiator: z.string().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  sort: z.enum(RUN_SORTS).default('created_at'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});
export type RunListQuery = z.infer<typeof RunListQuerySchema>;

export const AgentRegisterBodySchema = z.strictObject({
  registrationSecret: z.string().min(1),
  hostName: Slug,
  tags: z.array(z.string().min(1).max(64)).max(50).optional(),
  os: z.string().max(200).optional(),
  agentVersion: z.string().max(50).optional(),
});

export const LogBatchBodySchema = z.strictObject({
  attempt: z.number().int().min(1),
  lines: z
    .array(
      z.strictObject({
        seq: z.number().int().min(0),
        stream: z.enum(['stdout', 'stderr', 'system']),
        ts: z.iso.datetime({ offset: true }),
        line: z.string().max(65_536),
      }),
    )
    .min(1)
    .max(5_000),
});
export type LogBatchBody = z.infer<typeof LogBatchBodySchema>;

export interface ScriptView {
  kind: 'script' | 'action';
  id: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  version: string;
  interpreter: string | null;
  commandTemplate: string | null;
  runner: Manifest['runner'];
  timeout: number;
  retries: number;
  requiresLock: boolean;
  hostTags: string[];
  successCriteria: SuccessCriteria;
  parameters: Parameter[];
  repository: { id: string; name: string } | null;
  file: string | null;
  usageCount: number;
  runnable: boolean;
  notRunnableReason: string | null;
  updatedAt: string;
}

export interface RunView {
  id: string;
  source: 'script' | 'action';
  scriptId: string;
  scriptName: string;
  scriptVersion: string;
  hostId: string;
  status: (typeof RUN_STATUSES)[number];
  initiator: { id: string; name: string };
  params: ParamValues;
  exitCode: number | null;
  error: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  workflowId: string;
  temporalUrl: string;
}

export interface LogLineView {
  attempt: number;
  seq: number;
  stream: 'stdout' | 'stderr' | 'system';
  ts: string;
  line: string;
}

const RepositoryId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'use lower-case letters, digits and "-"' });
const GitUrl = z
  .string()
  .min(1)
  .refine((u) => /^(https?|git|ssh|file):\/\//.test(u) || /^[\w.-]+@[\w.-]+:/.test(u) || u.startsWith('/'), {
    error: 'a git URL: https://…, ssh://…, git@host:path, git://…, file:///… or an absolute path',
  });
export const REPOSITORY_PROVIDERS = ['github', 'gitlab', 'bitbucket', 'generic'] as const;

export const RepositoryBodySchema = z.strictObject({
  id: RepositoryId,
  name: z.string().min(1).max(100),
  url: GitUrl,
  branch: z.string().min(1).max(200).regex(/^[^\s~^:?*[\\]+$/, { error: 'not a valid branch name' }).default('main'),
  path: z
    .string()
    .max(300)
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { error: 'a sub-directory of the repository, without ".."' })
    .default(''),
  provider: z.enum(REPOSITORY_PROVIDERS).default('generic'),
  credentialId: z.uuid().nullable().optional(),
  webhookSecret: z.string().min(8, { error: 'use at least 8 characters' }).max(200).nullable().optional(),
  syncIntervalSeconds: z.number().int().min(60, { error: 'at least 60 seconds' }).max(86_400).default(300),
});
export type RepositoryBody = z.infer<typeof RepositoryBodySchema>;
export const RepositoryPatchSchema = RepositoryBodySchema.omit({ id: true }).partial();

export const CredentialBodySchema = z.strictObject({
  name: z.string().min(1).max(100),
  kind: z.enum(['https_token', 'ssh_key']),
  username: z.string().min(1).max(200).optional(),
  secret: z.string().min(1).max(20_000),
});
