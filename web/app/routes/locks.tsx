import { DEFAULT_MAX_EXTENSIONS, LOCK_TYPES, type LockLeaseView, type LockType } from '@drydock/core/host-lock';
import { useState, type FormEvent } from 'react';
import { Form, Link, useNavigation } from 'react-router';
import type { Route } from './+types/locks';
import { RouteError } from '../components/route-error.tsx';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { useRevalidateWhile } from '../lib/polling.ts';
import type { FieldErrors } from '../lib/run-form.ts';
import { acquireBody, checkAcquire } from '../lib/lock-form.ts';
import { loadLocksPage, lockAction, type LockRow, type LocksPage } from './locks.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Locks · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return loadLocksPage(request);
}

export async function action({ request }: Route.ActionArgs) {
  return lockAction(request, await request.formData());
}

const fieldClass = 'rounded border border-slate-300 bg-white px-2 py-1 text-sm shadow-xs focus:border-slate-500 focus:outline-none';

const TYPE: Record<LockType, { tone: string; title: string }> = {
  execution: { tone: 'bg-slate-100 text-slate-700 ring-slate-300', title: 'A run, or a person, needs the host to itself' },
  maintenance: { tone: 'bg-amber-50 text-amber-800 ring-amber-300', title: 'Work on the host: runs that need its lock wait until it is released' },
  emergency: { tone: 'bg-red-50 text-red-700 ring-red-300', title: 'Urgent work: goes ahead of every other waiter' },
};

function TypeBadge({ type }: { type: LockType }) {
  return (
    <span data-testid="lock-type" data-type={type} title={TYPE[type].title} className={`inline-block rounded px-1.5 py-px font-mono text-xs ring-1 ring-inset ${TYPE[type].tone}`}>
      {type}
    </span>
  );
}

function Holder({ lease }: { lease: LockLeaseView }) {
  const h = lease.holder;
  if (h.kind === 'run') {
    return (
      <Link to={`/runs/${encodeURIComponent(h.id)}`} className="text-blue-700 hover:underline" title="The run that holds or waits for the lock">
        {h.name}
      </Link>
    );
  }
  return <span title={h.kind === 'bulk' ? 'A bulk execution' : 'Taken on this page or through the API'}>{h.name}</span>;
}

/** `in 4 min`, or `expired 12 s ago` while the lock has yet to notice. */
function Expiry({ iso, now }: { iso: string | null; now: number }) {
  if (!iso) return <span className="text-slate-400">—</span>;
  const left = Date.parse(iso) - now;
  const text = left > 0 ? `in ${formatRelative(new Date(now - left).toISOString(), now).replace(' ago', '')}` : `expired ${formatRelative(iso, now)}`;
  return (
    <time dateTime={iso} title={`${formatDateTime(iso)} UTC`} className={`whitespace-nowrap ${left > 0 ? '' : 'text-red-700'}`}>
      {text}
    </time>
  );
}

