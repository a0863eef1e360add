import { z } from 'zod';
import { ManifestSchema, ParameterSchema, RUNNERS, SuccessCriteriaSchema } from '../manifest.ts';

// The catalog: /api/v1/scripts and /api/v1/actions.

const IsoTime = z.iso.datetime({ offset: true });
const RepositoryRefSchema = z.object({ id: z.string(), name: z.string() });

export const ScriptListQuerySchema = z.strictObject({
  q: z
    .string()
    .optional()
    .meta({ description: 'Words separated by spaces; an entry matches when every word occurs (case-insensitive) in its id, name, description, category or tags' }),
  tag: z.string().optional().meta({ description: 'Entries whose `tags` include this exact tag' }),
  category: z.string().optional().meta({ description: 'Entries whose `category` is exactly this' }),
});

export type ScriptListQuery = z.infer<typeof ScriptListQuerySchema>;

export const ScriptVersionQuerySchema = z.strictObject({
  version: z
    .string()
    .regex(/^[0-9a-f]{4,64}$|^\d+$/, { error: 'version is a commit SHA (or its prefix)' })
    .optional()
    .meta({ description: 'A commit SHA or a prefix of one (4 to 64 hex characters); a shorter prefix picks the newest version that starts with it' }),
});

export const ScriptViewSchema = z
  .object({
    kind: z.enum(['script', 'action']).meta({ description: '`script` (synced from a repository) or `action` (an action template)' }),
    id: z.string(),
    name: z.string(),
    description: z.string(),
    category: z.string(),
    tags: z.array(z.string()),
    version: z.string().meta({ description: 'A commit SHA (git repository), a 12-character content hash (directory), or the revision number as text (action)' }),
    interpreter: z.string().nullable().meta({ description: 'Set for a script; `null` for a command template and a host operation' }),
    commandTemplate: z.string().nullable().meta({ description: 'Set for a command template' }),
    runner: z.enum(RUNNERS).meta({ description: '`agent` runs on any host; `ssh`, `winrm` and `docker` only on hosts of that transport' }),
    timeout: z.number().meta({ description: 'Seconds' }),
    retries: z.number().int(),
    requiresLock: z.boolean(),
    hostTags: z.array(z.string()),
    successCriteria: SuccessCriteriaSchema.meta({ description: "The manifest's `success_criteria` with defaults filled in (snake_case keys, as in the manifest)" }),
    parameters: z.array(ParameterSchema).meta({ description: "The manifest's parameters, with `required` filled in" }),
    repository: RepositoryRefSchema.nullable().meta({ description: 'Where the manifest came from; `null` for an action' }),
    file: z.string().nullable(),
    usageCount: z.number().int().meta({ description: 'Runs of this entry, all time' }),
    runnable: z.boolean().meta({ description: '`false` when the manifest asks for something this Drydock does not have; every manifest it parses can run today' }),
    notRunnableReason: z.string().nullable(),
    updatedAt: IsoTime.meta({ description: 'When the catalog row last changed (script) or the action was last saved' }),
  })
  .meta({ id: 'ScriptView', description: 'One catalog entry: a script or an action.' });
export type ScriptView = z.infer<typeof ScriptViewSchema>;

export const ScriptDetailSchema = ScriptViewSchema.extend({
  current: z.boolean().meta({ description: "Whether this is the catalog's current version" }),
  scriptContent: z.string().nullable().meta({ description: "The script's text; `null` for a command template" }),
  parametersJsonSchema: z.record(z.string(), z.unknown()).meta({
    description:
      'The schema `params` are validated with, as JSON Schema (input side). Checks JSON Schema cannot express ("a date is a real date", "a host is registered") are missing from it; the API still applies them',
  }),
}).meta({ id: 'ScriptDetail', description: 'A script at one version, with its text and its parameters as JSON Schema.' });
export type ScriptDetail = z.infer<typeof ScriptDetailSchema>;

export const ScriptVersionViewSchema = z
  .object({
    version: z.string(),
    author: z.string(),
    committedAt: IsoTime,
    message: z.string(),
    changes: z.array(z.string()).meta({ description: 'What changed against the version before it (`timeout: 30 → 45`, `script changed`)' }),
    current: z.boolean(),
  })
  .meta({ id: 'ScriptVersionView' });
export type ScriptVersionView = z.infer<typeof ScriptVersionViewSchema>;

export const ScriptVersionListSchema = z.object({ versions: z.array(ScriptVersionViewSchema).meta({ description: 'Newest commit first' }) }).meta({ id: 'ScriptVersionList' });

export const CatalogProblemSchema = z
  .object({
    repository: RepositoryRefSchema,
    file: z.string(),
    line: z.number().int().optional(),
    message: z.string(),
  })
  .meta({ id: 'CatalogProblem', description: "A manifest that did not load, from its repository's last successful sync." });
export type CatalogProblem = z.infer<typeof CatalogProblemSchema>;

export const CatalogViewSchema = z
  .object({
    scripts: z.array(ScriptViewSchema).meta({ description: 'The scripts of every repository, then the action templates, each by id' }),
    problems: z.array(CatalogProblemSchema).meta({ description: 'Every repository’s manifest problems, whatever the filters' }),
    facets: z
      .object({ tags: z.array(z.string()), categories: z.array(z.string()) })
      .meta({ description: 'Every tag and category in the whole catalog, whatever the filters, sorted' }),
  })
  .meta({ id: 'CatalogView' });
export type CatalogView = z.infer<typeof CatalogViewSchema>;

export const ActionViewSchema = ScriptViewSchema.extend({
  revision: z.number().int().meta({ description: 'Goes up by one with every `PUT`' }),
  createdBy: z.string(),
  manifest: z.record(z.string(), z.unknown()).meta({ description: "The stored manifest with every default filled in; the only place an action's `operation` is returned" }),
}).meta({ id: 'ActionView', description: 'An action template: a catalog entry plus its revision and manifest.' });
export type ActionView = z.infer<typeof ActionViewSchema>;

export const ActionListSchema = z.object({ actions: z.array(ActionViewSchema) }).meta({ id: 'ActionList' });

export const ActionValidationSchema = z
  .object({
    valid: z.boolean(),
    problems: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .meta({ description: 'Schema problems, and `host_tags` that no registered host carries all of' }),
  })
  .meta({ id: 'ActionValidation' });
export type ActionValidation = z.infer<typeof ActionValidationSchema>;

/** An action template is a manifest with a command template or a host operation instead of a script file. */
export const ActionManifestSchema = ManifestSchema.refine((m) => m.script === undefined, {
  error: 'an action runs a command_template or an operation; scripts come from repositories',
  path: ['script'],
}).meta({ id: 'ActionManifest', description: "A manifest in the manifest's own snake_case, with `command_template` or `operation` and no `script`." });
