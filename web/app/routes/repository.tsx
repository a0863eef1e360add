import type { ReactNode } from 'react';
import { Link, data } from 'react-router';
import type { Route } from './+types/repository';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { RepositoryForm } from '../components/repository-form.tsx';
import { RouteError } from '../components/route-error.tsx';
import { SyncStatusBadge } from '../components/status-badge.tsx';
import { SyncButton } from '../components/sync-button.tsx';
import { WebhookSetup } from '../components/webhook-setup.tsx';
import type { RepositoryDetail } from '../lib/api-views.ts';
import { formatDateTime, formatDuration, shortVersion } from '../lib/format.ts';
import { useRevalidateWhile } from '../lib/polling.ts';
import { deleteRepository, loadCredentials, loadRepository, syncRepository, updateRepository } from '../lib/repositories.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `${loaderData?.repository.name ?? 'Repository'} · Drydock` }];

export async function loader({ request, params }: Route.LoaderArgs) {
  const [repository, credentials] = await Promise.all([loadRepository(request, params.id), loadCredentials(request)]);
  return { repository, credentials };
}

export async function action({ request, params }: Route.ActionArgs) {
  const form = await request.formData();
  switch (form.get('_intent')) {
    case 'save':
      return updateRepository(request, params.id, form);
    case 'sync':
      return syncRepository(request, params.id);
    case 'delete':
      return deleteRepository(request, params.id);
    default:
      throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
  }
}

