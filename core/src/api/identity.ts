import { z } from 'zod';
import { TeamRoleSchema } from '../group-map.ts';
import { TOKEN_SCOPES } from '../db/schema.ts';
import { orNull } from './nullable.ts';

// Identity: sign-in, sessions, API tokens, service accounts and members (/api/v1/auth, /me, /tokens, /members).

const IsoTime = z.iso.datetime({ offset: true });
const Email = z.string().trim().toLowerCase().pipe(z.email({ error: 'give an email address, like ada@example.com' }));
const Password = z.string().min(1, { error: 'give the password' }).max(1024, { error: 'use at most 1024 characters' });
const NewPassword = z.string().min(12, { error: 'use at least 12 characters' }).max(1024, { error: 'use at most 1024 characters' });
const Name = z.string().trim().min(1, { error: 'give a name' }).max(200, { error: 'use at most 200 characters' });
export const TokenScopeSchema = z.enum(TOKEN_SCOPES);

export const SignInBodySchema = z.strictObject({ email: Email, password: Password }).meta({ id: 'SignInBody' });
export type SignInBody = z.infer<typeof SignInBodySchema>;

export const SetupBodySchema = z
  .strictObject({
    token: z.string().min(1, { error: 'give the token of the setup link' }),
    email: Email,
    name: Name,
    password: NewPassword,
  })
  .meta({ id: 'SetupBody', description: "The first admin: the setup link's token, then their email, name and password." });
export type SetupBody = z.infer<typeof SetupBodySchema>;

export const ResetBodySchema = z
  .strictObject({ token: z.string().min(1, { error: 'give the token of the reset link' }), password: NewPassword })
  .meta({ id: 'ResetBody' });
export type ResetBody = z.infer<typeof ResetBodySchema>;

export const AuthStatusSchema = z
  .object({
    mode: z.enum(['local', 'accounts']).meta({ description: '`local`: every request acts as the local admin; `accounts`: sign in' }),
    setupOpen: z.boolean().meta({ description: 'No admin has a password yet: the setup link printed by the API sets the first one' }),
  })
  .meta({ id: 'AuthStatus' });
export type AuthStatus = z.infer<typeof AuthStatusSchema>;

export const TeamMembershipViewSchema = z.object({ id: z.string(), name: z.string(), role: TeamRoleSchema }).meta({ id: 'TeamMembershipView' });

export const MeSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    role: TeamRoleSchema.meta({ description: 'The role in the current team' }),
    teamId: z.string().meta({ description: 'The current team: every call acts in it' }),
    teams: z.array(TeamMembershipViewSchema).meta({ description: 'Every team the caller belongs to, with the role in each' }),
    auth: z.enum(['session', 'token', 'local']).meta({ description: 'How this call was authenticated' }),
    scopes: z.array(TokenScopeSchema),
    csrfToken: z.string().optional().meta({ description: 'Sessions only: send it as the `x-csrf-token` header on every call that changes something' }),
  })
  .meta({ id: 'Me', description: 'Who is calling, in which team, and how.' });
export type Me = z.infer<typeof MeSchema>;

export const SwitchTeamBodySchema = z.strictObject({ teamId: z.string().min(1, { error: 'give the team id' }) }).meta({ id: 'SwitchTeamBody' });

const ExpiresInDays = z.number().int().min(1).max(366).optional().meta({ description: 'Days until the token stops working; none: it works until revoked' });

export const NewTokenBodySchema = z
  .strictObject({
    name: Name,
    scopes: z.array(TokenScopeSchema).min(1, { error: 'give at least one scope: read, run or manage' }),
    expiresInDays: ExpiresInDays,
  })
  .meta({ id: 'NewTokenBody' });
export type NewTokenBody = z.infer<typeof NewTokenBodySchema>;

export const TokenViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the token, to tell it apart' }),
    scopes: z.array(TokenScopeSchema),
    teamId: z.string(),
    owner: z.string().meta({ description: "The owner's email, or `service:<name>`" }),
    createdAt: IsoTime,
    expiresAt: IsoTime.nullable(),
    lastUsedAt: IsoTime.nullable(),
    revokedAt: IsoTime.nullable(),
  })
  .meta({ id: 'TokenView', description: 'An API token; its value is shown once, when it is created.' });
export type TokenView = z.infer<typeof TokenViewSchema>;

export const CreatedTokenSchema = TokenViewSchema.extend({
  token: z.string().meta({ description: 'The token (`ddp_…`): shown this once, stored only as a hash. Send it as `Authorization: Bearer <token>`' }),
}).meta({ id: 'CreatedToken' });
export type CreatedToken = z.infer<typeof CreatedTokenSchema>;

export const TokenListSchema = z.object({ tokens: z.array(TokenViewSchema) }).meta({ id: 'TokenList' });

export const NewServiceAccountBodySchema = z.strictObject({ name: Name, role: TeamRoleSchema }).meta({ id: 'NewServiceAccountBody' });
export const ServiceAccountViewSchema = z
  .object({ id: z.string(), name: z.string(), role: TeamRoleSchema, createdAt: IsoTime, tokens: z.array(TokenViewSchema) })
  .meta({ id: 'ServiceAccountView', description: 'An account of automation (CI, cron elsewhere), acting with its role through its tokens.' });
export const ServiceAccountListSchema = z.object({ serviceAccounts: z.array(ServiceAccountViewSchema) }).meta({ id: 'ServiceAccountList' });

export const MemberViewSchema = z
  .object({
    userId: z.string(),
    email: z.string(),
    name: z.string(),
    role: TeamRoleSchema,
    disabled: z.boolean(),
    hasPassword: z.boolean(),
    lockedUntil: IsoTime.nullable(),
  })
  .meta({ id: 'MemberView' });
export type MemberView = z.infer<typeof MemberViewSchema>;
export const MemberListSchema = z.object({ members: z.array(MemberViewSchema) }).meta({ id: 'MemberList' });

export const NewMemberBodySchema = z
  .strictObject({ email: Email, name: Name.optional().meta({ description: 'For a new user; an existing one keeps theirs' }), role: TeamRoleSchema })
  .meta({ id: 'NewMemberBody' });
export const MemberPatchSchema = z
  .strictObject({ role: TeamRoleSchema.optional(), disabled: z.boolean().optional() })
  .refine((b) => b.role !== undefined || b.disabled !== undefined, { error: 'give role, disabled, or both' })
  .meta({ id: 'MemberPatch' });

export const OneTimeLinkSchema = z
  .object({ url: z.string().meta({ description: 'Give it to the person: it works once' }), expiresAt: IsoTime })
  .meta({ id: 'OneTimeLink' });
export const AddedMemberSchema = z
  .object({ member: MemberViewSchema, link: orNull(OneTimeLinkSchema).meta({ description: 'A new user: the link that sets their password' }) })
  .meta({ id: 'AddedMember' });
