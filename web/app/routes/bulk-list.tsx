import { Link } from 'react-router';
import type { Route } from './+types/bulk-list';
import { HOST_STATE_TONES } from '../components/bulk-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { BulkStatusBadge } from '../components/status-badge.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { DataTable, type Column } from '../components/ui/table.tsx';
import type { BulkView } from '@drydock/core/api-schemas';
import { answer, api } from '../lib/api.server.ts';
import { describeSelector, isFinalBulk } from '../lib/bulk-view.ts';
import { formatDateTime, formatDuration } from '../lib/format.ts';
import { useRevalidateWhile } from '../lib/polling.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Bulk runs · Drydock' }];

const LIMIT = 50;

export async function loader({ request }: Route.LoaderArgs) {
  const { executions } = await answer(api(request).bulk.$get({ query: { limit: LIMIT } }));
  return { executions };
}

/** Succeeded, failed and the rest as one thin bar, with the numbers beside it. */
function Counts({ bulk }: { bulk: BulkView }) {
  const { counts, total } = bulk;
  const others = total - counts.succeeded - counts.failed;
  const width = (n: number) => `${(n / Math.max(total, 1)) * 100}%`;
  return (
    <div className="min-w-40" title={`${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.running} running, ${counts.pending} pending, ${counts.skipped} skipped, ${counts.cancelled} cancelled`}>
      <div aria-hidden className="flex h-1.5 overflow-hidden rounded bg-slate-100">
        <div className={HOST_STATE_TONES.succeeded.swatch} style={{ width: width(counts.succeeded) }} />
        <div className={HOST_STATE_TONES.failed.swatch} style={{ width: width(counts.failed) }} />
        <div className={HOST_STATE_TONES.running.swatch} style={{ width: width(counts.running + counts.waiting_for_lock) }} />
      </div>
      <p className="mt-0.5 text-xs tabular-nums" data-testid="bulk-row-counts">
        <span className="text-emerald-700">{counts.succeeded} ok</span>
        {' · '}
        <span className={counts.failed > 0 ? 'text-red-700' : 'text-slate-500'}>{counts.failed} failed</span>
        {' · '}
        <span className="text-slate-500">{others} other</span>
        {' · '}
        <span className="text-slate-700">{total} hosts</span>
      </p>
    </div>
  );
}

const COLUMNS: Column<BulkView>[] = [
  {
    key: 'created',
    header: 'Created',
    mono: true,
    nowrap: true,
    cell: (e) => (
      <Link to={`/bulk/${encodeURIComponent(e.id)}`} className="text-blue-700 hover:underline">
        {formatDateTime(e.createdAt)}
      </Link>
    ),
  },
  {
    key: 'script',
    header: 'Script',
    cell: (e) => (
      <>
        <Link to={`/bulk/${encodeURIComponent(e.id)}`} className="hover:underline">
          {e.scriptName}
        </Link>
        <div className="text-xs text-slate-500">
          {describeSelector(e.selector)}
          {e.rerunOf ? ' · re-run of failed hosts' : ''}
        </div>
      </>
    ),
  },
  { key: 'status', header: 'Status', cell: (e) => <BulkStatusBadge status={e.status} /> },
  { key: 'hosts', header: 'Hosts', cell: (e) => <Counts bulk={e} /> },
  { key: 'initiator', header: 'Initiator', cell: (e) => e.initiator.name },
  { key: 'duration', header: 'Duration', nowrap: true, className: 'tabular-nums', cell: (e) => `${formatDuration(e.elapsedMs)}${isFinalBulk(e.status) ? '' : ' so far'}` },
];

export default function BulkListPage({ loaderData }: Route.ComponentProps) {
  const { executions } = loaderData;
  useRevalidateWhile(executions.some((e) => !isFinalBulk(e.status)), 2_000);
  return (
    <div className="space-y-3">
      <PageHeader
        title="Bulk runs"
        note={`${executions.length === LIMIT ? `the newest ${LIMIT}` : `${executions.length} ${executions.length === 1 ? 'execution' : 'executions'}`} · times in UTC · start one from a script or action page with “Run on many hosts”`}
      />
      <DataTable
        rows={executions}
        columns={COLUMNS}
        rowKey={(e) => e.id}
        row={(e) => ({ 'data-testid': 'bulk-row', 'data-bulk-id': e.id, 'data-status': e.status })}
        density="dense"
        testId="bulk-table"
        empty={
          <>
            No bulk execution yet. Open a script in the{' '}
            <Link to="/" className="text-blue-700 underline">
              catalog
            </Link>{' '}
            and choose “Run on many hosts”.
          </>
        }
      />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
