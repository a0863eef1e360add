import type { Route } from './+types/repositories';
import { RouteError } from '../components/route-error.tsx';
import { SyncStatusBadge } from '../components/status-badge.tsx';
import { ShortSha } from '../components/short-sha.tsx';
import { SyncButton } from '../components/sync-button.tsx';
import { ButtonLink } from '../components/ui/button.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { DataTable, RowLink, type Column } from '../components/ui/table.tsx';
import type { RepositoryView } from '@drydock/core/api-schemas';
import { formatDateTime } from '../lib/format.ts';
import { useRevalidateWhile } from '../lib/polling.ts';
import { loadRepositories, syncRepository } from '../lib/repositories.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Repositories · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return { repositories: await loadRepositories(request) };
}

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  return syncRepository(request, String(form.get('repositoryId') ?? ''));
}

const COLUMNS: Column<RepositoryView>[] = [
  { key: 'name', header: 'Repository', cell: (r) => <RowLink to={`/repositories/${encodeURIComponent(r.id)}`} id={r.id}>{r.name}</RowLink> },
  {
    key: 'source',
    header: 'Source',
    className: 'max-w-xs text-xs',
    cell: (r) => (
      <>
        <div className="font-mono break-all">{r.url}</div>
        <div className="text-slate-500">
          {r.kind === 'git' ? (
            <>
              branch <span className="font-mono">{r.branch}</span>
            </>
          ) : (
            'directory'
          )}
          {r.path ? (
            <>
              {' '}
              · path <span className="font-mono">{r.path}</span>
            </>
          ) : null}
        </div>
      </>
    ),
  },
  {
    key: 'status',
    header: 'Status',
    cell: (r) => (
      <>
        <SyncStatusBadge status={r.status} testId="repository-status" />
        {r.lastSyncError ? (
          <p className="mt-1 max-w-xs text-xs break-words text-red-700" data-testid="repository-error">
            {r.lastSyncError}
          </p>
        ) : null}
      </>
    ),
  },
  { key: 'head', header: 'Head', mono: true, testId: 'repository-head', cell: (r) => <ShortSha sha={r.head} /> },
  { key: 'synced', header: 'Last sync', mono: true, nowrap: true, cell: (r) => formatDateTime(r.lastSyncAt) },
  { key: 'scripts', header: 'Scripts', numeric: true, testId: 'repository-scripts', cell: (r) => r.scriptCount },
  {
    key: 'problems',
    header: 'Problems',
    numeric: true,
    testId: 'repository-problems',
    cell: (r) => (r.problemCount > 0 ? <span className="font-medium text-amber-800">{r.problemCount}</span> : r.problemCount),
  },
  { key: 'sync', header: 'Sync', hidden: true, align: 'right', cell: (r) => <SyncButton repositoryId={r.id} syncing={r.status === 'syncing'} /> },
];

export default function RepositoriesPage({ loaderData, actionData }: Route.ComponentProps) {
  const { repositories } = loaderData;
  useRevalidateWhile(repositories.some((r) => r.status === 'syncing' || r.status === 'new'));
  return (
    <div className="space-y-4">
      <PageHeader
        title="Repositories"
        note="Git repositories the catalog reads its scripts from. Times in UTC."
        actions={
          <>
            <ButtonLink to="/credentials">Credentials</ButtonLink>
            <ButtonLink to="/repositories/new" variant="primary" testId="new-repository">
              Add repository
            </ButtonLink>
          </>
        }
      />
      {actionData ? (
        <Notice tone={actionData.ok ? 'neutral' : 'error'}>
          <span className="font-mono">{actionData.repositoryId}</span>: {actionData.message}
        </Notice>
      ) : null}
      <DataTable
        rows={repositories}
        columns={COLUMNS}
        rowKey={(r) => r.id}
        row={(r) => ({ 'data-testid': 'repository-row', 'data-repository-id': r.id })}
        testId="repository-list"
        empty="No repository yet. Add one and its manifests/ folder becomes part of the catalog."
      />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
