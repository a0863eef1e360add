import { z } from 'zod';

// Browser-safe: the identity core and the admin pages share these.

/** A member's role in a team, weakest first: each role can do what the ones before it can. */
export const TEAM_ROLES = ['viewer', 'operator', 'maintainer', 'admin'] as const;
export const TeamRoleSchema = z.enum(TEAM_ROLES);
export type TeamRole = z.infer<typeof TeamRoleSchema>;

const TeamGrantSchema = z.strictObject({
  team: z.string().trim().min(1, { error: 'name the team' }),
  role: TeamRoleSchema,
});
export type TeamGrant = z.infer<typeof TeamGrantSchema>;

/**
 * What membership a group from the identity provider gives: `{ "drydock-admins": { "team": "platform",
 * "role": "admin" } }`, or a list of grants when one group opens several teams.
 */
export const GroupMapSchema = z.record(
  z.string().min(1, { error: 'a group name cannot be empty' }),
  // One grant is read as a list of one, so a wrong role is reported at its own field rather than as "no union member matched".
  z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(TeamGrantSchema).min(1, { error: 'give at least one { team, role }' })),
);
export type GroupMap = z.infer<typeof GroupMapSchema>;

export interface TeamMembership {
  team: string;
  role: TeamRole;
  /** The groups that gave this role (those that gave a weaker one are not listed), for the audit trail. */
  groups: string[];
}

/**
 * The teams and roles a user's groups give them. Groups match by exact name; groups the map does not
 * name give nothing. When several groups open one team, the strongest role wins.
 */
export function membershipsFromGroups(groups: readonly string[], map: GroupMap): TeamMembership[] {
  const byTeam = new Map<string, TeamMembership>();
  for (const group of new Set(groups)) {
    if (!Object.hasOwn(map, group)) continue;
    for (const grant of map[group]!) {
      const held = byTeam.get(grant.team);
      const rank = TEAM_ROLES.indexOf(grant.role);
      if (!held || rank > TEAM_ROLES.indexOf(held.role)) byTeam.set(grant.team, { team: grant.team, role: grant.role, groups: [group] });
      else if (held.role === grant.role && !held.groups.includes(group)) held.groups.push(group);
    }
  }
  return [...byTeam.values()].sort((a, b) => a.team.localeCompare(b.team));
}
