import { useEffect, useState } from 'react';
import { Form, Link } from 'react-router';
import type { Route } from './+types/schedule';
import { RouteError } from '../components/route-error.tsx';
import { EmptyState } from '../components/ui/empty-state.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Table, TableBody, TableHead, Td, Th } from '../components/ui/table.tsx';
import { describeSelector } from '../lib/bulk-view.ts';
import { formatInZone, offsetInZone } from '../lib/zoned-time.ts';
import { loadSchedule, scheduleAction } from './schedules.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `${loaderData?.schedule.name ?? 'Schedule'} · Drydock` }];

export async function loader({ request, params }: Route.LoaderArgs) {
  return loadSchedule(request, params.id);
}

export async function action({ request, params }: Route.ActionArgs) {
  return scheduleAction(request, params.id);
}

/** The viewer's zone is the browser's: known only once the page runs there. */
function useViewerZone(): string | null {
  const [zone, setZone] = useState<string | null>(null);
  useEffect(() => setZone(Intl.DateTimeFormat().resolvedOptions().timeZone), []);
  return zone;
}

const button = 'rounded border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50';

export default function Schedule({ loaderData, actionData }: Route.ComponentProps) {
  const { schedule, firings } = loaderData;
  const viewerZone = useViewerZone();
  const outcome = actionData as { ok: boolean; message: string } | undefined;
  return (
    <div className="space-y-4">
      <PageHeader
        title={schedule.name}
        crumbs={[{ label: 'Schedules', to: '/schedules' }, { label: schedule.name }]}
        description={
          <span>
            Runs {schedule.source === 'action' ? 'action template ' : ''}
            <Link to={`/${schedule.source === 'action' ? 'actions' : 'scripts'}/${schedule.scriptId}`} className="font-mono text-blue-700 hover:underline">
              {schedule.scriptId}
            </Link>{' '}
            {schedule.hostId ? (
              <>
                on <span className="font-mono">{schedule.hostId}</span>
              </>
            ) : (
              <span data-testid="schedule-target">as a bulk execution on the hosts selected at each firing ({schedule.selector ? describeSelector(schedule.selector) : ''})</span>
            )}
            , read in {schedule.timeZone} ·{' '}
            <a href={schedule.temporalUrl} className="text-blue-700 hover:underline" target="_blank" rel="noreferrer">
              Temporal Web
            </a>
          </span>
        }
        note={
          <span data-testid="schedule-state">
            {schedule.paused ? 'Paused' : 'Active'}
            {schedule.note ? `: ${schedule.note}` : ''}
          </span>
        }
        actions={
          <div className="flex flex-wrap items-start gap-2">
            <Form method="post">
              <button type="submit" name="_intent" value="trigger" className={button} data-testid="schedule-trigger">
                Fire now
              </button>
            </Form>
            {schedule.paused ? (
              <Form method="post">
                <button type="submit" name="_intent" value="unpause" className={button} data-testid="schedule-unpause">
                  Unpause
                </button>
              </Form>
            ) : (
              <Form method="post" className="flex gap-1">
                <input name="note" required placeholder="why pause?" className="rounded border border-slate-300 px-2 py-1 text-sm" data-testid="schedule-pause-note" />
                <button type="submit" name="_intent" value="pause" className={button} data-testid="schedule-pause">
                  Pause
                </button>
              </Form>
            )}
            <Form method="post">
              <button type="submit" name="_intent" value="delete" className={`${button} text-red-700`} data-testid="schedule-delete">
                Delete
              </button>
            </Form>
          </div>
        }
      />
      {outcome ? (
        <Notice tone={outcome.ok ? 'success' : 'error'} as="div" testId="schedule-message">
          {outcome.message}
        </Notice>
      ) : null}

      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Next fire times</h2>
        {schedule.nextFireTimes.length === 0 ? (
          <EmptyState compact>{schedule.paused ? 'Paused: nothing fires until it is unpaused.' : 'Nothing more: the schedule has ended.'}</EmptyState>
        ) : (
          <Table testId="next-fire-times" density="compact">
            <TableHead>
              <Th>In {schedule.timeZone}</Th>
              <Th>In your zone{viewerZone ? ` (${viewerZone})` : ''}</Th>
            </TableHead>
            <TableBody>
              {schedule.nextFireTimes.map((iso, i) => (
                <tr key={iso}>
                  <Td mono testId="fire-time-schedule-zone">
                    {formatInZone(iso, schedule.timeZone)}
                    {i > 0 && offsetInZone(schedule.nextFireTimes[i - 1]!, schedule.timeZone) !== offsetInZone(iso, schedule.timeZone) ? (
                      <span className="ml-2 rounded bg-amber-100 px-1 font-sans text-xs text-amber-800" data-testid="dst-change">
                        clocks changed: {offsetInZone(schedule.nextFireTimes[i - 1]!, schedule.timeZone)} → {offsetInZone(iso, schedule.timeZone)}
                      </span>
                    ) : null}
                  </Td>
                  <Td mono testId="fire-time-viewer-zone">
                    {viewerZone ? formatInZone(iso, viewerZone) : formatInZone(iso, 'UTC')}
                  </Td>
                </tr>
              ))}
            </TableBody>
          </Table>
        )}
      </section>

      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Backfill</h2>
        <Form method="post" className="flex flex-wrap items-end gap-2 rounded border border-slate-200 bg-white px-4 py-3" data-testid="backfill-form">
          <input type="hidden" name="zone" value={schedule.timeZone} />
          <label className="text-sm">
            <span className="block text-xs font-medium text-slate-600">From ({schedule.timeZone})</span>
            <input type="datetime-local" name="start" required className="mt-1 rounded border border-slate-300 px-2 py-1 text-sm" data-testid="backfill-start" />
          </label>
          <label className="text-sm">
            <span className="block text-xs font-medium text-slate-600">To ({schedule.timeZone})</span>
            <input type="datetime-local" name="end" required className="mt-1 rounded border border-slate-300 px-2 py-1 text-sm" data-testid="backfill-end" />
          </label>
          <button type="submit" name="_intent" value="backfill" className={button} data-testid="schedule-backfill">
            Backfill
          </button>
          <span className="text-xs text-slate-500">Fires every time the schedule names in the range, now, under its overlap policy.</span>
        </Form>
      </section>

      <section>
        <h2 className="mb-2 text-sm font-semibold text-slate-700">Past firings</h2>
        {firings.length === 0 ? (
          <EmptyState compact testId="no-firings">
            No firing yet.
          </EmptyState>
        ) : (
          <Table testId="firings" density="compact">
            <TableHead>
              <Th>Fired for ({schedule.timeZone})</Th>
              <Th>Outcome</Th>
              <Th>Run or execution</Th>
            </TableHead>
            <TableBody>
              {firings.map((f) => (
                <tr key={f.id} data-testid="firing">
                  <Td mono>{formatInZone(f.scheduledAt, schedule.timeZone)}</Td>
                  <Td testId="firing-outcome">
                    {f.outcome === 'skipped' && f.blackoutName ? `skipped: ${f.blackoutName}` : f.outcome}
                    {f.reason && f.outcome !== 'skipped' ? <span className="text-slate-500"> · {f.reason}</span> : null}
                  </Td>
                  <Td>
                    {f.runId ? (
                      <Link to={`/runs/${f.runId}`} className="text-blue-700 hover:underline" data-testid="firing-run">
                        {f.runStatus ?? 'run'}
                      </Link>
                    ) : f.bulkId ? (
                      <Link to={`/bulk/${f.bulkId}`} className="text-blue-700 hover:underline" data-testid="firing-bulk">
                        bulk execution: {f.bulkStatus ?? 'started'}
                      </Link>
                    ) : (
                      <span className="text-slate-400">—</span>
                    )}
                  </Td>
                </tr>
              ))}
            </TableBody>
          </Table>
        )}
      </section>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
