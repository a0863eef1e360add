import { data, redirect } from 'react-router';
import { answer, api, result } from '../lib/api.server.ts';
import { loadHosts, startRun } from '../lib/start-run.server.ts';
import { loadAction } from './action-editor.server.ts';

/** The action, the hosts it may run on and, after Validate (`?validate` in the URL), what the API thinks of its manifest. */
export async function loadActionPage(request: Request, id: string) {
  const action = await loadAction(request, id);
  const validate = new URL(request.url).searchParams.has('validate');
  const [hosts, validation] = await Promise.all([
    loadHosts(request, action),
    validate ? answer(api(request).actions[':id'].validate.$get({ param: { id } })) : null,
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
    const deleted = await result(api(request).actions[':id'].$delete({ param: { id } }));
    if (deleted.ok) return redirect('/actions');
    return data<DeleteFailure>({ intent: 'delete', message: deleted.error.message }, { status: deleted.status });
  }
  if (intent === 'run') {
    const action = await loadAction(request, id);
    return startRun(request, form, action, { actionId: action.id });
  }
  throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
}
