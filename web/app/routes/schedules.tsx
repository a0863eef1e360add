import { Form, Link } from 'react-router';
import type { Route } from './+types/schedules';
import { RouteError } from '../components/route-error.tsx';
import { Button } from '../components/ui/button.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { DataTable, RowLink, type Column } from '../components/ui/table.tsx';
import { describeSelector } from '../lib/bulk-view.ts';
import { formatInZone } from '../lib/zoned-time.ts';
import { loadSchedules } from './schedules.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Schedules · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return loadSchedules(request);
}

type ScheduleRow = Route.ComponentProps['loaderData']['schedules'][number];

function LastFiring({ schedule: s }: { schedule: ScheduleRow }) {
  if (!s.lastFiring) return <span className="text-slate-400">never</span>;
  const { firedAt, outcome, blackoutName, runId, bulkId } = s.lastFiring;
  return (
    <span>
      {formatInZone(firedAt, s.timeZone)} · {outcome}
      {blackoutName ? `: ${blackoutName}` : ''}
      {runId ? (
        <>
          {' '}
          <Link to={`/runs/${runId}`} className="text-blue-700 hover:underline">
            run
          </Link>
        </>
      ) : null}
      {bulkId ? (
        <>
          {' '}
          <Link to={`/bulk/${bulkId}`} className="text-blue-700 hover:underline">
            bulk execution
          </Link>
        </>
      ) : null}
    </span>
  );
}

const SCHEDULE_COLUMNS: readonly Column<ScheduleRow>[] = [
  { key: 'name', header: 'Schedule', cell: (s) => <RowLink to={`/schedules/${s.id}`}>{s.name}</RowLink> },
  { key: 'runs', header: 'Runs', mono: true, cell: (s) => s.scriptId },
  { key: 'on', header: 'On', mono: true, cell: (s) => s.hostId ?? `many hosts: ${s.selector ? describeSelector(s.selector) : ''}` },
  { key: 'zone', header: 'Time zone', cell: (s) => s.timeZone },
  { key: 'last', header: 'Last firing', cell: (s) => <LastFiring schedule={s} /> },
];

export default function Schedules({ loaderData }: Route.ComponentProps) {
  const { schedules, entries } = loaderData;
  return (
    <div className="space-y-4">
      <PageHeader
        title="Schedules"
        description="Scripts and action templates that run on their own, on a host or a fleet, at times read in each schedule's time zone."
        actions={
          <Link to="/schedules/blackouts" className="text-sm text-blue-700 hover:underline" data-testid="blackouts-link">
            Blackout windows
          </Link>
        }
      />
      <Form method="get" action="/schedules/new" className="flex flex-wrap items-end gap-2 rounded border border-slate-200 bg-white px-4 py-3">
        <label className="text-sm">
          <span className="block text-xs font-medium text-slate-600">Schedule</span>
          <select name="entry" className="mt-1 rounded border border-slate-300 px-2 py-1 text-sm" data-testid="new-schedule-entry">
            <optgroup label="Scripts">
              {entries
                .filter((e) => e.kind === 'script')
                .map((e) => (
                  <option key={e.id} value={`script:${e.id}`}>
                    {e.name} ({e.id})
                  </option>
                ))}
            </optgroup>
            <optgroup label="Action templates">
              {entries
                .filter((e) => e.kind === 'action')
                .map((e) => (
                  <option key={e.id} value={`action:${e.id}`}>
                    {e.name} ({e.id})
                  </option>
                ))}
            </optgroup>
          </select>
        </label>
        <label className="text-sm">
          <span className="block text-xs font-medium text-slate-600">Each firing runs</span>
          <select name="target" className="mt-1 rounded border border-slate-300 px-2 py-1 text-sm" data-testid="new-schedule-target">
            <option value="run">on one host</option>
            <option value="bulk">as a bulk execution on many hosts</option>
          </select>
        </label>
        <Button type="submit" variant="primary" testId="new-schedule">
          New schedule…
        </Button>
      </Form>
      <DataTable rows={schedules} columns={SCHEDULE_COLUMNS} rowKey={(s) => s.id} testId="schedule-list" empty="No schedule yet: pick a script or action above." emptyTestId="no-schedules" />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
