import { z } from 'zod';
import { TeamRoleSchema } from '../group-map.ts';
import { Slug } from './ids.ts';

// Teams (/api/v1/teams) and the per-team agent registration tokens (/api/v1/agents/registration-tokens).

const IsoTime = z.iso.datetime({ offset: true });
const TeamName = z.string().trim().min(1, { error: 'give the team a name' }).max(200, { error: 'use at most 200 characters' });
const Description = z.string().trim().max(2000, { error: 'use at most 2000 characters' });

export const NewTeamBodySchema = z
  .strictObject({
    id: Slug.meta({ description: 'The team id: lower-case letters, digits and `-`; it never changes' }),
    name: TeamName,
    description: Description.optional(),
  })
  .meta({ id: 'NewTeamBody', description: 'A new team; the caller becomes its admin.' });
export type NewTeamBody = z.infer<typeof NewTeamBodySchema>;

export const TeamPatchSchema = z
  .strictObject({ name: TeamName.optional(), description: Description.optional() })
  .refine((b) => b.name !== undefined || b.description !== undefined, { error: 'give a name, a description or both' })
  .meta({ id: 'TeamPatch' });
export type TeamPatch = z.infer<typeof TeamPatchSchema>;

export const TeamViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    role: TeamRoleSchema.meta({ description: "The caller's role in the team" }),
    current: z.boolean().meta({ description: 'The team the caller acts in now' }),
    createdAt: IsoTime,
  })
  .meta({ id: 'TeamView' });
export type TeamView = z.infer<typeof TeamViewSchema>;

export const TeamListSchema = z.object({ teams: z.array(TeamViewSchema) }).meta({ id: 'TeamList', description: "The caller's teams, by name." });

export const NewRegistrationTokenBodySchema = z
  .strictObject({
    name: z.string().trim().min(1, { error: 'give the token a name, like "staging rack"' }).max(200, { error: 'use at most 200 characters' }),
    expiresInDays: z.number().int().min(1, { error: 'use 1 to 90 days' }).max(90, { error: 'use 1 to 90 days' }).default(7).meta({ description: 'Days until it stops registering agents (default 7)' }),
  })
  .meta({ id: 'NewRegistrationTokenBody' });
export type NewRegistrationTokenBody = z.infer<typeof NewRegistrationTokenBodySchema>;

export const RegistrationTokenViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the token, to tell it apart' }),
    teamId: z.string(),
    createdBy: z.string(),
    createdAt: IsoTime,
    expiresAt: IsoTime,
    revokedAt: IsoTime.nullable(),
    lastUsedAt: IsoTime.nullable(),
    uses: z.number().int().meta({ description: 'Agents registered with it' }),
  })
  .meta({ id: 'RegistrationTokenView' });
export type RegistrationTokenView = z.infer<typeof RegistrationTokenViewSchema>;

export const CreatedRegistrationTokenSchema = RegistrationTokenViewSchema.extend({
  token: z.string().meta({ description: 'Shown this once: the agent sends it as `DRYDOCK_AGENT_REGISTRATION_SECRET`; the API keeps only its SHA-256' }),
}).meta({ id: 'CreatedRegistrationToken' });
export type CreatedRegistrationToken = z.infer<typeof CreatedRegistrationTokenSchema>;

export const RegistrationTokenListSchema = z.object({ tokens: z.array(RegistrationTokenViewSchema) }).meta({ id: 'RegistrationTokenList' });
