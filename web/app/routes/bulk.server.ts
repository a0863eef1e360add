import type { Parameter } from '@drydock/core/manifest';
import { data, redirect } from 'react-router';
import type { BulkView } from '@drydock/core/api-schemas';
import { answer, api, result } from '../lib/api.server.ts';
import { BULK_INTENTS, type BulkIntent } from '../lib/bulk-view.ts';

/** The secret parameters of the version that ran: they are not kept, so a re-run asks for them again. */
async function secretParameters(request: Request, bulk: BulkView): Promise<Parameter[]> {
  const client = api(request);
  const entry = await (bulk.source === 'action'
    ? result(client.actions[':id'].$get({ param: { id: bulk.scriptId } }))
    : result(client.scripts[':id'].$get({ param: { id: bulk.scriptId }, query: { version: bulk.scriptVersion } })));
  return entry.ok ? entry.body.parameters.filter((p) => p.type === 'secret') : [];
}

export async function loadBulk(request: Request, id: string) {
  const execution = api(request).bulk[':id'];
  const [bulk, { hosts }] = await Promise.all([answer(execution.$get({ param: { id } })), answer(execution.hosts.$get({ param: { id } }))]);
  return { bulk, hosts, secrets: await secretParameters(request, bulk) };
}


const DONE: Record<Exclude<BulkIntent, 'rerun-failed'>, string> = {
  approve: 'Approved: its hosts start now.',
  reject: 'Rejected: no host starts.',
  pause: 'Pause requested: no new host starts until you resume; hosts already running carry on.',
  resume: 'Resumed: hosts start again.',
  cancel: 'Cancellation requested.',
};

export interface BulkActionResult {
  intent: BulkIntent;
  ok: boolean;
  message: string;
}

/** Approve, reject, pause, resume, cancel; re-running the failed hosts is a new execution, whose page opens. */
export async function actOnBulk(request: Request, id: string) {
  const form = await request.formData();
  const intent = form.get('_intent');
  const known = BULK_INTENTS.find((i) => i === intent);
  if (!known) throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
  const execution = api(request).bulk[':id'];
  const param = { id };
  let done;
  if (known === 'rerun-failed') {
    const secrets = await secretParameters(request, await answer(execution.$get({ param })));
    const params: Record<string, string> = {};
    for (const p of secrets) {
      const value = form.get(p.name);
      if (typeof value === 'string' && value !== '') params[p.name] = value;
    }
    done = await result(execution['rerun-failed'].$post({ param, json: { params } }));
  } else if (known === 'approve' || known === 'reject') {
    const comment = String(form.get('comment') ?? '').trim();
    const json = comment ? { comment } : {};
    done = await result(known === 'approve' ? execution.approve.$post({ param, json }) : execution.reject.$post({ param, json }));
  } else {
    done = await result(execution[known].$post({ param }));
  }
  if (!done.ok) {
    const fields = Object.entries(done.error.fields ?? {}).map(([name, messages]) => `${name}: ${messages.join(' ')}`);
    const message = fields.length > 0 ? `${done.error.message} (${fields.join('; ')})` : done.error.message;
    return data<BulkActionResult>({ intent: known, ok: false, message }, { status: done.status });
  }
  if (known === 'rerun-failed') return redirect(`/bulk/${encodeURIComponent(done.body.id)}`);
  return { intent: known, ok: true, message: DONE[known] } satisfies BulkActionResult;
}
