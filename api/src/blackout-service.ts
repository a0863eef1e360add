import { type BlackoutView, isId, newId, NotFoundError, type User, ValidationError } from '@drydock/core';
import { type ActiveBlackout, activeWindow, type BlackoutWindow, BlackoutWindowSchema, checkBlackoutWindows } from '@drydock/core/blackout';
import type { ApiDeps } from './context.ts';

// Blackout windows per environment: a schedule's firing inside one is skipped; a manual run needs an override.

async function windowsOf(deps: ApiDeps, teamId: string, environment: string) {
  const rows = await deps.db.selectFrom('blackout_windows').selectAll().where('team_id', '=', teamId).where('environment', '=', environment).orderBy('name').execute();
  return rows.map((r) => ({ row: r, window: BlackoutWindowSchema.parse(r.definition) }));
}

function toView(row: { id: string; name: string; environment: string; definition: Record<string, unknown>; created_by_name: string; created_at: Date }, window: BlackoutWindow, now: Date): BlackoutView {
  const active = activeWindow([window], now);
  return {
    id: row.id,
    name: row.name,
    environment: row.environment,
    window: row.definition,
    createdBy: row.created_by_name,
    createdAt: row.created_at.toISOString(),
    activeNow: active ? { start: active.start, end: active.end } : null,
  };
}

export async function listBlackouts(deps: ApiDeps, teamId: string): Promise<BlackoutView[]> {
  const rows = await deps.db.selectFrom('blackout_windows').selectAll().where('team_id', '=', teamId).orderBy('environment').orderBy('name').execute();
  const now = new Date();
  return rows.map((r) => toView(r, BlackoutWindowSchema.parse(r.definition), now));
}

/** Checked with the environment's other windows: names unique, no two covering a common instant. */
export async function createBlackout(deps: ApiDeps, user: User, window: BlackoutWindow): Promise<BlackoutView> {
  const environment = window.scope.environment;
  if (environment === undefined) throw new ValidationError('blackout windows are per environment for now; give scope.environment', { 'scope.hostGroup': ['host groups are not supported yet; give scope.environment'] });
  const existing = await windowsOf(deps, user.team_id, environment);
  checkBlackoutWindows([...existing.map((e) => e.window), window], new Date());
  const id = newId();
  const row = await deps.db
    .insertInto('blackout_windows')
    .values({ id, team_id: user.team_id, name: window.name, environment, definition: window as unknown as Record<string, unknown>, created_by_name: user.email })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toView(row, window, new Date());
}

export async function deleteBlackout(deps: ApiDeps, teamId: string, id: string): Promise<void> {
  if (!isId(id)) throw new NotFoundError('blackout window', id);
  const deleted = await deps.db.deleteFrom('blackout_windows').where('id', '=', id).where('team_id', '=', teamId).executeTakeFirst();
  if (deleted.numDeletedRows === 0n) throw new NotFoundError('blackout window', id);
}

/** The window of the host's environment in force now, if any. */
export async function blackoutInForce(deps: ApiDeps, teamId: string, environment: string | null, at: Date): Promise<ActiveBlackout | undefined> {
  if (!environment) return undefined;
  const windows = await windowsOf(deps, teamId, environment);
  return activeWindow(windows.map((w) => w.window), at, { environment });
}
