import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from '../context.ts';

/** Three missed agent heartbeats (10 s apart) and a host shows as offline. */
export const ONLINE_WINDOW_MS = 30_000;

export function hostRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>().get('/', async (c) => {
    const rows = await deps.db.selectFrom('hosts').selectAll().where('team_id', '=', c.get('user')!.team_id).orderBy('name').execute();
    const now = Date.now();
    return c.json({
      hosts: rows.map((h) => ({
        id: h.id,
        name: h.name,
        online: h.last_seen_at !== null && now - h.last_seen_at.getTime() < ONLINE_WINDOW_MS,
        lastSeenAt: h.last_seen_at?.toISOString() ?? null,
        os: h.os,
        agentVersion: h.agent_version,
      })),
    });
  });
}