function Fact({ term, children, testId }: { term: string; children: ReactNode; testId?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-slate-500">{term}</dt>
      <dd className="truncate text-sm" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

function SyncHistory({ syncs }: { syncs: RepositoryDetail['syncs'] }) {
  if (syncs.length === 0) return <p className="text-sm text-slate-500">No sync has run yet.</p>;
  return (
    <div className="overflow-x-auto rounded border border-slate-200 bg-white">
      <table className="w-full text-left text-sm" data-testid="sync-history">
        <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
          <tr>
            <th className="px-3 py-2 font-medium">Started</th>
            <th className="px-3 py-2 font-medium">Reason</th>
            <th className="px-3 py-2 font-medium">Status</th>
            <th className="px-3 py-2 font-medium">Head</th>
            <th className="px-3 py-2 font-medium">Changes</th>
            <th className="px-3 py-2 font-medium">Took</th>
            <th className="px-3 py-2 font-medium">
              <span className="sr-only">Workflow</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {syncs.map((s) => (
            <tr key={s.id} data-testid="sync-row" data-status={s.status} className="align-top">
              <td className="px-3 py-2 font-mono text-xs whitespace-nowrap">{formatDateTime(s.startedAt)}</td>
              <td className="px-3 py-2 text-xs">{s.reason}</td>
              <td className="px-3 py-2">
                <SyncStatusBadge status={s.status} />
                {s.error ? <p className="mt-1 max-w-sm text-xs break-words text-red-700">{s.error}</p> : null}
              </td>
              <td className="px-3 py-2 font-mono text-xs">{s.head ? <abbr title={s.head} className="no-underline">{shortVersion(s.head)}</abbr> : '—'}</td>
              <td className="px-3 py-2 text-xs whitespace-nowrap">
                <span className="text-emerald-700">+{s.added}</span> <span className="text-blue-700">~{s.updated}</span> <span className="text-red-700">−{s.removed}</span>
                {s.problems > 0 ? <span className="ml-2 text-amber-800">{s.problems} problems</span> : null}
              </td>
              <td className="px-3 py-2 text-xs whitespace-nowrap tabular-nums">
                {s.finishedAt ? formatDuration(new Date(s.finishedAt).getTime() - new Date(s.startedAt).getTime()) : 'running'}
              </td>
              <td className="px-3 py-2 text-right whitespace-nowrap">
                <a href={s.temporalUrl} target="_blank" rel="noreferrer" data-testid="sync-temporal-link" title={s.workflowId} className="text-xs text-blue-700 hover:underline">
                  Open in Temporal Web ↗
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default function RepositoryPage({ loaderData, actionData }: Route.ComponentProps) {
  const { repository: r, credentials } = loaderData;
  useRevalidateWhile(r.status === 'syncing' || r.status === 'new' || r.syncs.some((s) => s.status === 'running'));
  const save = actionData?.intent === 'save' ? actionData : undefined;
  const failure = save && 'fields' in save ? save : undefined;
  const notice = actionData && actionData.intent !== 'save' ? actionData : undefined;

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <p className="text-xs text-slate-500">
            <Link to="/repositories" className="hover:underline">
              Repositories
            </Link>{' '}
            / <span className="font-mono">{r.id}</span>
          </p>
          <h1 className="flex items-center gap-2 text-lg font-semibold">
            {r.name}
            <SyncStatusBadge status={r.status} testId="repository-status" />
          </h1>
        </div>
        <div className="flex items-start gap-2">
          <SyncButton repositoryId={r.id} syncing={r.status === 'syncing'} large />
          <ConfirmDelete
            what={`the repository ${r.name}`}
            consequence={`Its ${r.scriptCount} scripts leave the catalog. Past runs and their logs stay in the history.`}
          />
        </div>
      </div>

      {notice ? (
        <p
          role={'ok' in notice && notice.ok ? 'status' : 'alert'}
          className={`rounded border px-3 py-2 text-sm ${'ok' in notice && notice.ok ? 'border-slate-200 bg-white text-slate-700' : 'border-red-200 bg-red-50 text-red-800'}`}
        >
          {notice.message}
        </p>
      ) : null}

      <dl className="grid grid-cols-2 gap-x-6 gap-y-3 rounded border border-slate-200 bg-white px-4 py-3 sm:grid-cols-3 lg:grid-cols-6">
        <Fact term="Head" testId="repository-head">
          {r.head ? (
            <abbr title={r.head} className="font-mono no-underline">
              {shortVersion(r.head)}
            </abbr>
          ) : (
            '—'
          )}
        </Fact>
        <Fact term="Branch">
          <span className="font-mono">{r.kind === 'git' ? r.branch : 'directory'}</span>
        </Fact>
        <Fact term="Last sync (UTC)">{formatDateTime(r.lastSyncAt)}</Fact>
        <Fact term="Scripts" testId="repository-scripts">
          {r.scriptCount}
        </Fact>
        <Fact term="Problems" testId="repository-problems">
          {r.problemCount}
        </Fact>
        <Fact term="Credential">{r.credential?.name ?? 'none'}</Fact>
      </dl>
      {r.lastSyncError ? (
        <pre role="alert" data-testid="repository-error" className="overflow-auto rounded border border-red-200 bg-red-50 px-3 py-2 font-mono text-xs whitespace-pre-wrap text-red-900">
          {r.lastSyncError}
        </pre>
      ) : null}

      <div className="grid gap-5 lg:grid-cols-[1fr_24rem]">
        <section className="rounded border border-slate-200 bg-white p-4">
          <h2 className="mb-3 text-sm font-semibold">Settings</h2>
          <RepositoryForm
            mode="edit"
            repository={r}
            submitted={failure?.values}
            credentials={credentials}
            errors={failure?.fields ?? {}}
            message={save?.message ?? null}
            saved={save !== undefined && failure === undefined}
          />
        </section>
        <section className="self-start rounded border border-slate-200 bg-white p-4">
          <h2 className="mb-3 text-sm font-semibold">Webhook</h2>
          <WebhookSetup repository={r} />
        </section>
      </div>

      <section>
        <h2 className="mb-2 text-sm font-semibold">Syncs</h2>
        <SyncHistory syncs={r.syncs} />
      </section>

      <section>
        <h2 className="mb-2 text-sm font-semibold">Manifest problems at the current head</h2>
        {r.problems.length === 0 ? (
          <p className="text-sm text-slate-500" data-testid="repository-no-problems">
            None: every manifest parsed.
          </p>
        ) : (
          <ul className="space-y-1 rounded border border-amber-300 bg-amber-50 px-4 py-3 font-mono text-xs text-amber-900" data-testid="repository-problem-list">
            {r.problems.map((p, i) => (
              <li key={`${p.file}:${p.line ?? ''}:${i}`} data-testid="repository-problem">
                <span className="font-semibold">
                  {p.file}
                  {p.line !== undefined ? `:${p.line}` : ''}
                </span>{' '}
                — {p.message}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
