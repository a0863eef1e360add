import type { Me } from '@drydock/core/api-schemas';
import { useRouteLoaderData } from 'react-router';
import type { loader as rootLoader } from '../root.tsx';

// Who is signed in, as the root loader read it from `GET /api/v1/me`, for pages that show or hide what a role may do.
// The API refuses what a role may not do in any case; hiding the button only spares the person the refusal.

type TeamRole = Me['role'];

const RANK: Record<TeamRole, number> = { viewer: 0, operator: 1, maintainer: 2, admin: 3 };

/** Whether `role` is `needed` or above it (viewer < operator < maintainer < admin). */
export function roleAtLeast(role: TeamRole, needed: TeamRole): boolean {
  return RANK[role] >= RANK[needed];
}

/** The caller as `/me` answered, or null when it is not known (the API was down, or nobody is signed in). */
export function useMe() {
  return useRouteLoaderData<typeof rootLoader>('root')?.me ?? null;
}

/**
 * Whether the caller may start and stop work (operator and above). Unknown (the API did not answer `/me`): yes,
 * and the API decides, so a page does not lose its buttons because one read failed.
 */
export function useMayRun(): boolean {
  const me = useMe();
  return me === null || roleAtLeast(me.role, 'operator');
}
