import { data, redirect } from 'react-router';
import { checkManifest, manifestFromForm, type ManifestDraft } from '../lib/action-draft.ts';
import { callApi, getFromApi } from '../lib/api.server.ts';
import type { ActionView } from '../lib/api-views.ts';
import type { FieldErrors } from '../lib/form-errors.ts';

export interface SaveActionFailure {
  manifest: ManifestDraft;
  fields: FieldErrors;
  message: string;
}

export async function loadAction(request: Request, id: string): Promise<ActionView> {
  return getFromApi<ActionView>(request, `/api/v1/actions/${encodeURIComponent(id)}`);
}

/** Checks the manifest as the browser did, then creates the action (no id yet) or replaces its manifest (a new revision). */
export async function saveAction(request: Request, existingId?: string) {
  const manifest = manifestFromForm(await request.formData());
  if (existingId !== undefined) manifest.id = existingId;
  const found = checkManifest(manifest);
  if (Object.keys(found).length > 0) {
    return data<SaveActionFailure>({ manifest, fields: found, message: 'Some fields need attention.' }, { status: 400 });
  }
  const saved = await callApi<ActionView>(request, existingId === undefined ? '/api/v1/actions' : `/api/v1/actions/${encodeURIComponent(existingId)}`, {
    method: existingId === undefined ? 'POST' : 'PUT',
    body: manifest,
  });
  if (saved.ok) return redirect(`/actions/${encodeURIComponent(saved.body.id)}`);
  const fields = saved.error.fields ?? (saved.status === 409 ? { id: [saved.error.message] } : {});
  return data<SaveActionFailure>({ manifest, fields, message: saved.error.message }, { status: saved.status });
}
