import type { LogLineView } from '@drydock/core/api-schemas';
import type { RunArtifactView, RunSnapshot } from '@drydock/core/run-contract';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Form, Link, data, useNavigation, useRevalidator } from 'react-router';
import type { Route } from './+types/run';
import { KindBadge } from '../components/entry-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { RunArtifacts } from '../components/run-artifacts.tsx';
import { RunLog } from '../components/run-log.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { callApi, getFromApi } from '../lib/api.server.ts';
import type { RunView } from '../lib/api-views.ts';
import { formatDateTime, formatDuration, shortVersion } from '../lib/format.ts';
import { entryHref, scriptVersionHref } from '../lib/links.ts';
import { useElapsed, useLiveRun } from '../lib/live-run.ts';
import { isFinal } from '../lib/run-status.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [
  { title: loaderData ? `${loaderData.run.scriptName} · ${loaderData.run.status} · Drydock` : 'Run · Drydock' },
];

export async function loader({ request, params }: Route.LoaderArgs) {
  const path = `/api/v1/runs/${encodeURIComponent(params.id)}`;
  const [run, { lines }, { artifacts }] = await Promise.all([
    getFromApi<RunView>(request, path),
    getFromApi<{ lines: LogLineView[] }>(request, `${path}/lines`),
    getFromApi<{ artifacts: RunArtifactView[] }>(request, `${path}/artifacts`),
  ]);
  // The latest attempt's snapshot is shown on the page; a snapshot that cannot be read is still listed for download.
  const latest = artifacts.filter((a) => a.kind === 'environment').at(-1);
  const content = latest ? await callApi<RunSnapshot>(request, latest.downloadUrl) : null;
  const snapshot = latest && content?.ok && content.body ? { attempt: latest.attempt, content: content.body } : null;
  return { run, lines, artifacts, snapshot };
}

export async function action({ request, params }: Route.ActionArgs) {
  const form = await request.formData();
  if (form.get('intent') !== 'cancel') throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
  const result = await callApi<RunView>(request, `/api/v1/runs/${encodeURIComponent(params.id)}/cancel`, { method: 'POST', body: {} });
  if (!result.ok) return data({ cancelled: false, message: result.error.message }, { status: result.status });
  return { cancelled: true, message: 'Cancellation requested.' };
}