function SmallButton({ intent, label, busyLabel, hidden, tone = 'plain' }: { intent: string; label: string; busyLabel: string; hidden: Record<string, string>; tone?: 'plain' | 'danger' }) {
  const navigation = useNavigation();
  const sent = navigation.state !== 'idle' ? navigation.formData : undefined;
  const busy = sent?.get('_intent') === intent && Object.entries(hidden).every(([k, v]) => sent.get(k) === v);
  return (
    <Form method="post" className="inline">
      <input type="hidden" name="_intent" value={intent} />
      {Object.entries(hidden).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      <button
        type="submit"
        disabled={busy}
        data-testid={`lock-${intent}`}
        className={`rounded border px-2 py-0.5 text-xs disabled:opacity-60 ${tone === 'danger' ? 'border-red-300 text-red-700 hover:bg-red-50' : 'border-slate-300 text-slate-700 hover:bg-slate-100'}`}
      >
        {busy ? busyLabel : label}
      </button>
    </Form>
  );
}

/** An admin's force release asks why first; a <details> disclosure, so it works without JS. */
function ForceRelease({ lock }: { lock: LockRow }) {
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formData?.get('_intent') === 'force-release' && navigation.formData.get('hostId') === lock.hostId;
  return (
    <details className="relative inline-block" data-testid="force-release">
      <summary className="cursor-pointer list-none rounded border border-red-300 bg-white px-2 py-0.5 text-xs text-red-700 select-none hover:bg-red-50 [&::-webkit-details-marker]:hidden">
        Force release…
      </summary>
      <div role="dialog" aria-label={`Force-release the lock of ${lock.hostName}`} className="absolute right-0 z-10 mt-1 w-80 rounded border border-slate-200 bg-white p-3 text-left text-sm shadow-lg">
        <p className="font-medium text-slate-900">Take the lock of {lock.hostName} from {lock.holder?.holder.name}?</p>
        <p className="mt-1 text-xs text-slate-600">
          {lock.holder?.holder.kind === 'run' ? 'The run that holds it is stopped and fails with your reason. ' : ''}The next waiter gets the lock. The audit log keeps who did it and why.
        </p>
        <Form method="post" className="mt-2 space-y-2">
          <input type="hidden" name="_intent" value="force-release" />
          <input type="hidden" name="hostId" value={lock.hostId} />
          <label className="block text-xs font-medium text-slate-700">
            Reason
            <input name="reason" required maxLength={500} placeholder="the run hangs; the host is needed now" data-testid="force-release-reason" className={`${fieldClass} mt-1 block w-full`} />
          </label>
          <div className="flex justify-end">
            <button type="submit" disabled={busy} data-testid="confirm-force-release" className="rounded bg-red-700 px-3 py-1 text-sm font-medium text-white hover:bg-red-600 disabled:opacity-60">
              {busy ? 'Releasing…' : 'Force release'}
            </button>
          </div>
        </Form>
      </div>
    </details>
  );
}

function LeaseActions({ lock, lease, me, held }: { lock: LockRow; lease: LockLeaseView; me: LocksPage['me']; held: boolean }) {
  const mine = lease.holder.kind === 'user' && lease.holder.id === me.id;
  const hidden = { hostId: lock.hostId, leaseId: lease.leaseId };
  return (
    <div className="flex flex-wrap justify-end gap-1">
      {mine && held && lease.extensions < lease.maxExtensions ? <SmallButton intent="extend" label={`Extend ${Math.round(lease.ttlSeconds / 60)} min`} busyLabel="Extending…" hidden={hidden} /> : null}
      {mine ? <SmallButton intent="release" label={held ? 'Release' : 'Withdraw'} busyLabel={held ? 'Releasing…' : 'Withdrawing…'} hidden={hidden} /> : null}
      {!mine && held && me.role === 'admin' ? <ForceRelease lock={lock} /> : null}
    </div>
  );
}

function LockTable({ locks, me, now }: { locks: LockRow[]; me: LocksPage['me']; now: number }) {
  return (
    <div className="overflow-x-auto rounded border border-slate-200 bg-white">
      <table className="w-full text-left text-sm" data-testid="lock-list">
        <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
          <tr>
            <th className="px-3 py-2 font-medium">Host</th>
            <th className="px-3 py-2 font-medium">Type</th>
            <th className="px-3 py-2 font-medium">Holder</th>
            <th className="px-3 py-2 font-medium">Reason</th>
            <th className="px-3 py-2 font-medium">Acquired (UTC)</th>
            <th className="px-3 py-2 font-medium">Expires</th>
            <th className="px-3 py-2 font-medium" title="Extensions taken, of those allowed">
              Extended
            </th>
            <th className="px-3 py-2 font-medium">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        {locks.map((lock) => (
          <tbody key={lock.hostId} className="border-b border-slate-200 last:border-0" data-testid="lock-row" data-host-id={lock.hostId}>
            <tr className="align-top">
              <td className="px-3 py-2">
                <Link to={`/hosts/${encodeURIComponent(lock.hostId)}`} className="font-medium text-blue-700 hover:underline">
                  {lock.hostName}
                </Link>
              </td>
              {lock.holder ? (
                <>
                  <td className="px-3 py-2">
                    <TypeBadge type={lock.holder.type} />
                  </td>
                  <td className="px-3 py-2" data-testid="lock-holder">
                    <Holder lease={lock.holder} />
                  </td>
                  <td className="px-3 py-2 text-slate-700" data-testid="lock-reason">
                    {lock.holder.reason}
                  </td>
                  <td className="px-3 py-2 font-mono text-xs whitespace-nowrap">{formatDateTime(lock.holder.acquiredAt)}</td>
                  <td className="px-3 py-2 text-xs" data-testid="lock-expires">
                    <Expiry iso={lock.holder.expiresAt} now={now} />
                  </td>
                  <td className="px-3 py-2 text-xs">
                    {lock.holder.extensions} / {lock.holder.maxExtensions}
                  </td>
                  <td className="px-3 py-2 text-right">
                    <LeaseActions lock={lock} lease={lock.holder} me={me} held />
                  </td>
                </>
              ) : (
                <td colSpan={7} className="px-3 py-2 text-slate-500">
                  Free: the first waiter is being granted the lock.
                </td>
              )}
            </tr>
            {lock.queue.map((w) => (
              <tr key={w.leaseId} className="bg-slate-50 align-top text-xs text-slate-700" data-testid="lock-waiter">
                <td className="py-1.5 pr-3 pl-6 whitespace-nowrap text-slate-500">waiting #{w.position}</td>
                <td className="px-3 py-1.5">
                  <TypeBadge type={w.type} />
                  {w.priority !== 0 ? <span className="ml-1 text-slate-500">priority {w.priority}</span> : null}
                </td>
                <td className="px-3 py-1.5">
                  <Holder lease={w} />
                </td>
                <td className="px-3 py-1.5">{w.reason}</td>
                <td className="px-3 py-1.5 font-mono whitespace-nowrap" title="Asked at">
                  asked {formatDateTime(w.requestedAt)}
                </td>
                <td className="px-3 py-1.5" colSpan={2}>
                  holds it for {Math.round(w.ttlSeconds / 60)} min once granted
                </td>
                <td className="px-3 py-1.5 text-right">
                  <LeaseActions lock={lock} lease={w} me={me} held={false} />
                </td>
              </tr>
            ))}
          </tbody>
        ))}
      </table>
    </div>
  );
}

function FieldError({ name, errors }: { name: string; errors: FieldErrors }) {
  const messages = errors[name];
  if (!messages || messages.length === 0) return null;
  return (
    <p data-field-error={name} className="mt-1 text-xs font-medium text-red-700">
      {messages.join(' ')}
    </p>
  );
}

function TakeLock({ page, errors: serverErrors, values }: { page: LocksPage; errors: FieldErrors; values: Record<string, string> | null }) {
  const navigation = useNavigation();
  const busy = navigation.state !== 'idle' && navigation.formData?.get('_intent') === 'acquire';
  const [clientErrors, setClientErrors] = useState<FieldErrors | null>(null);
  const errors = clientErrors ?? (busy ? {} : serverErrors);
  const admin = page.me.role === 'admin';
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    const form = new FormData(event.currentTarget);
    const found = checkAcquire(acquireBody(form));
    if (!form.get('hostId')) found.hostId = ['choose a host'];
    setClientErrors(Object.keys(found).length > 0 ? found : null);
    if (Object.keys(found).length > 0) event.preventDefault();
  }
  const cls = (name: string) => `${fieldClass} block w-full ${errors[name] ? 'border-red-400' : ''}`;
  return (
    <Form method="post" noValidate onSubmit={onSubmit} className="grid gap-3 sm:grid-cols-6" data-testid="lock-form">
      <input type="hidden" name="_intent" value="acquire" />
      <label className="text-xs font-medium text-slate-700 sm:col-span-2">
        Host
        <select name="hostId" defaultValue={values?.hostId ?? page.filters.host} className={`${cls('hostId')} mt-1`}>
          <option value="">choose…</option>
          {page.hosts.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name}
              {h.status === 'maintenance' ? ' (in maintenance)' : ''}
            </option>
          ))}
        </select>
        <FieldError name="hostId" errors={errors} />
      </label>
      <label className="text-xs font-medium text-slate-700">
        Type
        <select name="type" defaultValue={values?.type ?? 'execution'} className={`${cls('type')} mt-1`}>
          {LOCK_TYPES.map((t) => (
            <option key={t} value={t} disabled={t !== 'execution' && !admin}>
              {t}
              {t !== 'execution' && !admin ? ' (admins)' : ''}
            </option>
          ))}
        </select>
        <FieldError name="type" errors={errors} />
      </label>
      <label className="text-xs font-medium text-slate-700">
        For (minutes)
        <input name="ttlMinutes" type="number" min={1} max={10_080} defaultValue={values?.ttlMinutes ?? '60'} className={`${cls('ttlMinutes')} mt-1`} />
        <FieldError name="ttlMinutes" errors={errors} />
      </label>
      <label className="text-xs font-medium text-slate-700">
        Priority
        <input name="priority" type="number" min={-100} max={100} defaultValue={values?.priority ?? '0'} className={`${cls('priority')} mt-1`} />
        <FieldError name="priority" errors={errors} />
      </label>
      <label className="flex items-center gap-2 self-end pb-1 text-xs text-slate-700">
        <input name="wait" type="checkbox" defaultChecked={values ? values.wait === 'on' : true} />
        Queue if it is taken
      </label>
      <label className="text-xs font-medium text-slate-700 sm:col-span-5">
        Reason
        <input name="reason" defaultValue={values?.reason ?? ''} maxLength={500} placeholder="kernel upgrade, failover drill, …" className={`${cls('reason')} mt-1`} />
        <FieldError name="reason" errors={errors} />
      </label>
      <div className="self-end">
        <button type="submit" disabled={busy} data-testid="take-lock" className="w-full rounded bg-blue-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-600 disabled:opacity-60">
          {busy ? 'Taking…' : 'Take the lock'}
        </button>
      </div>
      <p className="text-xs text-slate-500 sm:col-span-6">
        The lock lasts as long as you ask, then expires on its own; you can extend it {DEFAULT_MAX_EXTENSIONS} times by as long again. A maintenance lock keeps runs that need the host's lock
        waiting; an emergency lock goes ahead of every waiter.
      </p>
    </Form>
  );
}

