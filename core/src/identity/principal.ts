import { TEAM_ROLES, type TeamRole } from '../group-map.ts';
import type { TokenScope } from '../db/schema.ts';

// Browser-safe: the API's gate, the web's pages and the tests share these names.

/** How the caller proved who they are. `local`: no credential, in the open local mode (DRYDOCK_AUTH=open) only. */
export const AUTH_KINDS = ['session', 'token', 'agent', 'local'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

/** Who is calling, in which team, with which role and scopes: set once per request by the API's gate. */
export interface Principal {
  auth: AuthKind;
  /** A user, a service account or an agent: the id audit rows name. */
  actorId: string;
  userId: string | null;
  serviceAccountId: string | null;
  /** For audit rows and the header: an email, `service:<name>` or `agent:<host>`. */
  name: string;
  /** The team every query of this request is scoped by. */
  teamId: string;
  /** The role in that team; null for agents, which open agent routes only. */
  role: TeamRole | null;
  /** Sessions and the local mode hold every scope; a token holds the ones it was created with. */
  scopes: readonly TokenScope[];
  /** The session's id hash, for sign-out and CSRF; the token's id, for last-used and revocation. */
  sessionIdHash?: string;
  tokenId?: string;
}

export function roleAtLeast(held: TeamRole | null, needed: TeamRole): boolean {
  return held !== null && TEAM_ROLES.indexOf(held) >= TEAM_ROLES.indexOf(needed);
}

/** What a route needs: a role at least this one in the caller's team, and (for tokens) this scope. */
export interface AccessNeed {
  role: TeamRole;
  scope: TokenScope;
}

export function hasAccess(principal: Principal, need: AccessNeed): boolean {
  return roleAtLeast(principal.role, need.role) && principal.scopes.includes(need.scope);
}
