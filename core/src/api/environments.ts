import { z } from 'zod';

// The environments resource: /api/v1/environments. Each team has its own; hosts belong to one of them.

/** The environments a new team starts with, and their colours. */
export const DEFAULT_ENVIRONMENTS = [
  { name: 'dev', colour: '#16a34a' },
  { name: 'staging', colour: '#d97706' },
  { name: 'uat', colour: '#2563eb' },
  { name: 'preprod', colour: '#9333ea' },
] as const;

/** 24 hours: a request nobody answers by then ends the run as expired. */
export const DEFAULT_APPROVAL_EXPIRY_SECONDS = 86_400;

export const EnvironmentName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, { error: 'an environment name: 1 to 40 lower-case letters, digits, "-" and "_", starting with a letter or digit' })
  .meta({ description: 'Lower-case letters, digits, `-` and `_`; unique in the team' });

export const Colour = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, { error: 'a colour as #rrggbb, such as #d97706' })
  .transform((c) => c.toLowerCase())
  .meta({ description: '`#rrggbb`' });

const EnvironmentFields = {
  colour: Colour,
  description: z.string().max(500).meta({ description: 'Up to 500 characters' }),
  requiresApproval: z.boolean().meta({ description: 'Runs and bulk executions on its hosts wait until another operator of the team approves them' }),
  approvalExpirySeconds: z
    .number()
    .int()
    .min(5, { error: 'at least 5 seconds' })
    .max(30 * 86_400, { error: 'at most 30 days (2592000 seconds)' })
    .meta({ description: 'How long a request waits for a decision before the run ends as `expired`; 5 s to 30 days' }),
};

export const NewEnvironmentBodySchema = z
  .strictObject({
    name: EnvironmentName,
    colour: EnvironmentFields.colour.default('#64748b'),
    description: EnvironmentFields.description.default(''),
    requiresApproval: EnvironmentFields.requiresApproval.default(false),
    approvalExpirySeconds: EnvironmentFields.approvalExpirySeconds.default(DEFAULT_APPROVAL_EXPIRY_SECONDS),
  })
  .meta({ id: 'NewEnvironmentBody', description: 'A new environment of the caller\'s team.' });
export type NewEnvironmentBody = z.infer<typeof NewEnvironmentBodySchema>;

export const EnvironmentPatchSchema = z
  .strictObject(EnvironmentFields)
  .partial()
  .meta({ id: 'EnvironmentPatch', description: 'Only the fields sent change; the name does not (hosts and runs carry it).' });
export type EnvironmentPatch = z.infer<typeof EnvironmentPatchSchema>;

export const EnvironmentViewSchema = z
  .object({
    name: z.string(),
    colour: z.string().meta({ description: '`#rrggbb`' }),
    description: z.string(),
    requiresApproval: z.boolean(),
    approvalExpirySeconds: z.number().int(),
    hosts: z.number().int().meta({ description: 'Hosts of the team in this environment' }),
  })
  .meta({ id: 'EnvironmentView', description: 'One environment of the team.' });
export type EnvironmentView = z.infer<typeof EnvironmentViewSchema>;

export const EnvironmentListSchema = z.object({ environments: z.array(EnvironmentViewSchema).meta({ description: 'By name' }) }).meta({ id: 'EnvironmentList' });

/** A decision on a request for approval: an optional comment goes on the run and into the audit trail. */
export const ApprovalBodySchema = z
  .strictObject({ comment: z.string().max(1_000).optional().meta({ description: 'Why; up to 1000 characters' }) })
  .meta({ id: 'ApprovalBody' });
export type ApprovalBody = z.infer<typeof ApprovalBodySchema>;

const IsoTime = z.iso.datetime({ offset: true });

export const ApprovalViewSchema = z
  .object({
    environment: z.string().meta({ description: 'The protected environment that asked for approval' }),
    expiresAt: IsoTime.meta({ description: 'Without a decision by then, it ends as `expired`' }),
    decision: z.enum(['approved', 'rejected', 'expired']).nullable().meta({ description: '`null` while it waits' }),
    decidedBy: z.object({ id: z.string(), name: z.string() }).nullable(),
    decidedAt: IsoTime.nullable(),
    comment: z.string().nullable(),
  })
  .meta({ id: 'ApprovalView', description: 'A request for approval and its decision; `null` on a run no protected environment held back.' });
export type ApprovalView = z.infer<typeof ApprovalViewSchema>;
