import { Link } from 'react-router';
import type { Route } from './+types/actions';
import { NotRunnableBadge } from '../components/entry-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { getFromApi } from '../lib/api.server.ts';
import type { ActionView } from '../lib/api-views.ts';
import { formatDateTime } from '../lib/format.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Actions · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const { actions } = await getFromApi<{ actions: ActionView[] }>(request, '/api/v1/actions');
  return { actions };
}

export default function ActionsPage({ loaderData }: Route.ComponentProps) {
  const { actions } = loaderData;
  return (
    <div>
      <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-lg font-semibold">Actions</h1>
          <p className="text-xs text-slate-500">Command templates edited here, run like scripts. Times in UTC.</p>
        </div>
        <Link to="/actions/new" data-testid="new-action" className="rounded bg-blue-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-600">
          New action
        </Link>
      </div>
      {actions.length === 0 ? (
        <p className="rounded border border-dashed border-slate-300 bg-white px-4 py-8 text-center text-sm text-slate-500">
          No actions yet. An action runs one command with its parameters filled in, on hosts you choose.
        </p>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left text-sm" data-testid="action-list">
            <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-3 py-2 font-medium">Name</th>
                <th className="px-3 py-2 font-medium">Command</th>
                <th className="px-3 py-2 font-medium">Runner</th>
                <th className="px-3 py-2 font-medium">Category</th>
                <th className="px-3 py-2 text-right font-medium">Revision</th>
                <th className="px-3 py-2 font-medium">Updated</th>
                <th className="px-3 py-2 text-right font-medium">Runs</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {actions.map((a) => (
                <tr key={a.id} data-testid="action-row" data-action-id={a.id} className="align-top hover:bg-slate-50">
                  <td className="px-3 py-2">
                    <div className="flex flex-wrap items-center gap-1.5">
                      <Link to={`/actions/${encodeURIComponent(a.id)}`} className="font-medium text-blue-700 hover:underline">
                        {a.name}
                      </Link>
                      {a.runnable ? null : <NotRunnableBadge reason={a.notRunnableReason} />}
                    </div>
                    <div className="font-mono text-xs text-slate-500">{a.id}</div>
                    {a.description ? <div className="mt-0.5 max-w-sm text-xs text-slate-600">{a.description}</div> : null}
                  </td>
                  <td className="max-w-md px-3 py-2">
                    <code className="font-mono text-xs break-all text-slate-800">{a.commandTemplate}</code>
                  </td>
                  <td className="px-3 py-2 font-mono text-xs">{a.runner}</td>
                  <td className="px-3 py-2 whitespace-nowrap">{a.category}</td>
                  <td className="px-3 py-2 text-right tabular-nums">{a.revision}</td>
                  <td className="px-3 py-2 text-xs whitespace-nowrap">
                    <span className="font-mono">{formatDateTime(a.updatedAt)}</span>
                    <div className="text-slate-500">created by {a.createdBy}</div>
                  </td>
                  <td className="px-3 py-2 text-right tabular-nums">{a.usageCount}</td>
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
