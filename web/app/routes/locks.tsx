import { DEFAULT_MAX_EXTENSIONS, LOCK_TYPES, type LockLeaseView, type LockType } from '@drydock/core/host-lock';
import { Form, Link } from 'react-router';
import type { Route } from './+types/locks';
import { RouteError } from '../components/route-error.tsx';
import { Badge, type BadgeTone } from '../components/ui/badge.tsx';
import { ActionForm, IntentButton } from '../components/ui/button.tsx';
import { ConfirmText, Disclosure } from '../components/ui/disclosure.tsx';
import { EmptyState } from '../components/ui/empty-state.tsx';
import { Field } from '../components/ui/field.tsx';
import { FilterBar, FilterSelect } from '../components/ui/filter-bar.tsx';
import { useCheckedForm } from '../components/ui/form.ts';
import { OutcomeNotice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel } from '../components/ui/panel.tsx';
import { Table, TableBody, TableHead, Td, Th } from '../components/ui/table.tsx';
import type { FieldErrors } from '../lib/form-errors.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { checkAcquire } from '../lib/lock-form.ts';
import { withoutEndedLeases } from '../lib/lock-view.ts';
import { useRevalidateWhile } from '../lib/polling.ts';
import { loadLocksPage, lockAction, type LockRow, type LocksPage } from './locks.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Locks · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return loadLocksPage(request);
}

export async function action({ request }: Route.ActionArgs) {
  return lockAction(request, await request.formData());
}

const TYPE: Record<LockType, { tone: BadgeTone; title: string }> = {
  execution: { tone: 'neutral', title: 'A run, or a person, needs the host to itself' },
  maintenance: { tone: 'warning', title: 'Work on the host: runs that need its lock wait until it is released' },
  emergency: { tone: 'danger', title: 'Urgent work: goes ahead of every other waiter' },
};

