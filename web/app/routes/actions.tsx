import type { Route } from './+types/actions';
import { NotRunnableBadge } from '../components/entry-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { ButtonLink } from '../components/ui/button.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { DataTable, RowLink, type Column } from '../components/ui/table.tsx';
import type { ActionView } from '@drydock/core/api-schemas';
import { answer, api } from '../lib/api.server.ts';
import { formatDateTime } from '../lib/format.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Actions · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const { actions } = await answer(api(request).actions.$get());
  return { actions };
}

const COLUMNS: Column<ActionView>[] = [
  {
    key: 'name',
    header: 'Name',
    cell: (a) => (
      <>
        <div className="flex flex-wrap items-center gap-1.5">
          <RowLink to={`/actions/${encodeURIComponent(a.id)}`}>{a.name}</RowLink>
          {a.runnable ? null : <NotRunnableBadge reason={a.notRunnableReason} />}
        </div>
        <div className="font-mono text-xs text-slate-500">{a.id}</div>
        {a.description ? <div className="mt-0.5 max-w-sm text-xs text-slate-600">{a.description}</div> : null}
      </>
    ),
  },
  { key: 'command', header: 'Command', className: 'max-w-md', cell: (a) => <code className="font-mono text-xs break-all text-slate-800">{a.commandTemplate}</code> },
  { key: 'runner', header: 'Runner', mono: true, cell: (a) => a.runner },
  { key: 'category', header: 'Category', nowrap: true, cell: (a) => a.category },
  { key: 'revision', header: 'Revision', numeric: true, cell: (a) => a.revision },
  {
    key: 'updated',
    header: 'Updated',
    nowrap: true,
    className: 'text-xs',
    cell: (a) => (
      <>
        <span className="font-mono">{formatDateTime(a.updatedAt)}</span>
        <div className="text-slate-500">created by {a.createdBy}</div>
      </>
    ),
  },
  { key: 'runs', header: 'Runs', numeric: true, cell: (a) => a.usageCount },
];

export default function ActionsPage({ loaderData }: Route.ComponentProps) {
  return (
    <div className="space-y-4">
      <PageHeader
        title="Actions"
        note="Command templates edited here, run like scripts. Times in UTC."
        actions={
          <ButtonLink to="/actions/new" variant="primary" testId="new-action">
            New action
          </ButtonLink>
        }
      />
      <DataTable
        rows={loaderData.actions}
        columns={COLUMNS}
        rowKey={(a) => a.id}
        row={(a) => ({ 'data-testid': 'action-row', 'data-action-id': a.id })}
        testId="action-list"
        empty="No actions yet. An action runs one command with its parameters filled in, on hosts you choose."
      />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
