import { Hono } from 'hono';
import type { z } from 'zod';
import { ConflictError, type Manifest, ManifestSchema, NotFoundError, ValidationError } from '@drydock/core';
import { noteAudit } from '../audit.ts';
import { toScriptView } from '../catalog-views.ts';
import type { ApiDeps, ApiEnv } from '../context.ts';

/** An action template is a manifest with a command template or a host operation instead of a script file. */
const ActionManifestSchema = ManifestSchema.refine((m) => m.script === undefined, {
  error: 'an action runs a command_template or an operation; scripts come from repositories',
  path: ['script'],
});

function problemsOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '_', message: i.message }));
}

function parseAction(body: unknown): Manifest {
  const parsed = ActionManifestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string[]> = {};
  for (const p of problemsOf(parsed.error)) (fields[p.path] ??= []).push(p.message);
  throw new ValidationError('the action template is invalid', fields);
}

export function actionRoutes(deps: ApiDeps) {
  const view = async (teamId: string, id: string) => {
    const row = await deps.db.selectFrom('action_templates').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError('action', id);
    const item = await deps.catalog.getAction(teamId, id);
    const usage = await deps.catalog.usage(teamId);
    return { ...toScriptView(item, usage.get(`action:${id}`) ?? 0), revision: row.revision, createdBy: row.created_by, manifest: row.manifest };
  };
  return new Hono<ApiEnv>()
    .get('/', async (c) => {
      const teamId = c.get('user')!.team_id;
      const rows = await deps.db.selectFrom('action_templates').select('id').where('team_id', '=', teamId).orderBy('id').execute();
      return c.json({ actions: await Promise.all(rows.map((r) => view(teamId, r.id))) });
    })
    .get('/:id', async (c) => c.json(await view(c.get('user')!.team_id, c.req.param('id'))))
    .get('/:id/validate', async (c) => {
      const teamId = c.get('user')!.team_id;
      const row = await deps.db.selectFrom('action_templates').select('manifest').where('team_id', '=', teamId).where('id', '=', c.req.param('id')).executeTakeFirst();
      if (!row) throw new NotFoundError('action', c.req.param('id'));
      const parsed = ActionManifestSchema.safeParse(row.manifest);
      const problems = parsed.success ? [] : problemsOf(parsed.error);
      if (parsed.success && parsed.data.host_tags.length > 0) {
        const hosts = await deps.db.selectFrom('hosts').select('tags').where('team_id', '=', teamId).execute();
        if (!hosts.some((h) => parsed.data.host_tags.every((t) => h.tags.includes(t)))) {
          problems.push({ path: 'host_tags', message: `no registered host carries all of: ${parsed.data.host_tags.join(', ')}` });
        }
      }
      return c.json({ valid: problems.length === 0, problems });
    })
    .post('/', async (c) => {
      const teamId = c.get('user')!.team_id;
      const manifest = parseAction(await c.req.json().catch(() => undefined));
      noteAudit(c, { action: 'action.create', resource: `action:${manifest.id}` });
      const existing = await deps.db.selectFrom('action_templates').select('id').where('team_id', '=', teamId).where('id', '=', manifest.id).executeTakeFirst();
      if (existing) throw new ConflictError(`an action with id ${manifest.id} already exists`);
      await deps.db
        .insertInto('action_templates')
        .values({ team_id: teamId, id: manifest.id, manifest: manifest as unknown as Record<string, unknown>, created_by: c.get('user')!.email })
        .execute();
      return c.json(await view(teamId, manifest.id), 201);
    })
    .put('/:id', async (c) => {
      const teamId = c.get('user')!.team_id;
      const id = c.req.param('id');
      const manifest = parseAction(await c.req.json().catch(() => undefined));
      if (manifest.id !== id) throw new ValidationError('the id of an action cannot change', { id: [`keep ${id}, or create a new action`] });
      noteAudit(c, { action: 'action.update', resource: `action:${id}` });
      const updated = await deps.db
        .updateTable('action_templates')
        .set((eb) => ({ manifest: manifest as unknown as Record<string, unknown>, revision: eb('revision', '+', 1), updated_at: new Date() }))
        .where('team_id', '=', teamId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) throw new NotFoundError('action', id);
      return c.json(await view(teamId, id));
    })
    .delete('/:id', async (c) => {
      const teamId = c.get('user')!.team_id;
      const id = c.req.param('id');
      noteAudit(c, { action: 'action.delete', resource: `action:${id}` });
      const deleted = await deps.db.deleteFrom('action_templates').where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
      if (deleted.numDeletedRows === 0n) throw new NotFoundError('action', id);
      return c.body(null, 204);
    });
}
