import { data, redirect } from 'react-router';
import { callApi, getFromApi } from '../lib/api.server.ts';
import type { ActionValidation } from '../lib/api-views.ts';
import { loadHosts, startRun } from '../lib/start-run.server.ts';
import { loadAction } from './action-editor.server.ts';

function actionPath(id: string): string {
  return `/api/v1/actions/${encodeURIComponent(id)}`;
}

/** The action, the hosts it may run on and, after Validate (`?validate` in the URL), what the API thinks of its manifest. */
export async function loadActionPage(request: Request, id: string) {
  const action = await loadAction(request, id);
  const validate = new URL(request.url).searchParams.has('validate');
  const [hosts, validation] = await Promise.all([
    loadHosts(request, action),
    validate ? getFromApi<ActionValidation>(request, `${actionPath(id)}/validate`) : null,
  ]);
  return { action, hosts, validation };
}

export interface DeleteFailure {
  intent: 'delete';
  message: string;
}

/** The page's two forms: run the action, or delete it. */
export async function actOnAction(request: Request, id: string) {
  const form = await request.formData();
  const intent = form.get('_intent');
  if (intent === 'delete') {
    const deleted = await callApi<null>(request, actionPath(id), { method: 'DELETE' });
    if (deleted.ok) return redirect('/actions');
    return data<DeleteFailure>({ intent: 'delete', message: deleted.error.message }, { status: deleted.status });
  }
  if (intent === 'run') {
    const action = await loadAction(request, id);
    return startRun(request, form, action, { actionId: action.id });
  }
  throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
}
