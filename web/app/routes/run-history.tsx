import type { FormEvent } from 'react';
import { Form, Link, useSearchParams, useSubmit } from 'react-router';
import type { Route } from './+types/run-history';
import { RouteError } from '../components/route-error.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatDateTime, formatDuration } from '../lib/format.ts';
import { RUN_STATUSES } from '../lib/run-status.ts';
import { loadRunHistory, type RunHistory } from './run-history.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Runs · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return loadRunHistory(request);
}

const fieldClass = 'rounded border border-slate-300 bg-white px-2 py-1 text-sm shadow-xs focus:border-slate-500 focus:outline-none';

/** The current URL with some parameters changed; a page link never carries the cursor over unless asked. */
function useRunsHref(changes: Record<string, string | null>): string {
  const [params] = useSearchParams();
  const next = new URLSearchParams(params);
  next.delete('cursor');
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  const query = next.toString();
  return query ? `/runs?${query}` : '/runs';
}

function SortHeader({ column, label, history }: { column: RunHistory['sort']; label: string; history: RunHistory }) {
  const current = history.sort === column;
  const order = current && history.order === 'desc' ? 'asc' : 'desc';
  const href = useRunsHref({ sort: column, order });
  return (
    <th className="px-3 py-2 font-medium" aria-sort={current ? (history.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <Link to={href} className="inline-flex items-center gap-1 hover:text-slate-900" data-sort={column}>
        {label}
        <span aria-hidden className={current ? 'text-slate-900' : 'text-slate-400'}>
          {current ? (history.order === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </Link>
    </th>
  );
}

function Filters({ history }: { history: RunHistory }) {
  const { filters, suggestions } = history;
  const submit = useSubmit();
  // Without JS the browser sends every field; with it, empty filters stay out of the URL.
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(event.currentTarget)) if (typeof value === 'string' && value !== '') params.set(name, value);
    void submit(params, { method: 'get', action: '/runs' });
  }
  return (
    <Form method="get" key={JSON.stringify(filters)} onSubmit={onSubmit} className="mb-3 flex flex-wrap items-end gap-2 rounded border border-slate-200 bg-white px-3 py-2" data-testid="run-filters">
      {history.sort !== 'created_at' ? <input type="hidden" name="sort" value={history.sort} /> : null}
      {history.order !== 'desc' ? <input type="hidden" name="order" value={history.order} /> : null}
      <label className="flex flex-col text-xs text-slate-600">
        Script
        <input name="script" list="script-ids" defaultValue={filters.script} placeholder="any" className={`${fieldClass} w-40`} />
      </label>
      <datalist id="script-ids">
        {suggestions.scripts.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </datalist>
      <label className="flex flex-col text-xs text-slate-600">
        Host
        <input name="host" list="host-ids" defaultValue={filters.host} placeholder="any" className={`${fieldClass} w-32`} />
      </label>
      <datalist id="host-ids">
        {suggestions.hosts.map((h) => (
          <option key={h} value={h} />
        ))}
      </datalist>
      <label className="flex flex-col text-xs text-slate-600">
        Status
        <select name="status" defaultValue={filters.status} className={fieldClass}>
          <option value="">any</option>
          {RUN_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col text-xs text-slate-600">
        Initiator
        <input name="initiator" defaultValue={filters.initiator} placeholder="anyone" className={`${fieldClass} w-36`} />
      </label>
      <label className="flex flex-col text-xs text-slate-600">
        From (UTC)
        <input type="datetime-local" name="from" defaultValue={filters.from} className={fieldClass} />
      </label>
      <label className="flex flex-col text-xs text-slate-600">
        To (UTC)
        <input type="datetime-local" name="to" defaultValue={filters.to} className={fieldClass} />
      </label>
      <button type="submit" className="rounded bg-slate-800 px-3 py-1 text-sm text-white hover:bg-slate-700">
        Apply
      </button>
      <Link to="/runs" className="px-1 py-1 text-sm text-slate-600 underline">
        Reset
      </Link>
    </Form>
  );
}

function Pager({ history }: { history: RunHistory }) {
  const chronological = history.sort === 'created_at' && history.order === 'desc';
  const first = useRunsHref({});
  const next = useRunsHref({ cursor: history.nextCursor });
  return (
    <nav className="mt-3 flex items-center justify-between text-sm" aria-label="Pages">
      <span className="text-slate-500">
        {history.runs.length} shown of <span data-testid="runs-total">{history.total}</span>
      </span>
      <span className="flex gap-4">
        {history.cursor ? (
          <Link to={first} className="text-blue-700 hover:underline" data-testid="page-first">
            {chronological ? 'Newest' : 'First page'}
          </Link>
        ) : null}
        {history.nextCursor ? (
          <Link to={next} className="text-blue-700 hover:underline" data-testid="page-next">
            {chronological ? 'Older →' : 'Next →'}
          </Link>
        ) : null}
      </span>
    </nav>
  );
}

export default function RunHistoryPage({ loaderData: history }: Route.ComponentProps) {
  return (
    <div>
      <div className="mb-3 flex items-baseline justify-between">
        <h1 className="text-lg font-semibold">Runs</h1>
        <p className="text-xs text-slate-500">
          {history.total} {history.total === 1 ? 'run matches' : 'runs match'} · times in UTC
        </p>
      </div>

      <Filters history={history} />

      {history.problem ? (
        <p role="alert" className="mb-3 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          {history.problem}
        </p>
      ) : null}

      <div className="overflow-x-auto rounded border border-slate-200 bg-white">
        <table className="w-full text-left text-sm" data-testid="run-table">
          <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
            <tr>
              <SortHeader column="created_at" label="Started" history={history} />
              <th className="px-3 py-2 font-medium">Script</th>
              <th className="px-3 py-2 font-medium">Host</th>
              <th className="px-3 py-2 font-medium">Status</th>
              <th className="px-3 py-2 font-medium">Initiator</th>
              <SortHeader column="duration_ms" label="Duration" history={history} />
              <th className="px-3 py-2 text-right font-medium">Exit</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {history.runs.length === 0 ? (
              <tr>
                <td colSpan={7} className="px-3 py-8 text-center text-slate-500">
                  No runs match these filters.
                </td>
              </tr>
            ) : (
              history.runs.map((run) => {
                const href = `/runs/${encodeURIComponent(run.id)}`;
                return (
                  <tr key={run.id} data-testid="run-row" data-run-id={run.id} className="hover:bg-slate-50">
                    <td className="px-3 py-1.5 font-mono text-xs whitespace-nowrap">
                      <Link to={href} className="text-blue-700 hover:underline" title={`created ${formatDateTime(run.createdAt)} UTC`}>
                        {run.startedAt ? formatDateTime(run.startedAt) : `${formatDateTime(run.createdAt)} (queued)`}
                      </Link>
                    </td>
                    <td className="px-3 py-1.5">
                      <Link to={href} className="hover:underline">
                        {run.scriptName}
                      </Link>
                    </td>
                    <td className="px-3 py-1.5 font-mono text-xs">{run.hostId}</td>
                    <td className="px-3 py-1.5">
                      <StatusBadge status={run.status} />
                    </td>
                    <td className="px-3 py-1.5">{run.initiator.name}</td>
                    <td className="px-3 py-1.5 whitespace-nowrap tabular-nums">{formatDuration(run.durationMs)}</td>
                    <td className="px-3 py-1.5 text-right font-mono text-xs">{run.exitCode ?? '—'}</td>
                  </tr>
                );
              })
            )}
          </tbody>
        </table>
      </div>

      <Pager history={history} />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