export default function LocksPage({ loaderData, actionData }: Route.ComponentProps) {
  const page = loaderData;
  const { locks, filters, me, now } = page;
  // Leases expire and queues move on their own; keep the page honest.
  useRevalidateWhile(true, 5_000);
  const failedAcquire = actionData?.intent === 'acquire' && !actionData.ok ? actionData : undefined;
  const filtered = filters.host !== '' || filters.type !== '';
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-lg font-semibold">Locks</h1>
        <p className="text-xs text-slate-500">
          Hosts someone holds or waits for. Runs whose manifest says <code className="font-mono">requires_lock</code> take their host's lock and always give it back.
        </p>
      </div>

      {actionData ? (
        <p
          role={actionData.ok ? 'status' : 'alert'}
          data-testid="lock-message"
          className={`rounded border px-3 py-2 text-sm ${actionData.ok ? 'border-emerald-300 bg-emerald-50 text-emerald-900' : 'border-red-200 bg-red-50 text-red-800'}`}
        >
          {actionData.message}
        </p>
      ) : null}

      <Form method="get" className="flex flex-wrap items-end gap-2 rounded border border-slate-200 bg-white px-3 py-2" data-testid="lock-filters" key={JSON.stringify(filters)}>
        <label className="flex flex-col text-xs text-slate-600">
          Host
          <select name="host" defaultValue={filters.host} className={fieldClass}>
            <option value="">any</option>
            {page.hosts.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col text-xs text-slate-600">
          Type
          <select name="type" defaultValue={filters.type} className={fieldClass}>
            <option value="">any</option>
            {LOCK_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="rounded bg-slate-800 px-3 py-1 text-sm text-white hover:bg-slate-700">
          Apply
        </button>
        {filtered ? (
          <Link to="/locks" className="px-1 py-1 text-sm text-slate-600 underline">
            Reset
          </Link>
        ) : null}
      </Form>

      {locks.length === 0 ? (
        <p className="rounded border border-dashed border-slate-300 bg-white px-4 py-8 text-center text-sm text-slate-500" data-testid="no-locks">
          {filtered ? 'No lock matches these filters.' : 'No host is locked and nobody waits.'}
        </p>
      ) : (
        <LockTable locks={locks} me={me} now={now} />
      )}

      <section className="rounded border border-slate-200 bg-white p-4">
        <h2 className="mb-3 text-sm font-semibold">Take a lock</h2>
        <TakeLock page={page} errors={failedAcquire?.fields ?? {}} values={failedAcquire?.values ?? null} />
      </section>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
