import { BULK_HOST_STATES } from '@drydock/core/bulk';
import { useEffect } from 'react';
import { Link } from 'react-router';
import type { Route } from './+types/bulk';
import { ApprovalPanel } from '../components/approval-panel.tsx';
import { HOST_STATE_TONES } from '../components/bulk-badges.tsx';
import { BulkGrid } from '../components/bulk-grid.tsx';
import { BulkControls } from '../components/bulk-controls.tsx';
import { KindBadge } from '../components/entry-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { BulkStatusBadge } from '../components/status-badge.tsx';
import { Fact, FactList } from '../components/ui/fact-list.tsx';
import { Notice, OutcomeNotice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import type { BulkView } from '@drydock/core/api-schemas';
import { describeOptions, describeSelector, finishedHosts, HOST_STATE_LABEL, isFinalBulk } from '../lib/bulk-view.ts';
import { formatDateTime, formatDuration, shortVersion } from '../lib/format.ts';
import { entryHref, scriptVersionHref } from '../lib/links.ts';
import { useLiveBulk, useNow } from '../lib/live-bulk.ts';
import type { StreamState } from '../lib/live-run.ts';
import { useRevalidateWhile } from '../lib/polling.ts';
import { actOnBulk, loadBulk } from './bulk.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [
  { title: loaderData ? `${loaderData.bulk.scriptName} on ${loaderData.bulk.total} hosts · ${loaderData.bulk.status} · Drydock` : 'Bulk run · Drydock' },
];

export async function loader({ request, params }: Route.LoaderArgs) {
  return loadBulk(request, params.id);
}

export async function action({ request, params }: Route.ActionArgs) {
  return actOnBulk(request, params.id);
}

function ProgressBar({ bulk }: { bulk: BulkView }) {
  const finished = finishedHosts(bulk.counts);
  const total = Math.max(bulk.total, 1);
  return (
    <div>
      <div
        role="progressbar"
        aria-label="Hosts finished"
        aria-valuemin={0}
        aria-valuemax={bulk.total}
        aria-valuenow={finished}
        aria-valuetext={`${finished} of ${bulk.total} hosts finished`}
        data-testid="bulk-progress"
        className="flex h-3 overflow-hidden rounded bg-slate-100 ring-1 ring-slate-200 ring-inset"
      >
        {BULK_HOST_STATES.filter((s) => s !== 'pending' && bulk.counts[s] > 0).map((s) => (
          <div key={s} className={`${HOST_STATE_TONES[s].swatch} transition-[width]`} style={{ width: `${(bulk.counts[s] / total) * 100}%` }} title={`${HOST_STATE_LABEL[s]}: ${bulk.counts[s]}`} />
        ))}
      </div>
      <p className="mt-1 text-xs text-slate-600" data-testid="bulk-progress-text">
        {finished} of {bulk.total} {bulk.total === 1 ? 'host' : 'hosts'} finished
        {bulk.counts.running + bulk.counts.waiting_for_lock > 0 ? ` · ${bulk.counts.running} running` : ''}
        {bulk.counts.waiting_for_lock > 0 ? ` · ${bulk.counts.waiting_for_lock} waiting for a lock` : ''}
        {bulk.waves.length > 1 ? (isFinalBulk(bulk.status) ? ` · in ${bulk.waves.length} waves` : ` · wave ${Math.min(bulk.currentWave + 1, bulk.waves.length)} of ${bulk.waves.length}`) : ''}
      </p>
    </div>
  );
}

function streamText(stream: StreamState, degraded: boolean): string | null {
  if (stream === 'live' || stream === 'ended') return null;
  if (degraded) return stream === 'lost' ? 'live updates unavailable: reloading every 2 s' : 'live updates delayed: reloading every 2 s meanwhile';
  return stream === 'reconnecting' ? 'live updates interrupted: reconnecting…' : 'connecting to live updates…';
}

/** Elapsed (wall clock, pauses included, as the API counts it) and ETA count on from the API's last figures until it ends. */
function Timing({ bulk, receivedAt, now }: { bulk: BulkView; receivedAt: number | null; now: number | null }) {
  const moving = !isFinalBulk(bulk.status);
  const since = moving && now !== null && receivedAt !== null ? Math.max(0, now - receivedAt) : 0;
  const elapsed = bulk.elapsedMs + since;
  const left = bulk.etaMs === null ? null : Math.max(0, bulk.etaMs - since);
  const doneAt = moving && bulk.etaMs !== null && receivedAt !== null && now !== null ? formatDateTime(new Date(receivedAt + bulk.etaMs).toISOString()).slice(11) : null;
  let eta: string;
  if (isFinalBulk(bulk.status)) eta = formatDateTime(bulk.finishedAt);
  else if (bulk.status === 'paused') eta = 'paused';
  else if (left === null) eta = 'once a host has finished';
  else eta = `about ${formatDuration(left)} left${doneAt ? ` · around ${doneAt} UTC` : ''}`;
  return (
    <>
      <Fact term={isFinalBulk(bulk.status) ? 'Took' : 'Elapsed'} testId="bulk-elapsed">
        {formatDuration(elapsed)}
      </Fact>
      <Fact term={isFinalBulk(bulk.status) ? 'Finished (UTC)' : 'Estimated completion'} testId="bulk-eta" wrap>
        {eta}
      </Fact>
    </>
  );
}

