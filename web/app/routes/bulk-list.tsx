import { Link } from 'react-router';
import type { Route } from './+types/bulk-list';
import { BulkStatusBadge, HOST_STATE_TONES } from '../components/bulk-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { getFromApi } from '../lib/api.server.ts';
import type { BulkView } from '../lib/api-views.ts';
import { describeSelector, isFinalBulk } from '../lib/bulk-view.ts';
import { formatDateTime, formatDuration } from '../lib/format.ts';
import { useRevalidateWhile } from '../lib/polling.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Bulk runs · Drydock' }];

const LIMIT = 50;

export async function loader({ request }: Route.LoaderArgs) {
  const { executions } = await getFromApi<{ executions: BulkView[] }>(request, `/api/v1/bulk?limit=${LIMIT}`);
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

export default function BulkListPage({ loaderData }: Route.ComponentProps) {
  const { executions } = loaderData;
  useRevalidateWhile(executions.some((e) => !isFinalBulk(e.status)), 2_000);
  return (
    <div>
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-lg font-semibold">Bulk runs</h1>
        <p className="text-xs text-slate-500">
          {executions.length === LIMIT ? `the newest ${LIMIT}` : `${executions.length} ${executions.length === 1 ? 'execution' : 'executions'}`} · times in UTC · start one from a script or action
          page with “Run on many hosts”
        </p>
      </div>
      {executions.length === 0 ? (
        <p className="rounded border border-dashed border-slate-300 bg-white px-4 py-8 text-center text-sm text-slate-500">
          No bulk execution yet. Open a script in the{' '}
          <Link to="/" className="text-blue-700 underline">
            catalog
          </Link>{' '}
          and choose “Run on many hosts”.
        </p>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left text-sm" data-testid="bulk-table">
            <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-3 py-2 font-medium">Created</th>
                <th className="px-3 py-2 font-medium">Script</th>
                <th className="px-3 py-2 font-medium">Status</th>
                <th className="px-3 py-2 font-medium">Hosts</th>
                <th className="px-3 py-2 font-medium">Initiator</th>
                <th className="px-3 py-2 font-medium">Duration</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {executions.map((e) => {
                const href = `/bulk/${encodeURIComponent(e.id)}`;
                return (
                  <tr key={e.id} data-testid="bulk-row" data-bulk-id={e.id} data-status={e.status} className="align-top hover:bg-slate-50">
                    <td className="px-3 py-1.5 font-mono text-xs whitespace-nowrap">
                      <Link to={href} className="text-blue-700 hover:underline">
                        {formatDateTime(e.createdAt)}
                      </Link>
                    </td>
                    <td className="px-3 py-1.5">
                      <Link to={href} className="hover:underline">
                        {e.scriptName}
                      </Link>
                      <div className="text-xs text-slate-500">
                        {describeSelector(e.selector)}
                        {e.rerunOf ? ' · re-run of failed hosts' : ''}
                      </div>
                    </td>
                    <td className="px-3 py-1.5">
                      <BulkStatusBadge status={e.status} />
                    </td>
                    <td className="px-3 py-1.5">
                      <Counts bulk={e} />
                    </td>
                    <td className="px-3 py-1.5">{e.initiator.name}</td>
                    <td className="px-3 py-1.5 whitespace-nowrap tabular-nums">
                      {formatDuration(e.elapsedMs)}
                      {isFinalBulk(e.status) ? '' : ' so far'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
