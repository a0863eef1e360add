import { data, redirect } from 'react-router';
import { type CredentialView, RepositoryBodySchema, type RepositoryDetail, RepositoryPatchSchema, type RepositoryView } from '@drydock/core/api-schemas';
import { answer, api, result } from './api.server.ts';
import { checkRepositoryBody, createBody, patchBody, repositoryFormValues, type RepositoryFormFailure, type SyncOutcome } from './repository-form.ts';
import type { FieldErrors } from './form-errors.ts';

export async function loadRepositories(request: Request): Promise<RepositoryView[]> {
  return (await answer(api(request).repositories.$get())).repositories;
}

export async function loadRepository(request: Request, id: string): Promise<RepositoryDetail> {
  return answer(api(request).repositories[':id'].$get({ param: { id } }));
}

export async function loadCredentials(request: Request): Promise<CredentialView[]> {
  return (await answer(api(request).credentials.$get())).credentials;
}

function failure(form: FormData, status: number, message: string, fields: FieldErrors) {
  return data<RepositoryFormFailure>({ intent: 'save', message, fields, values: repositoryFormValues(form) }, { status });
}

/** Checks as the browser did (a request may come without JS), then adds the repository; its first sync starts at once. */
export async function createRepository(request: Request, form: FormData) {
  const body = createBody(form);
  const fields = checkRepositoryBody(body, 'new');
  if (Object.keys(fields).length > 0) return failure(form, 400, 'Some fields need attention.', fields);
  // The schema the form was checked with gives the body the type the route takes.
  const created = await result(api(request).repositories.$post({ json: RepositoryBodySchema.parse(body) }));
  if (created.ok) return redirect(`/repositories/${encodeURIComponent(created.body.id)}`);
  return failure(form, created.status, created.error.message, created.error.fields ?? (created.status === 409 ? { id: [created.error.message] } : {}));
}

export async function updateRepository(request: Request, id: string, form: FormData) {
  const body = patchBody(form);
  const fields = checkRepositoryBody(body, 'edit');
  if (Object.keys(fields).length > 0) return failure(form, 400, 'Some fields need attention.', fields);
  const updated = await result(api(request).repositories[':id'].$patch({ param: { id }, json: RepositoryPatchSchema.parse(body) }));
  if (updated.ok) return { intent: 'save' as const, saved: true as const, message: 'Settings saved.' };
  return failure(form, updated.status, updated.error.message, updated.error.fields ?? {});
}

export async function syncRepository(request: Request, id: string): Promise<SyncOutcome> {
  const started = await result(api(request).repositories[':id'].sync.$post({ param: { id } }));
  return started.ok
    ? { intent: 'sync', repositoryId: id, ok: true, message: `Sync started (workflow ${started.body.workflowId}).` }
    : { intent: 'sync', repositoryId: id, ok: false, message: started.error.message };
}

export async function deleteRepository(request: Request, id: string) {
  const deleted = await result(api(request).repositories[':id'].$delete({ param: { id } }));
  if (deleted.ok) return redirect('/repositories');
  return data({ intent: 'delete' as const, message: deleted.error.message }, { status: deleted.status });
}
