import { Link } from 'react-router';
import type { Route } from './+types/repositories';
import { RouteError } from '../components/route-error.tsx';
import { SyncStatusBadge } from '../components/status-badge.tsx';
import { SyncButton } from '../components/sync-button.tsx';
import { formatDateTime, shortVersion } from '../lib/format.ts';
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

export default function RepositoriesPage({ loaderData, actionData }: Route.ComponentProps) {
  const { repositories } = loaderData;
  useRevalidateWhile(repositories.some((r) => r.status === 'syncing' || r.status === 'new'));
  return (
    <div>
      <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-lg font-semibold">Repositories</h1>
          <p className="text-xs text-slate-500">Git repositories the catalog reads its scripts from. Times in UTC.</p>
        </div>
        <div className="flex items-center gap-3">
          <Link to="/credentials" className="text-sm text-blue-700 hover:underline">
            Credentials
          </Link>
          <Link to="/repositories/new" data-testid="new-repository" className="rounded bg-blue-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-600">
            Add repository
          </Link>
        </div>
      </div>

      {actionData ? (
        <p role={actionData.ok ? 'status' : 'alert'} className={`mb-3 rounded border px-3 py-2 text-sm ${actionData.ok ? 'border-slate-200 bg-white text-slate-700' : 'border-red-200 bg-red-50 text-red-800'}`}>
          <span className="font-mono">{actionData.repositoryId}</span>: {actionData.message}
        </p>
      ) : null}

      {repositories.length === 0 ? (
        <p className="rounded border border-dashed border-slate-300 bg-white px-4 py-8 text-center text-sm text-slate-500">
          No repository yet. Add one and its manifests/ folder becomes part of the catalog.
        </p>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left text-sm" data-testid="repository-list">
            <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-3 py-2 font-medium">Repository</th>
                <th className="px-3 py-2 font-medium">Source</th>
                <th className="px-3 py-2 font-medium">Status</th>
                <th className="px-3 py-2 font-medium">Head</th>
                <th className="px-3 py-2 font-medium">Last sync</th>
                <th className="px-3 py-2 text-right font-medium">Scripts</th>
                <th className="px-3 py-2 text-right font-medium">Problems</th>
                <th className="px-3 py-2 font-medium">
                  <span className="sr-only">Sync</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {repositories.map((r) => (
                <tr key={r.id} data-testid="repository-row" data-repository-id={r.id} className="align-top hover:bg-slate-50">
                  <td className="px-3 py-2">
                    <Link to={`/repositories/${encodeURIComponent(r.id)}`} className="font-medium text-blue-700 hover:underline">
                      {r.name}
                    </Link>
                    <div className="font-mono text-xs text-slate-500">{r.id}</div>
                  </td>
                  <td className="max-w-xs px-3 py-2 text-xs">
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
                  </td>
                  <td className="px-3 py-2">
                    <SyncStatusBadge status={r.status} testId="repository-status" />
                    {r.lastSyncError ? (
                      <p className="mt-1 max-w-xs text-xs break-words text-red-700" data-testid="repository-error">
                        {r.lastSyncError}
                      </p>
                    ) : null}
                  </td>
                  <td className="px-3 py-2 font-mono text-xs" data-testid="repository-head">
                    {r.head ? <abbr title={r.head} className="no-underline">{shortVersion(r.head)}</abbr> : '—'}
                  </td>
                  <td className="px-3 py-2 font-mono text-xs whitespace-nowrap">{formatDateTime(r.lastSyncAt)}</td>
                  <td className="px-3 py-2 text-right tabular-nums" data-testid="repository-scripts">
                    {r.scriptCount}
                  </td>
                  <td className={`px-3 py-2 text-right tabular-nums ${r.problemCount > 0 ? 'font-medium text-amber-800' : ''}`} data-testid="repository-problems">
                    {r.problemCount}
                  </td>
                  <td className="px-3 py-2 text-right">
                    <SyncButton repositoryId={r.id} syncing={r.status === 'syncing'} />
                  </td>
                </tr>
              ))}
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
