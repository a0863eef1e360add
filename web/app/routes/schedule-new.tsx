import type { Route } from './+types/schedule-new';
import { RouteError } from '../components/route-error.tsx';
import { RunForm } from '../components/run-form.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { timeZones } from '../lib/zoned-time.ts';
import { createScheduleAction, type ScheduleFormFailure } from './schedules.server.ts';
import { loadNewSchedule } from './schedules.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'New schedule · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return loadNewSchedule(request);
}

export async function action({ request }: Route.ActionArgs) {
  return createScheduleAction(request);
}

function SpecFields({ failure }: { failure: ScheduleFormFailure | undefined }) {
  const messages = (name: string) =>
    (failure?.fields[name] ?? []).map((m) => (
      <p key={m} className="mt-1 text-xs text-red-700">
        {m}
      </p>
    ));
  const input = 'mt-1 w-full max-w-md rounded border border-slate-300 px-2 py-1 text-sm';
  return (
    <div className="space-y-3 border-b border-slate-200 pb-3">
      <label className="block text-sm font-medium text-slate-700">
        Name
        <input name="scheduleName" defaultValue={failure?.schedule.scheduleName} required maxLength={100} placeholder="nightly reset" className={input} data-testid="schedule-name" />
        {messages('scheduleName')}
      </label>
      <label className="block text-sm font-medium text-slate-700">
        When (cron: minute hour day-of-month month day-of-week)
        <input name="cron" defaultValue={failure?.schedule.cron ?? '30 2 * * *'} required className={`${input} font-mono`} data-testid="schedule-cron" />
        {messages('cron')}
      </label>
      <label className="block text-sm font-medium text-slate-700">
        Time zone
        <select name="timeZone" defaultValue={failure?.schedule.timeZone ?? 'UTC'} className={input} data-testid="schedule-zone">
          {timeZones().map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
        <span className="mt-1 block text-xs font-normal text-slate-500">The cron is read in this zone; a time the clocks skip does not fire that day, a repeated one fires once.</span>
        {messages('timeZone')}
      </label>
    </div>
  );
}

export default function NewSchedule({ loaderData, actionData }: Route.ComponentProps) {
  const { script, hosts } = loaderData;
  const failure = actionData as ScheduleFormFailure | undefined;
  return (
    <div className="space-y-4">
      <PageHeader
        title={`Schedule ${script.name}`}
        crumbs={[{ label: 'Schedules', to: '/schedules' }, { label: 'New' }]}
        description="Its parameters are fixed for every firing and checked as a run's are. A schedule cannot hold a secret: leave secret fields empty."
      />
      <RunForm entry={script} hosts={hosts} failure={failure} hidden={{}} notice={<SpecFields failure={failure} />} submitLabel="Create schedule" />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