/** A newer snapshot wins, except that a run never goes back from a final status. */
function newer(current: RunView, next: RunView): RunView {
  return isFinal(current.status) && !isFinal(next.status) ? current : next;
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

/** The exact version that ran: a script's links to the page that runs that version again. */
function RunVersion({ run }: { run: RunView }) {
  if (run.source === 'action') {
    return (
      <span className="font-mono" title={`revision ${run.scriptVersion}`}>
        revision {run.scriptVersion}
      </span>
    );
  }
  return (
    <Link to={scriptVersionHref(run.scriptId, run.scriptVersion)} title={run.scriptVersion} className="font-mono text-blue-700 hover:underline">
      {shortVersion(run.scriptVersion)}
    </Link>
  );
}

function ParamsTable({ params }: { params: RunView['params'] }) {
  const entries = Object.entries(params);
  if (entries.length === 0) return <p className="text-sm text-slate-500">No parameters.</p>;
  return (
    <table className="w-full text-sm" data-testid="run-params">
      <tbody className="divide-y divide-slate-100">
        {entries.map(([name, value]) => (
          <tr key={name} data-param={name}>
            <th scope="row" className="w-1/3 py-1 pr-3 text-left align-top font-mono text-xs font-normal text-slate-500">
              {name}
            </th>
            <td className="py-1 font-mono text-xs break-all whitespace-pre-wrap">{Array.isArray(value) ? value.join(', ') : String(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// Keyed by run id: another run gets fresh state and its own stream, not this one's lines.
export default function RunPage({ loaderData, actionData }: Route.ComponentProps) {
  return <RunDetails key={loaderData.run.id} loaderData={loaderData} actionData={actionData} />;
}

function RunDetails({ loaderData, actionData }: Pick<Route.ComponentProps, 'loaderData' | 'actionData'>) {
  const [run, setRun] = useState(loaderData.run);
  useEffect(() => setRun((current) => newer(current, loaderData.run)), [loaderData.run]);

  const [follow] = useState(() => !isFinal(loaderData.run.status));
  const { lines, stream } = useLiveRun(run.id, loaderData.lines, follow, (next) => setRun((current) => newer(current, next)));

  const active = !isFinal(run.status);
  // Captured files arrive as the run ends: read them again once the live run is over.
  const { revalidate } = useRevalidator();
  const endedLive = !active && !isFinal(loaderData.run.status);
  const reread = useRef(false);
  useEffect(() => {
    if (!endedLive || reread.current) return;
    reread.current = true;
    void revalidate();
  }, [endedLive, revalidate]);
  const elapsed = useElapsed(run.startedAt, run.status === 'running');
  const navigation = useNavigation();
  const cancelling = navigation.state !== 'idle' && navigation.formData?.get('intent') === 'cancel';

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <p className="text-xs text-slate-500">
            <Link to="/runs" className="hover:underline">
              Runs
            </Link>{' '}
            / <span className="font-mono">{run.id}</span>
          </p>
          <h1 className="flex items-center gap-2 text-lg font-semibold">
            <Link to={entryHref({ kind: run.source, id: run.scriptId })} className="hover:underline">
              {run.scriptName}
            </Link>
            <span className="text-sm font-normal text-slate-500">on</span>
            <span className="font-mono text-base">{run.hostId}</span>
            <StatusBadge status={run.status} testId="run-status" />
          </h1>
        </div>
        <div className="flex items-center gap-2">
          <a
            href={run.temporalUrl}
            target="_blank"
            rel="noreferrer"
            data-testid="temporal-link"
            className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100"
          >
            Open in Temporal Web ↗
          </a>
          {active ? (
            <Form method="post">
              <button
                type="submit"
                name="intent"
                value="cancel"
                disabled={cancelling}
                data-testid="cancel-run"
                className="rounded bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-600 disabled:opacity-60"
              >
                {cancelling ? 'Cancelling…' : 'Cancel'}
              </button>
            </Form>
          ) : null}
        </div>
      </div>

      {actionData && (active || !actionData.cancelled) ? (
        <p
          role="status"
          className={`rounded border px-3 py-2 text-sm ${actionData.cancelled ? 'border-slate-200 bg-white text-slate-700' : 'border-red-200 bg-red-50 text-red-800'}`}
        >
          {actionData.message}
        </p>
      ) : null}

      <dl className="grid grid-cols-2 gap-x-6 gap-y-3 rounded border border-slate-200 bg-white px-4 py-3 sm:grid-cols-3 lg:grid-cols-6">
        <Fact term="Exit code" testId="run-exit-code">
          <span className="font-mono">{run.exitCode ?? '—'}</span>
        </Fact>
        <Fact term="Duration" testId="run-duration">
          {run.durationMs !== null ? formatDuration(run.durationMs) : elapsed !== null ? `${formatDuration(elapsed)} so far` : '—'}
        </Fact>
        <Fact term="Started by" testId="run-initiator">
          {run.initiator.name}
        </Fact>
        <Fact term="Attempts" testId="run-attempts">
          {run.attempts}
        </Fact>
        <Fact term="Source" testId="run-source">
          <KindBadge kind={run.source} />
        </Fact>
        <Fact term="Version" testId="run-version">
          <RunVersion run={run} />
        </Fact>
        <Fact term="Workflow">
          <span className="font-mono text-xs" title={run.workflowId}>
            {run.workflowId}
          </span>
        </Fact>
        <Fact term="Created (UTC)" testId="run-created">
          {formatDateTime(run.createdAt)}
        </Fact>
        <Fact term="Started (UTC)" testId="run-started">
          {formatDateTime(run.startedAt)}
        </Fact>
        <Fact term="Finished (UTC)" testId="run-finished">
          {formatDateTime(run.finishedAt)}
        </Fact>
      </dl>

      {run.status === 'waiting_for_lock' ? (
        <p role="status" data-testid="run-waiting-for-lock" className="rounded border border-violet-200 bg-violet-50 px-3 py-2 text-sm text-violet-900">
          This run needs the lock of host <span className="font-mono">{run.hostId}</span>, which someone else holds; it starts once the lock is free.{' '}
          <Link to={`/locks?host=${encodeURIComponent(run.hostId)}`} className="font-medium underline">
            See who holds it and who waits
          </Link>
          .
        </p>
      ) : null}

      {run.error ? (
        <section>
          <h2 className="mb-1 text-sm font-semibold text-red-800">Error</h2>
          <pre
            data-testid="run-error"
            className="max-h-72 overflow-auto rounded border border-red-200 bg-red-50 px-3 py-2 font-mono text-xs whitespace-pre-wrap text-red-900"
          >
            {run.error}
          </pre>
        </section>
      ) : null}

      <div className="grid gap-4 lg:grid-cols-[1fr_20rem]">
        <RunLog lines={lines} stream={stream} />
        <section className="self-start rounded border border-slate-200 bg-white px-4 py-3">
          <h2 className="mb-2 text-sm font-semibold">Parameters</h2>
          <ParamsTable params={run.params} />
        </section>
      </div>

      <RunArtifacts artifacts={loaderData.artifacts} snapshot={loaderData.snapshot} active={active} />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