function TypeBadge({ type }: { type: LockType }) {
  return (
    <Badge tone={TYPE[type].tone} size="status" title={TYPE[type].title} testId="lock-type" data={{ 'data-type': type }}>
      {type}
    </Badge>
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

/** An admin's force release asks why first. */
function ForceRelease({ lock }: { lock: LockRow }) {
  const hidden = { hostId: lock.hostId };
  return (
    <Disclosure summary="Force release…" label={`Force-release the lock of ${lock.hostName}`} variant="danger-outline" size="xs" testId="force-release">
      <ConfirmText
        question={`Take the lock of ${lock.hostName} from ${lock.holder?.holder.name}?`}
        consequence={`${lock.holder?.holder.kind === 'run' ? 'The run that holds it is stopped and fails with your reason. ' : ''}The next waiter gets the lock. The audit log keeps who did it and why.`}
      />
      <ActionForm hidden={hidden} className="mt-2 space-y-2">
        <Field name="reason" id={`force-release-reason-${lock.hostId}`} label="Reason">
          {(props) => <input {...props} required maxLength={500} placeholder="the run hangs; the host is needed now" data-testid="force-release-reason" />}
        </Field>
        <div className="flex justify-end">
          <IntentButton intent="force-release" match={hidden} variant="danger" size="sm" busyLabel="Releasing…" testId="confirm-force-release">
            Force release
          </IntentButton>
        </div>
      </ActionForm>
    </Disclosure>
  );
}

function LeaseActions({ lock, lease, me, held }: { lock: LockRow; lease: LockLeaseView; me: LocksPage['me']; held: boolean }) {
  const mine = lease.holder.kind === 'user' && lease.holder.id === me.id;
  // A viewer starts and stops nothing, not even a lease they took before being made one: the API refuses it.
  if (me.role === 'viewer') return null;
  const hidden = { hostId: lock.hostId, leaseId: lease.leaseId };
  if (!mine) return held && me.role === 'admin' ? <ForceRelease lock={lock} /> : null;
  return (
    <ActionForm hidden={hidden} className="inline-flex flex-wrap justify-end gap-1">
      {held && lease.extensions < lease.maxExtensions ? (
        <IntentButton intent="extend" match={hidden} variant="secondary" size="xs" busyLabel="Extending…" testId="lock-extend">
          Extend {Math.round(lease.ttlSeconds / 60)} min
        </IntentButton>
      ) : null}
      <IntentButton intent="release" match={hidden} variant="secondary" size="xs" busyLabel={held ? 'Releasing…' : 'Withdrawing…'} testId="lock-release">
        {held ? 'Release' : 'Withdraw'}
      </IntentButton>
    </ActionForm>
  );
}

function LockTable({ locks, me, now }: { locks: LockRow[]; me: LocksPage['me']; now: number }) {
  return (
    <Table testId="lock-list">
      <TableHead>
        <Th>Host</Th>
        <Th>Type</Th>
        <Th>Holder</Th>
        <Th>Reason</Th>
        <Th>Acquired (UTC)</Th>
        <Th>Expires</Th>
        <Th title="Extensions taken, of those allowed">Extended</Th>
        <Th hidden>Actions</Th>
      </TableHead>
      {locks.map((lock) => (
        <TableBody key={lock.hostId} className="border-b border-slate-200 last:border-0" data-testid="lock-row" data-host-id={lock.hostId}>
          <tr className="align-top">
            <Td>
              <Link to={`/hosts/${encodeURIComponent(lock.hostId)}`} className="font-medium text-blue-700 hover:underline">
                {lock.hostName}
              </Link>
            </Td>
            {lock.holder ? (
              <>
                <Td>
                  <TypeBadge type={lock.holder.type} />
                </Td>
                <Td testId="lock-holder">
                  <Holder lease={lock.holder} />
                </Td>
                <Td testId="lock-reason" className="text-slate-700">
                  {lock.holder.reason}
                </Td>
                <Td mono nowrap>
                  {formatDateTime(lock.holder.acquiredAt)}
                </Td>
                <Td testId="lock-expires" className="text-xs">
                  <Expiry iso={lock.holder.expiresAt} now={now} />
                </Td>
                <Td numeric className="text-xs">
                  {lock.holder.extensions} / {lock.holder.maxExtensions}
                </Td>
                <Td align="right">
                  <LeaseActions lock={lock} lease={lock.holder} me={me} held />
                </Td>
              </>
            ) : (
              <Td colSpan={7} className="text-slate-500">
                Free: the first waiter is being granted the lock.
              </Td>
            )}
          </tr>
          {lock.queue.map((w) => (
            <tr key={w.leaseId} className="bg-slate-50 align-top text-xs text-slate-700" data-testid="lock-waiter">
              <Td nowrap className="pl-6 text-slate-500">
                waiting #{w.position}
              </Td>
              <Td>
                <TypeBadge type={w.type} />
                {w.priority !== 0 ? <span className="ml-1 text-slate-500">priority {w.priority}</span> : null}
              </Td>
              <Td>
                <Holder lease={w} />
              </Td>
              <Td>{w.reason}</Td>
              <Td mono nowrap title="Asked at">
                asked {formatDateTime(w.requestedAt)}
              </Td>
              <Td colSpan={2}>holds it for {Math.round(w.ttlSeconds / 60)} min once granted</Td>
              <Td align="right">
                <LeaseActions lock={lock} lease={w} me={me} held={false} />
              </Td>
            </tr>
          ))}
        </TableBody>
      ))}
    </Table>
  );
}

function TakeLock({ page, errors: serverErrors, values }: { page: LocksPage; errors: FieldErrors; values: Record<string, string> | null }) {
  const { errors, onSubmit, onChange } = useCheckedForm({ check: checkAcquire, serverErrors, intents: ['acquire'] });
  const admin = page.me.role === 'admin';
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="grid gap-3 sm:grid-cols-6" data-testid="lock-form">
      <Field name="hostId" id="lock-hostId" label="Host" messages={errors.hostId} className="sm:col-span-2">
        {(props) => (
          <select {...props} defaultValue={values?.hostId ?? page.filters.host}>
            <option value="">choose…</option>
            {page.hosts.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
                {h.status === 'maintenance' ? ' (in maintenance)' : ''}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field name="type" id="lock-type" label="Type" messages={errors.type}>
        {(props) => (
          <select {...props} defaultValue={values?.type ?? 'execution'}>
            {LOCK_TYPES.map((t) => (
              <option key={t} value={t} disabled={t !== 'execution' && !admin}>
                {t}
                {t !== 'execution' && !admin ? ' (admins)' : ''}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field name="ttlMinutes" id="lock-ttlMinutes" label="For (minutes)" messages={errors.ttlMinutes}>
        {(props) => <input {...props} type="number" min={1} max={10_080} defaultValue={values?.ttlMinutes ?? '60'} />}
      </Field>
      <Field name="priority" id="lock-priority" label="Priority" messages={errors.priority}>
        {(props) => <input {...props} type="number" min={-100} max={100} defaultValue={values?.priority ?? '0'} />}
      </Field>
      <Field name="wait" id="lock-wait" label="Queue if it is taken" layout="inline" className="self-end pb-1.5">
        {(props) => <input {...props} type="checkbox" defaultChecked={values ? values.wait === 'on' : true} />}
      </Field>
      <Field name="reason" id="lock-reason" label="Reason" messages={errors.reason} className="sm:col-span-5">
        {(props) => <input {...props} defaultValue={values?.reason ?? ''} maxLength={500} placeholder="kernel upgrade, failover drill, …" />}
      </Field>
      <div className="self-end">
        <IntentButton intent="acquire" busyLabel="Taking…" testId="take-lock" className="w-full">
          Take the lock
        </IntentButton>
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
  const { filters, me, now } = page;
  const locks = withoutEndedLeases(page.locks, new Set(actionData?.ok && actionData.ended ? [actionData.ended] : []));
  // Leases expire and queues move on their own; keep the page honest.
  useRevalidateWhile(true, 5_000);
  const failedAcquire = actionData?.intent === 'acquire' && !actionData.ok ? actionData : undefined;
  const filtered = filters.host !== '' || filters.type !== '';
  return (
    <div className="space-y-5">
      <PageHeader
        title="Locks"
        note={
          <>
            Hosts someone holds or waits for. Runs whose manifest says <code className="font-mono">requires_lock</code> take their host's lock and always give it back.
          </>
        }
      />

      <OutcomeNotice outcome={actionData} testId="lock-message" />

      <FilterBar key={JSON.stringify(filters)} action="/locks" filtered={filtered} testId="lock-filters">
        <FilterSelect label="Host" name="host" value={filters.host} anyLabel="any" options={page.hosts.map((h) => [h.id, h.name])} />
        <FilterSelect label="Type" name="type" value={filters.type} anyLabel="any" options={LOCK_TYPES.map((t) => [t, t])} />
      </FilterBar>

      {locks.length === 0 ? (
        <EmptyState testId="no-locks">{filtered ? 'No lock matches these filters.' : 'No host is locked and nobody waits.'}</EmptyState>
      ) : (
        <LockTable locks={locks} me={me} now={now} />
      )}

      <Panel title="Take a lock">
        <TakeLock page={page} errors={failedAcquire?.fields ?? {}} values={failedAcquire?.values ?? null} />
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
