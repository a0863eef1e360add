import type { z } from 'zod';
import { ActionManifestSchema, type ActionValidation, type ActionView, ConflictError, type Manifest, NotFoundError, type User, ValidationError } from '@drydock/core';
import { toScriptView } from './catalog-views.ts';
import type { ApiDeps } from './context.ts';

// Action templates: manifests stored in Postgres and edited through the API.

function problemsOf(error: z.ZodError): ActionValidation['problems'] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '_', message: i.message }));
}

/** A template that fails its schema: one message per field, under the message a person reads first. */
export function invalidAction(error: z.ZodError): ValidationError {
  const fields: Record<string, string[]> = {};
  for (const p of problemsOf(error)) (fields[p.path] ??= []).push(p.message);
  return new ValidationError('the action template is invalid', fields);
}

export async function actionView(deps: ApiDeps, teamId: string, id: string): Promise<ActionView> {
  const row = await deps.db.selectFrom('action_templates').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('action', id);
  const item = await deps.catalog.getAction(teamId, id);
  const usage = await deps.catalog.usage(teamId);
  return { ...toScriptView(item, usage.get(`action:${id}`) ?? 0), revision: row.revision, createdBy: row.created_by, manifest: row.manifest };
}

export async function listActions(deps: ApiDeps, teamId: string): Promise<ActionView[]> {
  const rows = await deps.db.selectFrom('action_templates').select('id').where('team_id', '=', teamId).orderBy('id').execute();
  return Promise.all(rows.map((r) => actionView(deps, teamId, r.id)));
}

/** The stored manifest checked again, and host_tags that no registered host carries all of. */
export async function validateAction(deps: ApiDeps, teamId: string, id: string): Promise<ActionValidation> {
  const row = await deps.db.selectFrom('action_templates').select('manifest').where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('action', id);
  const parsed = ActionManifestSchema.safeParse(row.manifest);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  if (parsed.success && parsed.data.host_tags.length > 0) {
    const hosts = await deps.db.selectFrom('hosts').select('tags').where('team_id', '=', teamId).execute();
    if (!hosts.some((h) => parsed.data.host_tags.every((t) => h.tags.includes(t)))) {
      problems.push({ path: 'host_tags', message: `no registered host carries all of: ${parsed.data.host_tags.join(', ')}` });
    }
  }
  return { valid: problems.length === 0, problems };
}

export async function createAction(deps: ApiDeps, user: User, manifest: Manifest): Promise<ActionView> {
  const existing = await deps.db.selectFrom('action_templates').select('id').where('team_id', '=', user.team_id).where('id', '=', manifest.id).executeTakeFirst();
  if (existing) throw new ConflictError(`an action with id ${manifest.id} already exists`);
  await deps.db
    .insertInto('action_templates')
    .values({ team_id: user.team_id, id: manifest.id, manifest: manifest as unknown as Record<string, unknown>, created_by: user.email })
    .execute();
  return actionView(deps, user.team_id, manifest.id);
}

/** Replaces the whole manifest; the revision goes up by one. */
export async function replaceAction(deps: ApiDeps, teamId: string, id: string, manifest: Manifest): Promise<ActionView> {
  if (manifest.id !== id) throw new ValidationError('the id of an action cannot change', { id: [`keep ${id}, or create a new action`] });
  const updated = await deps.db
    .updateTable('action_templates')
    .set((eb) => ({ manifest: manifest as unknown as Record<string, unknown>, revision: eb('revision', '+', 1), updated_at: new Date() }))
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) throw new NotFoundError('action', id);
  return actionView(deps, teamId, id);
}

export async function deleteAction(deps: ApiDeps, teamId: string, id: string): Promise<void> {
  const deleted = await deps.db.deleteFrom('action_templates').where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
  if (deleted.numDeletedRows === 0n) throw new NotFoundError('action', id);
}
