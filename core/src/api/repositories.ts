import { z } from 'zod';
import { Slug } from './ids.ts';

// Scripts repositories, their credentials and push webhooks: /api/v1/repositories, /credentials, /webhooks.

const IsoTime = z.iso.datetime({ offset: true });

const GitUrl = z
  .string()
  .min(1)
  .refine((u) => /^(https?|git|ssh|file):\/\//.test(u) || /^[\w.-]+@[\w.-]+:/.test(u) || u.startsWith('/'), {
    error: 'a git URL: https://…, ssh://…, git@host:path, git://…, file:///… or an absolute path',
  });
export const REPOSITORY_PROVIDERS = ['github', 'gitlab', 'bitbucket', 'generic'] as const;
export type Provider = (typeof REPOSITORY_PROVIDERS)[number];

const RepositoryFields = {
  name: z.string().min(1).max(100),
  url: GitUrl.meta({ description: '`https://…`, `http://…`, `ssh://…`, `user@host:path`, `git://…`, `file:///…`, or an absolute path' }),
  branch: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\s~^:?*[\\]+$/, { error: 'not a valid branch name' }),
  path: z
    .string()
    .max(300)
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { error: 'a sub-directory of the repository, without ".."' })
    .meta({ description: 'The sub-directory holding `manifests/`; relative, without `..`' }),
  provider: z.enum(REPOSITORY_PROVIDERS).meta({ description: 'How webhooks are verified; `generic` accepts whichever of the three schemes verifies' }),
  credentialId: z.uuid().nullable().meta({ description: 'A stored credential, or `null` for none' }),
  webhookSecret: z
    .string()
    .min(8, { error: 'use at least 8 characters' })
    .max(200)
    .nullable()
    .meta({ description: 'Proves pushes come from the git host; needs `DRYDOCK_MASTER_KEY`; `null` removes it' }),
  syncIntervalSeconds: z.number().int().min(60, { error: 'at least 60 seconds' }).max(86_400),
};

export const RepositoryBodySchema = z
  .strictObject({
    id: Slug.meta({ description: 'Part of the webhook URL; cannot change later' }),
    name: RepositoryFields.name,
    url: RepositoryFields.url,
    branch: RepositoryFields.branch.default('main'),
    path: RepositoryFields.path.default(''),
    provider: RepositoryFields.provider.default('generic'),
    credentialId: RepositoryFields.credentialId.optional(),
    webhookSecret: RepositoryFields.webhookSecret.optional(),
    syncIntervalSeconds: RepositoryFields.syncIntervalSeconds.default(300),
  })
  .meta({ id: 'RepositoryBody' });
export type RepositoryBody = z.infer<typeof RepositoryBodySchema>;
/** Only what is sent changes: no defaults here, unlike creation. */
export const RepositoryPatchSchema = z
  .strictObject(RepositoryFields)
  .partial()
  .meta({ id: 'RepositoryPatch', description: 'The fields of a new repository except `id`; only those sent change.' });
export type RepositoryPatch = z.infer<typeof RepositoryPatchSchema>;

export const CredentialBodySchema = z
  .strictObject({
    name: z.string().min(1).max(100).meta({ description: 'Unique in the team' }),
    kind: z
      .enum(['https_token', 'ssh_key', 'password'])
      .meta({ description: '`https_token` (repositories), `ssh_key` (repositories and SSH hosts) or `password` (SSH and WinRM hosts)' }),
    username: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'For `https_token`, the user name sent with the token (default `x-access-token`); hosts have their own `username`' }),
    secret: z
      .string()
      .min(1)
      .max(20_000)
      .meta({ description: 'The token, an unencrypted OpenSSH (or, for hosts, PEM) private key, or the password; never returned' }),
  })
  .meta({ id: 'CredentialBody' });

export const CREDENTIAL_KINDS = CredentialBodySchema.shape.kind.options;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

