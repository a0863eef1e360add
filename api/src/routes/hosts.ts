import { Hono } from 'hono';
import { sql } from 'kysely';
import { z } from 'zod';
import { validate } from '../validation.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';

/** Three missed agent heartbeats (10 s apart) and a host shows as offline. */
export const ONLINE_WINDOW_MS = 30_000;

const HostQuery = z.strictObject({ tags: z.string().optional() });

export function hostRoutes(deps: ApiDeps) {
  return new Hono<ApiEnv>().get('/', validate('query', HostQuery), async (c) => {
    const tags = c.req.valid('query').tags?.split(',').map((t) => t.trim()).filter(Boolean) ?? [];
    let q = deps.db.selectFrom('hosts').selectAll().where('team_id', '=', c.get('user')!.team_id);
    // Hosts that carry every tag asked for, as a manifest's host_tags require.
    if (tags.length > 0) q = q.where(sql<boolean>`tags @> ${sql.val(tags)}::text[]`);
    const rows = await q.orderBy('name').execute();
    const now = Date.now();
    return c.json({
      hosts: rows.map((h) => ({
        id: h.id,
        name: h.name,
        online: h.last_seen_at !== null && now - h.last_seen_at.getTime() < ONLINE_WINDOW_MS,
        lastSeenAt: h.last_seen_at?.toISOString() ?? null,
        os: h.os,
        agentVersion: h.agent_version,
        tags: h.tags,
      })),
    });
  });
}