function ParamsLine({ params }: { params: BulkView['params'] }) {
  const entries = Object.entries(params);
  if (entries.length === 0) return <span className="text-slate-500">none</span>;
  return (
    <span className="font-mono text-xs" data-testid="bulk-params">
      {entries.map(([name, value], i) => (
        <span key={name}>
          {i > 0 ? ' · ' : ''}
          <span className="text-slate-500">{name}=</span>
          {Array.isArray(value) ? value.join(',') : String(value)}
        </span>
      ))}
    </span>
  );
}

// Keyed by execution id: another execution (a re-run) gets fresh state and its own stream.
export default function BulkPage({ loaderData, actionData }: Route.ComponentProps) {
  return <BulkDetails key={loaderData.bulk.id} loaderData={loaderData} actionData={actionData} />;
}

function BulkDetails({ loaderData, actionData }: Pick<Route.ComponentProps, 'loaderData' | 'actionData'>) {
  const { bulk, hosts, receivedAt, stream, degraded, apply } = useLiveBulk(loaderData);
  useEffect(() => apply(loaderData.bulk, loaderData.hosts), [loaderData, apply]);
  const active = !isFinalBulk(bulk.status);
  useRevalidateWhile(active && degraded, 2_000);
  // The stream speaks when hosts change; a pause or resume alone changes no host, so read the status until it shows.
  const asked = actionData?.ok ? actionData.intent : null;
  const settling = (asked === 'approve' && bulk.status === 'waiting_for_approval') || (asked === 'pause' && bulk.status === 'running') || (asked === 'resume' && bulk.status === 'paused') || (asked === 'cancel' && active);
  useRevalidateWhile(settling, 1_000);
  const now = useNow(active);
  const version =
    bulk.source === 'action' ? (
      <span className="font-mono">revision {bulk.scriptVersion}</span>
    ) : (
      <Link to={scriptVersionHref(bulk.scriptId, bulk.scriptVersion)} title={bulk.scriptVersion} className="font-mono text-blue-700 hover:underline">
        {shortVersion(bulk.scriptVersion)}
      </Link>
    );

  return (
    <div className="space-y-4">
      <div>
        <PageHeader
          crumbs={[{ label: 'Bulk runs', to: '/bulk' }, { label: <span className="font-mono">{bulk.id}</span> }]}
          title={
            <>
              <Link to={entryHref({ kind: bulk.source, id: bulk.scriptId })} className="hover:underline">
                {bulk.scriptName}
              </Link>
              {bulk.source === 'action' ? <KindBadge kind="action" /> : null}
              <span className="text-sm font-normal text-slate-500">on</span>
              <span data-testid="bulk-total">
                {bulk.total} {bulk.total === 1 ? 'host' : 'hosts'}
              </span>
            </>
          }
          badges={<BulkStatusBadge status={bulk.status} testId="bulk-status" />}
          actions={<BulkControls bulk={bulk} secrets={loaderData.secrets} />}
        />
        {active && streamText(stream, degraded) ? (
          <p className="text-xs text-slate-500" data-testid="bulk-stream" data-stream={stream}>
            {streamText(stream, degraded)}
          </p>
        ) : null}
      </div>

      <OutcomeNotice outcome={actionData} testId="bulk-message" />

      <ApprovalPanel approval={bulk.approval} waiting={bulk.status === 'waiting_for_approval'} what="bulk execution" />

      {bulk.stopReason ? (
        <Notice tone="warning" testId="bulk-stop-reason">
          <span className="font-medium">Stopped early:</span> {bulk.stopReason}
        </Notice>
      ) : null}

      <section className="space-y-3 rounded border border-slate-200 bg-white px-4 py-3">
        <ProgressBar bulk={bulk} />
        <FactList framed={false}>
          <Timing bulk={bulk} receivedAt={receivedAt} now={now} />
          <Fact term="Started by" testId="bulk-initiator">
            {bulk.initiator.name}
          </Fact>
          <Fact term="Created (UTC)" testId="bulk-created">
            {formatDateTime(bulk.createdAt)}
          </Fact>
          <Fact term="Version" testId="bulk-version">
            {version}
          </Fact>
          <Fact term="Hosts chosen" testId="bulk-selector">
            <span title={describeSelector(bulk.selector)}>{describeSelector(bulk.selector)}</span>
          </Fact>
          {bulk.rerunOf ? (
            <Fact term="Re-run of" testId="bulk-rerun-of">
              <Link to={`/bulk/${encodeURIComponent(bulk.rerunOf)}`} className="font-mono text-xs text-blue-700 hover:underline">
                {bulk.rerunOf}
              </Link>
            </Fact>
          ) : null}
          <Fact term="Workflow">
            <span className="font-mono text-xs" title={bulk.workflowId}>
              {bulk.workflowId}
            </span>
          </Fact>
        </FactList>
        <details className="border-t border-slate-100 pt-2" data-testid="bulk-options">
          <summary className="cursor-pointer text-sm text-slate-700">Options and parameters</summary>
          <div className="mt-2">
            <FactList layout="rows" termWidth="wide">
              {describeOptions(bulk.options).map(([term, value]) => (
                <Fact key={term} term={term}>
                  {value}
                </Fact>
              ))}
              <Fact term="Parameters">
                <span className="break-all">
                  <ParamsLine params={bulk.params} />
                </span>
              </Fact>
            </FactList>
          </div>
        </details>
      </section>

      <BulkGrid
        hosts={hosts}
        counts={bulk.counts}
        total={bulk.total}
        waves={bulk.waves}
        canary={bulk.options.canary !== undefined}
        currentWave={bulk.currentWave}
        active={active}
      />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