const CredentialRefSchema = z.object({ id: z.string(), name: z.string() });

export const RepositoryViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['git', 'directory']).meta({ description: '`directory` for the Local catalog (`DRYDOCK_CATALOG_DIR`); the API creates only `git` repositories' }),
    url: z.string(),
    branch: z.string(),
    path: z.string(),
    provider: z.enum(REPOSITORY_PROVIDERS),
    credential: CredentialRefSchema.nullable(),
    hasWebhookSecret: z.boolean().meta({ description: 'Whether a webhook secret is set; the secret itself is never returned' }),
    webhookUrl: z.string().meta({ description: '`<DRYDOCK_PUBLIC_URL>/api/v1/webhooks/<id>`' }),
    syncIntervalSeconds: z.number().int(),
    status: z.enum(['new', 'syncing', 'ok', 'failed']).meta({ description: '`new`: never synced' }),
    head: z.string().nullable().meta({ description: 'The commit of the last good sync; for a directory, a hash of its scripts’ content hashes' }),
    lastSyncAt: IsoTime.nullable().meta({ description: 'The last sync, good or failed' }),
    lastSyncError: z.string().nullable(),
    scriptCount: z.number().int(),
    problemCount: z.number().int(),
  })
  .meta({ id: 'RepositoryView', description: 'A repository scripts come from, and its sync state.' });
export type RepositoryView = z.infer<typeof RepositoryViewSchema>;

export const RepositorySyncViewSchema = z
  .object({
    id: z.string(),
    reason: z.string().meta({ description: '`repository added`, `settings changed`, `sync now by <email>`, `github push to main`, …' }),
    status: z.enum(['running', 'ok', 'failed']),
    head: z.string().nullable(),
    added: z.number().int(),
    updated: z.number().int(),
    removed: z.number().int(),
    problems: z.number().int(),
    error: z.string().nullable(),
    startedAt: IsoTime,
    finishedAt: IsoTime.nullable(),
    workflowId: z.string().meta({ description: 'The workflow that ran the sync' }),
    temporalUrl: z.url(),
  })
  .meta({ id: 'RepositorySyncView' });
export type RepositorySyncView = z.infer<typeof RepositorySyncViewSchema>;

export const RepositoryDetailSchema = RepositoryViewSchema.extend({
  syncs: z.array(RepositorySyncViewSchema).meta({ description: 'The last 50, newest first' }),
  problems: z
    .array(z.object({ file: z.string(), line: z.number().int().optional(), message: z.string() }))
    .meta({ description: 'Its current manifest problems' }),
}).meta({ id: 'RepositoryDetail' });
export type RepositoryDetail = z.infer<typeof RepositoryDetailSchema>;

export const RepositoryListSchema = z.object({ repositories: z.array(RepositoryViewSchema).meta({ description: 'By name' }) }).meta({ id: 'RepositoryList' });

export const SyncRequestedSchema = z
  .object({ workflowId: z.string().meta({ description: '`sync/<id>`; requests close together become one sync' }) })
  .meta({ id: 'SyncRequested' });

export const CredentialViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(CREDENTIAL_KINDS),
    username: z.string().nullable(),
    createdAt: IsoTime,
  })
  .meta({ id: 'CredentialView', description: 'A stored credential, without its secret.' });
export type CredentialView = z.infer<typeof CredentialViewSchema>;

export const CredentialListSchema = z.object({ credentials: z.array(CredentialViewSchema).meta({ description: 'By name' }) }).meta({ id: 'CredentialList' });

export const WebhookAnswerSchema = z
  .object({
    sync: z.enum(['requested', 'ignored']),
    workflowId: z.string().optional().meta({ description: 'When a sync was requested: `sync/<id>`' }),
    reason: z
      .string()
      .optional()
      .meta({ description: 'When ignored: `push to feature, not main`, `ping is not a push to a branch`' }),
  })
  .meta({ id: 'WebhookAnswer' });
