import type { HostLockListItem, HostStatus, UserView } from '@drydock/core/api-schemas';
import { LOCK_TYPES, type LockType } from '@drydock/core/host-lock';
import { LockAcquireBodySchema, LockForceReleaseBodySchema, type LockListQuery } from '@drydock/core/host-lock-schemas';
import { data } from 'react-router';
import { answer, api, result } from '../lib/api.server.ts';
import { acquireBody, checkAcquire } from '../lib/lock-form.ts';
import { hasFieldErrors, type FieldErrors } from '../lib/form-errors.ts';

export type LockRow = HostLockListItem;

export interface LocksPage {
  locks: LockRow[];
  hosts: { id: string; name: string; status: HostStatus }[];
  me: Pick<UserView, 'id' | 'role' | 'email'>;
  filters: { host: string; type: '' | LockType };
  now: number;
}

export async function loadLocksPage(request: Request): Promise<LocksPage> {
  const url = new URL(request.url);
  const host = url.searchParams.get('host')?.trim() ?? '';
  const rawType = url.searchParams.get('type') ?? '';
  const type = (LOCK_TYPES as readonly string[]).includes(rawType) ? (rawType as LockType) : '';
  const query: LockListQuery = {};
  if (host) query.host = host;
  if (type) query.type = type;
  const client = api(request);
  const [{ locks }, { hosts }, me] = await Promise.all([answer(client.locks.$get({ query })), answer(client.hosts.$get({ query: {} })), answer(client.me.$get())]);
  return { locks, hosts: hosts.map((h) => ({ id: h.id, name: h.name, status: h.status })), me, filters: { host, type }, now: Date.now() };
}

export type LockActionResult =
  | { intent: 'acquire'; ok: false; message: string; fields: FieldErrors; values: Record<string, string>; ended?: undefined }
  | {
      intent: 'acquire' | 'release' | 'extend' | 'force-release';
      ok: boolean;
      message: string;
      fields?: undefined;
      values?: undefined;
      /** The lease this action ended: the list (a mirror the lock workflow updates a moment later) must not show it again. */
      ended?: string;
    };

const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();

export async function lockAction(request: Request, form: FormData) {
  const intent = text(form, '_intent');
  const hostId = text(form, 'hostId');
  if (intent === 'acquire') {
    const values = { hostId, type: text(form, 'type'), reason: text(form, 'reason'), ttlMinutes: text(form, 'ttlMinutes'), priority: text(form, 'priority'), wait: form.get('wait') === 'on' ? 'on' : '' };
    const body = acquireBody(form);
    const fields = checkAcquire(form);
    if (hasFieldErrors(fields)) return data<LockActionResult>({ intent, ok: false, message: 'Some fields need attention.', fields, values }, { status: 400 });
    const res = await result(api(request).locks[':hostId'].$post({ param: { hostId }, json: LockAcquireBodySchema.parse(body) }));
    if (!res.ok) return data<LockActionResult>({ intent, ok: false, message: res.error.message, fields: res.error.fields ?? {}, values }, { status: res.status });
    const message = res.body.status === 'granted' ? `You hold the ${res.body.lease.type} lock of ${hostId}.` : `Queued for the lock of ${hostId}, in position ${res.body.position}.`;
    return { intent, ok: true, message } satisfies LockActionResult;
  }
  if (intent === 'release' || intent === 'extend') {
    const leaseId = text(form, 'leaseId');
    const lock = api(request).locks[':hostId'];
    const res = await result((intent === 'extend' ? lock.extend : lock.release).$post({ param: { hostId }, json: { leaseId } }));
    if (!res.ok) return data<LockActionResult>({ intent, ok: false, message: res.error.message }, { status: res.status });
    if (intent === 'extend') return { intent, ok: true, message: `Extended your lease on ${hostId}.` } satisfies LockActionResult;
    return { intent, ok: true, message: `Released your lease on ${hostId}.`, ended: leaseId } satisfies LockActionResult;
  }
  if (intent === 'force-release') {
    const parsed = LockForceReleaseBodySchema.safeParse({ reason: text(form, 'reason') });
    if (!parsed.success) return data<LockActionResult>({ intent, ok: false, message: `Force release of ${hostId}: ${parsed.error.issues[0]?.message ?? 'give a reason'}` }, { status: 400 });
    const res = await result(api(request).locks[':hostId']['force-release'].$post({ param: { hostId }, json: parsed.data }));
    if (!res.ok) return data<LockActionResult>({ intent, ok: false, message: res.error.message }, { status: res.status });
    return { intent, ok: true, message: `Force-released the lock of ${hostId} from ${res.body.released.holder.name}.`, ended: res.body.released.leaseId } satisfies LockActionResult;
  }
  throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
}
