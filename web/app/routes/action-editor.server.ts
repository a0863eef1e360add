import { data, redirect } from 'react-router';
import { checkManifest, manifestFromForm, type ManifestDraft } from '../lib/action-draft.ts';
import { ActionManifestSchema, type ActionView } from '@drydock/core/api-schemas';
import { answer, api, result } from '../lib/api.server.ts';
import { parseErrors, type FieldErrors } from '../lib/form-errors.ts';

export interface SaveActionFailure {
  manifest: ManifestDraft;
  fields: FieldErrors;
  message: string;
}

export async function loadAction(request: Request, id: string): Promise<ActionView> {
  return answer(api(request).actions[':id'].$get({ param: { id } }));
}

/** Checks the manifest as the browser did, then creates the action (no id yet) or replaces its manifest (a new revision). */
export async function saveAction(request: Request, existingId?: string) {
  const manifest = manifestFromForm(await request.formData());
  if (existingId !== undefined) manifest.id = existingId;
  const found = checkManifest(manifest);
  if (Object.keys(found).length > 0) {
    return data<SaveActionFailure>({ manifest, fields: found, message: 'Some fields need attention.' }, { status: 400 });
  }
  const actions = api(request).actions;
  // The route's own schema gives the body its type; what it refuses (a `script`) the API would refuse the same way.
  const parsed = ActionManifestSchema.safeParse(manifest);
  if (!parsed.success) return data<SaveActionFailure>({ manifest, fields: parseErrors(parsed), message: 'the action template is invalid' }, { status: 400 });
  const json = parsed.data;
  const saved = await result(existingId === undefined ? actions.$post({ json }) : actions[':id'].$put({ param: { id: existingId }, json }));
  if (saved.ok) return redirect(`/actions/${encodeURIComponent(saved.body.id)}`);
  const fields = saved.error.fields ?? (saved.status === 409 ? { id: [saved.error.message] } : {});
  return data<SaveActionFailure>({ manifest, fields, message: saved.error.message }, { status: saved.status });
}
