import { Link, useSearchParams } from 'react-router';
import type { Route } from './+types/run-history';
import { RouteError } from '../components/route-error.tsx';
import { RunStatusBadge } from '../components/status-badge.tsx';
import { humanLabel } from '../components/ui/badge.tsx';
import { FilterBar, FilterInput, FilterSelect } from '../components/ui/filter-bar.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Pagination } from '../components/ui/pagination.tsx';
import { DataTable, Th, type Column } from '../components/ui/table.tsx';
import type { RunView } from '@drydock/core/api-schemas';
import { formatDateTime, formatDuration } from '../lib/format.ts';
import { RUN_STATUSES } from '../lib/run-status.ts';
import { loadRunHistory, type RunHistory } from './run-history.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Runs · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return loadRunHistory(request);
}

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
    <Th sort={current ? (history.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <Link to={href} className="inline-flex items-center gap-1 hover:text-slate-900" data-sort={column}>
        {label}
        <span aria-hidden className={current ? 'text-slate-900' : 'text-slate-400'}>
          {current ? (history.order === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </Link>
    </Th>
  );
}

function Filters({ history }: { history: RunHistory }) {
  const { filters, suggestions } = history;
  const filtered = Object.values(filters).some((v) => v !== '');
  return (
    <FilterBar key={JSON.stringify(filters)} action="/runs" filtered={filtered} testId="run-filters">
      {history.sort !== 'created_at' ? <input type="hidden" name="sort" value={history.sort} /> : null}
      {history.order !== 'desc' ? <input type="hidden" name="order" value={history.order} /> : null}
      <FilterInput label="Script" name="script" list="script-ids" defaultValue={filters.script} placeholder="any" className="w-40" />
      <datalist id="script-ids">
        {suggestions.scripts.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </datalist>
      <FilterInput label="Host" name="host" list="host-ids" defaultValue={filters.host} placeholder="any" className="w-32" />
      <datalist id="host-ids">
        {suggestions.hosts.map((h) => (
          <option key={h} value={h} />
        ))}
      </datalist>
      <FilterSelect label="Status" name="status" value={filters.status} anyLabel="any" options={RUN_STATUSES.map((s) => [s, humanLabel(s)])} />
      <FilterInput label="Initiator" name="initiator" defaultValue={filters.initiator} placeholder="anyone" className="w-36" />
      <FilterInput label="From (UTC)" type="datetime-local" name="from" defaultValue={filters.from} />
      <FilterInput label="To (UTC)" type="datetime-local" name="to" defaultValue={filters.to} />
    </FilterBar>
  );
}

function columns(history: RunHistory): Column<RunView>[] {
  const href = (run: RunView) => `/runs/${encodeURIComponent(run.id)}`;
  return [
    {
      key: 'started',
      header: 'Started',
      th: <SortHeader column="created_at" label="Started" history={history} />,
      mono: true,
      nowrap: true,
      cell: (run) => (
        <Link to={href(run)} className="text-blue-700 hover:underline" title={`created ${formatDateTime(run.createdAt)} UTC`}>
          {run.startedAt ? formatDateTime(run.startedAt) : `${formatDateTime(run.createdAt)} (queued)`}
        </Link>
      ),
    },
    {
      key: 'script',
      header: 'Script',
      cell: (run) => (
        <Link to={href(run)} className="hover:underline">
          {run.scriptName}
        </Link>
      ),
    },
    { key: 'host', header: 'Host', mono: true, cell: (run) => run.hostId },
    { key: 'status', header: 'Status', cell: (run) => <RunStatusBadge status={run.status} /> },
    { key: 'initiator', header: 'Initiator', cell: (run) => run.initiator.name },
    { key: 'duration', header: 'Duration', th: <SortHeader column="duration_ms" label="Duration" history={history} />, nowrap: true, className: 'tabular-nums', cell: (run) => formatDuration(run.durationMs) },
    { key: 'exit', header: 'Exit', numeric: true, mono: true, cell: (run) => run.exitCode ?? '—' },
  ];
}

function Pager({ history }: { history: RunHistory }) {
  const chronological = history.sort === 'created_at' && history.order === 'desc';
  const first = useRunsHref({});
  const next = useRunsHref({ cursor: history.nextCursor });
  return (
    <Pagination
      summary={
        <>
          {history.runs.length} shown of <span data-testid="runs-total">{history.total}</span>
        </>
      }
      links={[
        history.cursor ? { to: first, label: chronological ? 'Newest' : 'First page', testId: 'page-first' } : null,
        history.nextCursor ? { to: next, label: chronological ? 'Older →' : 'Next →', testId: 'page-next' } : null,
      ]}
    />
  );
}

export default function RunHistoryPage({ loaderData: history }: Route.ComponentProps) {
  return (
    <div className="space-y-3">
      <PageHeader title="Runs" note={`${history.total} ${history.total === 1 ? 'run matches' : 'runs match'} · times in UTC`} />
      <Filters history={history} />
      {history.problem ? (
        <Notice tone="warning" role="alert">
          {history.problem}
        </Notice>
      ) : null}
      <DataTable
        rows={history.runs}
        columns={columns(history)}
        rowKey={(run) => run.id}
        row={(run) => ({ 'data-testid': 'run-row', 'data-run-id': run.id })}
        density="dense"
        testId="run-table"
        empty="No runs match these filters."
      />
      <Pager history={history} />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
