import type { RunView } from '@drydock/core/api-schemas';
import type { RunSnapshot } from '@drydock/core/run-contract';
import { useEffect, useRef, useState } from 'react';
import { Link, data, useRevalidator } from 'react-router';
import type { Route } from './+types/run';
import { ApprovalPanel, decisionNotice } from '../components/approval-panel.tsx';
import { KindBadge } from '../components/entry-badges.tsx';
import { EnvironmentSwatch } from '../components/environment-swatch.tsx';
import { RouteError } from '../components/route-error.tsx';
import { RunArtifacts } from '../components/run-artifacts.tsx';
import { RunLog } from '../components/run-log.tsx';
import { NameValueTable } from '../components/name-value-table.tsx';
import { RunStatusBadge } from '../components/status-badge.tsx';
import { ActionForm, buttonClass, ExternalButtonLink, IntentButton } from '../components/ui/button.tsx';
import { Fact, FactList } from '../components/ui/fact-list.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel, Section } from '../components/ui/panel.tsx';
import { answer, api, result } from '../lib/api.server.ts';
import { formatDateTime, formatDuration, shortVersion } from '../lib/format.ts';
import { entryHref, runBundleHref, scriptVersionHref } from '../lib/links.ts';
import { useMayRun } from '../lib/me.ts';
import { useElapsed, useLiveRun } from '../lib/live-run.ts';
import { attemptsSoFar, isFinal } from '../lib/run-status.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [
  { title: loaderData ? `${loaderData.run.scriptName} · ${loaderData.run.status} · Drydock` : 'Run · Drydock' },
];

export async function loader({ request, params }: Route.LoaderArgs) {
  const runs = api(request).runs[':id'];
  const param = { id: params.id };
  const v1 = api(request);
  const [run, { lines }, { artifacts }, { environments }] = await Promise.all([
    answer(runs.$get({ param })),
    answer(runs.lines.$get({ param })),
    answer(runs.artifacts.$get({ param })),
    answer(v1.environments.$get()),
  ]);
  // The host's environment now, in its colour; a host deleted since has none.
  const host = await result(v1.hosts[':id'].$get({ param: { id: run.hostId } }));
  const environment = host.ok && host.body.environment ? (environments.find((e) => e.name === host.body.environment) ?? null) : null;
  // The latest attempt's snapshot is shown on the page; a snapshot that cannot be read is still listed for download.
  const latest = artifacts.filter((a) => a.kind === 'environment').at(-1);
  const download = latest ? await runs.artifacts[':artifactId'].$get({ param: { ...param, artifactId: latest.id } }) : null;
  // A file's bytes are whatever the agent captured; the snapshot's are the agent's JSON.
  const content = download?.ok ? ((await download.json().catch(() => null)) as RunSnapshot | null) : null;
  const snapshot = latest && content ? { attempt: latest.attempt, content } : null;
  return { run, lines, artifacts, snapshot, environment };
}

export async function action({ request, params }: Route.ActionArgs) {
  const form = await request.formData();
  const intent = form.get('_intent');
  const runs = api(request).runs[':id'];
  if (intent === 'approve' || intent === 'reject') {
    const comment = String(form.get('comment') ?? '').trim();
    const json = comment ? { comment } : {};
    const decided = await result(intent === 'approve' ? runs.approve.$post({ param: { id: params.id }, json }) : runs.reject.$post({ param: { id: params.id }, json }));
    const notice = decisionNotice(intent, decided.ok, decided.ok ? undefined : decided.error.message);
    return data({ done: notice.ok, message: notice.message }, { status: decided.status });
  }
  if (intent !== 'cancel') throw data({ code: 'invalid', message: 'This form does not do that.' }, { status: 400 });
  const cancelled = await result(runs.cancel.$post({ param: { id: params.id } }));
  if (!cancelled.ok) return data({ done: false, message: cancelled.error.message }, { status: cancelled.status });
  return { done: true, message: 'Cancellation requested.' };
}

/** A newer snapshot wins, except that a run never goes back from a final status. */
function newer(current: RunView, next: RunView): RunView {
  return isFinal(current.status) && !isFinal(next.status) ? current : next;
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
  return <NameValueTable rows={entries.map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value)])} testId="run-params" rowAttribute="data-param" />;
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
  const attempts = attemptsSoFar(run, lines);
  const mayRun = useMayRun();

  return (
    <div className="space-y-4">
      <PageHeader
        crumbs={[{ label: 'Runs', to: '/runs' }, { label: <span className="font-mono">{run.id}</span> }]}
        title={
          <>
            <Link to={entryHref({ kind: run.source, id: run.scriptId })} className="hover:underline">
              {run.scriptName}
            </Link>
            <span className="text-sm font-normal text-slate-500">on</span>
            <span className="font-mono text-base">{run.hostId}</span>
            {loaderData.environment ? (
              <span className="text-sm font-normal" title={`Host ${run.hostId} is in environment ${loaderData.environment.name}`}>
                <EnvironmentSwatch name={loaderData.environment.name} colour={loaderData.environment.colour} testId="run-environment" />
              </span>
            ) : null}
          </>
        }
        badges={<RunStatusBadge status={run.status} testId="run-status" />}
        actions={
          <>
            <ExternalButtonLink href={run.temporalUrl} testId="temporal-link">
              Open in Temporal Web ↗
            </ExternalButtonLink>
            <a href={runBundleHref(run.id)} download className={buttonClass()} data-testid="run-bundle-link">
              Download reproduction bundle
            </a>
            {active && mayRun ? (
              <ActionForm>
                <IntentButton intent="cancel" variant="danger" busyLabel="Cancelling…" testId="cancel-run">
                  Cancel
                </IntentButton>
              </ActionForm>
            ) : null}
          </>
        }
      />

      {actionData && (active || !actionData.done || run.approval?.decision) ? (
        <Notice tone={actionData.done ? 'neutral' : 'error'} role="status" testId="run-action-message">
          {actionData.message}
        </Notice>
      ) : null}

      <FactList>
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
          {attempts === 0 && active ? '—' : attempts}
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
      </FactList>

      <ApprovalPanel approval={run.approval} waiting={run.status === 'waiting_for_approval'} what="run" />

      {run.status === 'waiting_for_lock' ? (
        <Notice tone="violet" testId="run-waiting-for-lock">
          This run needs the lock of host <span className="font-mono">{run.hostId}</span>, which someone else holds; it starts once the lock is free.{' '}
          <Link to={`/locks?host=${encodeURIComponent(run.hostId)}`} className="font-medium underline">
            See who holds it and who waits
          </Link>
          .
        </Notice>
      ) : null}

      {run.error ? (
        <Section title="Error">
          <Notice tone="error" as="pre" role={null} testId="run-error" className="max-h-72">
            {run.error}
          </Notice>
        </Section>
      ) : null}

      <div className="grid gap-4 lg:grid-cols-[1fr_20rem]">
        <RunLog lines={lines} stream={stream} />
        <Panel title="Parameters" className="self-start">
          <ParamsTable params={run.params} />
        </Panel>
      </div>

      <RunArtifacts artifacts={loaderData.artifacts} snapshot={loaderData.snapshot} active={active} />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
