import { useSearchParams } from 'react-router';
import type { Route } from './+types/audit';
import type { AuditRowView } from '@drydock/core/api-schemas';
import { RouteError } from '../components/route-error.tsx';
import { buttonClass } from '../components/ui/button.tsx';
import { FilterBar, FilterInput } from '../components/ui/filter-bar.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Pagination } from '../components/ui/pagination.tsx';
import { type Column, DataTable } from '../components/ui/table.tsx';
import { formatDateTime } from '../lib/format.ts';
import { type AuditTrail, loadAuditTrail } from './audit.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Audit · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return loadAuditTrail(request);
}

/** The current URL with some parameters changed; the cursor and the chain check never carry over unless asked. */
function useAuditHref(changes: Record<string, string | null>): string {
  const [params] = useSearchParams();
  const next = new URLSearchParams(params);
  next.delete('cursor');
  next.delete('verify');
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  const query = next.toString();
  return query ? `/audit?${query}` : '/audit';
}

const COLUMNS: Column<AuditRowView>[] = [
  { key: 'at', header: 'Time (UTC)', mono: true, nowrap: true, cell: (r) => formatDateTime(r.at) },
  { key: 'actor', header: 'Actor', cell: (r) => <span title={r.actor.id ?? undefined}>{r.actor.name}</span> },
  { key: 'action', header: 'Action', mono: true, cell: (r) => r.action },
  { key: 'target', header: 'Target', mono: true, cell: (r) => r.target ?? '—' },
  { key: 'result', header: 'Result', numeric: true, mono: true, cell: (r) => r.result },
  { key: 'source', header: 'Source', mono: true, cell: (r) => <span title={r.userAgent ?? undefined}>{r.sourceIp ?? '—'}</span> },
  { key: 'request', header: 'Request', mono: true, cell: (r) => <span title={r.requestId ?? undefined}>{r.requestId ? r.requestId.slice(0, 8) : '—'}</span> },
  { key: 'seq', header: '#', numeric: true, mono: true, title: "The row's number in the team's hash chain", cell: (r) => r.seq },
];

function ChainNotice({ chain }: { chain: NonNullable<AuditTrail['chain']> }) {
  const team = chain.teams[0];
  if (chain.ok) {
    return (
      <Notice tone="success" testId="audit-chain">
        The chain holds: {team?.rows ?? 0} rows checked{team?.head ? `, last #${team.head.seq} ${team.head.hash.slice(0, 16)}…` : ''}.
      </Notice>
    );
  }
  return (
    <Notice tone="error" role="alert" testId="audit-chain">
      The chain is broken: {team?.firstBreak?.message}
    </Notice>
  );
}

export default function AuditPage({ loaderData: trail }: Route.ComponentProps) {
  const { filters } = trail;
  const filtered = Object.values(filters).some((v) => v !== '');
  const download = (format: 'csv' | 'json') => `/api/v1/audit/export.${format}${trail.exportQuery ? `?${trail.exportQuery}` : ''}`;
  const verifyHref = useAuditHref({ verify: '1' });
  const first = useAuditHref({});
  const next = useAuditHref({ cursor: trail.nextCursor });
  return (
    <div className="space-y-3">
      <PageHeader
        title="Audit"
        note="Who did what, where and when · newest first · times in UTC"
        actions={
          <span className="flex gap-2">
            <a href={download('csv')} className={buttonClass('secondary', 'sm')} data-testid="audit-export-csv" download>
              Export CSV
            </a>
            <a href={download('json')} className={buttonClass('secondary', 'sm')} data-testid="audit-export-json" download>
              Export JSON
            </a>
            <a href={verifyHref} className={buttonClass('secondary', 'sm')} data-testid="audit-verify">
              Check the chain
            </a>
          </span>
        }
      />
      <FilterBar key={JSON.stringify(filters)} action="/audit" filtered={filtered} testId="audit-filters">
        <FilterInput label="Actor" name="actor" defaultValue={filters.actor} placeholder="anyone" className="w-44" />
        <FilterInput label="Action" name="action" defaultValue={filters.action} placeholder="any (run.* for a prefix)" className="w-48" />
        <FilterInput label="Target" name="target" defaultValue={filters.target} placeholder="any (host:local)" className="w-40" />
        <FilterInput label="From (UTC)" type="datetime-local" name="from" defaultValue={filters.from} />
        <FilterInput label="To (UTC)" type="datetime-local" name="to" defaultValue={filters.to} />
      </FilterBar>
      {trail.chain ? <ChainNotice chain={trail.chain} /> : null}
      {trail.problem ? (
        <Notice tone="warning" role="alert">
          {trail.problem}
        </Notice>
      ) : null}
      <DataTable
        rows={trail.rows}
        columns={COLUMNS}
        rowKey={(r) => r.id}
        row={(r) => ({ 'data-testid': 'audit-row', 'data-audit-id': r.id })}
        density="dense"
        testId="audit-table"
        empty="No audit rows match these filters."
      />
      <Pagination
        summary={`${trail.rows.length} shown`}
        links={[
          trail.cursor ? { to: first, label: 'Newest', testId: 'page-first' } : null,
          trail.nextCursor ? { to: next, label: 'Older →', testId: 'page-next' } : null,
        ]}
      />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
