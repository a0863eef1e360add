import { data } from 'react-router';
import type { Route } from './+types/repository';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { ManifestProblemList } from '../components/manifest-problems.tsx';
import { RepositoryForm } from '../components/repository-form.tsx';
import { RouteError } from '../components/route-error.tsx';
import { SyncStatusBadge } from '../components/status-badge.tsx';
import { ShortSha } from '../components/short-sha.tsx';
import { SyncButton } from '../components/sync-button.tsx';
import { Fact, FactList } from '../components/ui/fact-list.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel, Section } from '../components/ui/panel.tsx';
import { DataTable, type Column } from '../components/ui/table.tsx';
import { WebhookSetup } from '../components/webhook-setup.tsx';
import type { RepositoryDetail } from '@drydock/core/api-schemas';
import { formatDateTime, formatDuration } from '../lib/format.ts';
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

const SYNC_COLUMNS: Column<RepositoryDetail['syncs'][number]>[] = [
  { key: 'started', header: 'Started', mono: true, nowrap: true, cell: (s) => formatDateTime(s.startedAt) },
  { key: 'reason', header: 'Reason', className: 'text-xs', cell: (s) => s.reason },
  {
    key: 'status',
    header: 'Status',
    cell: (s) => (
      <>
        <SyncStatusBadge status={s.status} />
        {s.error ? <p className="mt-1 max-w-sm text-xs break-words text-red-700">{s.error}</p> : null}
      </>
    ),
  },
  { key: 'head', header: 'Head', mono: true, cell: (s) => <ShortSha sha={s.head} /> },
  {
    key: 'changes',
    header: 'Changes',
    nowrap: true,
    className: 'text-xs',
    cell: (s) => (
      <>
        <span className="text-emerald-700">+{s.added}</span> <span className="text-blue-700">~{s.updated}</span> <span className="text-red-700">−{s.removed}</span>
        {s.problems > 0 ? <span className="ml-2 text-amber-800">{s.problems} problems</span> : null}
      </>
    ),
  },
  {
    key: 'took',
    header: 'Took',
    nowrap: true,
    className: 'text-xs tabular-nums',
    cell: (s) => (s.finishedAt ? formatDuration(new Date(s.finishedAt).getTime() - new Date(s.startedAt).getTime()) : 'running'),
  },
  {
    key: 'workflow',
    header: 'Workflow',
    hidden: true,
    align: 'right',
    nowrap: true,
    cell: (s) => (
      <a href={s.temporalUrl} target="_blank" rel="noreferrer" data-testid="sync-temporal-link" title={s.workflowId} className="text-xs text-blue-700 hover:underline">
        Open in Temporal Web ↗
      </a>
    ),
  },
];

export default function RepositoryPage({ loaderData, actionData }: Route.ComponentProps) {
  const { repository: r, credentials } = loaderData;
  useRevalidateWhile(r.status === 'syncing' || r.status === 'new' || r.syncs.some((s) => s.status === 'running'));
  const save = actionData?.intent === 'save' ? actionData : undefined;
  const failure = save && 'fields' in save ? save : undefined;
  const notice = actionData && actionData.intent !== 'save' ? actionData : undefined;

  return (
    <div className="space-y-5">
      <PageHeader
        crumbs={[{ label: 'Repositories', to: '/repositories' }, { label: <span className="font-mono">{r.id}</span> }]}
        title={r.name}
        badges={<SyncStatusBadge status={r.status} testId="repository-status" />}
        actions={
          <>
            <SyncButton repositoryId={r.id} syncing={r.status === 'syncing'} large />
            <ConfirmDelete what={`the repository ${r.name}`} consequence={`Its ${r.scriptCount} scripts leave the catalog. Past runs and their logs stay in the history.`} />
          </>
        }
      />

      {notice ? <Notice tone={'ok' in notice && notice.ok ? 'neutral' : 'error'}>{notice.message}</Notice> : null}

      <FactList>
        <Fact term="Head" testId="repository-head">
          <ShortSha sha={r.head} />
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
      </FactList>
      {r.lastSyncError ? (
        <Notice tone="error" as="pre" testId="repository-error">
          {r.lastSyncError}
        </Notice>
      ) : null}

      <div className="grid gap-5 lg:grid-cols-[1fr_24rem]">
        <Panel title="Settings">
          <RepositoryForm
            mode="edit"
            repository={r}
            submitted={failure?.values}
            credentials={credentials}
            errors={failure?.fields ?? {}}
            message={save?.message ?? null}
            saved={save !== undefined && failure === undefined}
          />
        </Panel>
        <Panel title="Webhook" className="self-start">
          <WebhookSetup repository={r} />
        </Panel>
      </div>

      <Section title="Syncs">
        <DataTable
          rows={r.syncs}
          columns={SYNC_COLUMNS}
          rowKey={(s) => s.id}
          row={(s) => ({ 'data-testid': 'sync-row', 'data-status': s.status })}
          testId="sync-history"
          empty="No sync has run yet."
        />
      </Section>

      <Section title="Manifest problems at the current head">
        {r.problems.length === 0 ? (
          <p className="text-sm text-slate-500" data-testid="repository-no-problems">
            None: every manifest parsed.
          </p>
        ) : (
          <div className="rounded border border-amber-300 bg-amber-50 px-4 py-3">
            <ManifestProblemList problems={r.problems} testId="repository-problem-list" itemTestId="repository-problem" />
          </div>
        )}
      </Section>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
