import { z } from 'zod';

// Browser- and workflow-safe. A manifest's `outputs:` (what a script writes to its DRYDOCK_OUTPUT file), so a
// job that passes `{{ steps.check.outputs.version }}` forward is type-checked when it is saved.

/**
 * The parameter types an output can have: all but `secret`. Outputs travel in the job's workflow state and
 * history; a script that makes a secret stores it (in Vault) and outputs the reference instead.
 */
export const OUTPUT_TYPES = ['string', 'multiline', 'integer', 'number', 'boolean', 'enum', 'date', 'host', 'host_list'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

/** More than this many outputs in one manifest is a data dump, not a contract. */
export const MAX_DECLARED_OUTPUTS = 50;

export const OutputName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { error: 'output names are lower_snake_case, starting with a letter' });

const Base = { name: OutputName, description: z.string().max(1000).optional() };

export const OutputDeclarationSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ ...Base, type: z.enum(['string', 'multiline', 'integer', 'number', 'boolean', 'date', 'host', 'host_list']) }),
    z.strictObject({ ...Base, type: z.literal('enum'), options: z.array(z.string().min(1)).min(1) }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `an output's type is one of ${OUTPUT_TYPES.join(', ')} (a secret cannot be an output: output a Vault reference instead)` : undefined) },
);
export type OutputDeclaration = z.infer<typeof OutputDeclarationSchema>;

export const OutputDeclarationsSchema = z
  .array(OutputDeclarationSchema)
  .max(MAX_DECLARED_OUTPUTS, { error: `at most ${MAX_DECLARED_OUTPUTS} outputs` })
  .superRefine((outputs, ctx) => {
    outputs.forEach((o, i) => {
      if (outputs.findIndex((other) => other.name === o.name) !== i) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `output "${o.name}" is declared twice` });
    });
  });
