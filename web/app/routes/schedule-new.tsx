import type { Route } from './+types/schedule-new';
import { RouteError } from '../components/route-error.tsx';
import { Form, Link } from 'react-router';
import type { HostView, ScriptView } from '@drydock/core/api-schemas';
import { BulkOptionsFields } from '../components/bulk-form.tsx';
import { BulkHostPicker } from '../components/bulk-host-picker.tsx';
import { ParameterField } from '../components/parameter-field.tsx';
import { NotRunnableNotice, RunForm } from '../components/run-form.tsx';
import { IntentButton } from '../components/ui/button.tsx';
import { UnplacedErrors } from '../components/ui/field.tsx';
import { useCheckedForm } from '../components/ui/form.ts';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { checkBulkForm, DEFAULT_SETTINGS } from '../lib/bulk-form.ts';
import { unplacedErrors } from '../lib/form-errors.ts';
import { timeZones } from '../lib/zoned-time.ts';
import { createScheduleAction, loadNewSchedule, type ScheduleFormFailure } from './schedules.server.ts';

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

const SPEC_FIELDS = ['scheduleName', 'cron', 'timeZone'];
const BULK_FIELDS = ['hostIds', 'hostLabels', 'hostEnvironment', 'hostGroup', 'hostTags', 'maxParallel', 'batchSize', 'canarySize', 'failureThreshold', 'timeoutSeconds', 'hostRetries', 'takeLocks'];

/** A bulk schedule: the hosts (selected again at each firing), the parameters and the execution's options, with the spec. */
function BulkScheduleForm({ entry, hosts, failure }: { entry: ScriptView; hosts: HostView[]; failure: ScheduleFormFailure | undefined }) {
  const ref = entry.kind === 'action' ? { actionId: entry.id } : { scriptId: entry.id };
  const { errors, complained, busy, onSubmit, onChange } = useCheckedForm({
    check: (form) => checkBulkForm(entry.parameters, form, ref).fields,
    serverErrors: failure?.fields ?? {},
    intents: ['run'],
  });
  const known = new Set([...SPEC_FIELDS, ...BULK_FIELDS, ...entry.parameters.map((p) => p.name)]);
  const banner = !complained && !busy && failure ? failure.message : null;
  const settings = failure?.settings ?? DEFAULT_SETTINGS;
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="space-y-4 rounded border border-slate-200 bg-white px-4 py-3" data-testid="bulk-schedule-form">
      <NotRunnableNotice entry={entry} />
      <SpecFields failure={failure} />
      {banner ? (
        <Notice tone="error" as="div">
          {banner}
        </Notice>
      ) : null}
      <UnplacedErrors entries={unplacedErrors(errors, (field) => known.has(field))} />
      <fieldset disabled={!entry.runnable} className="min-w-0 space-y-4 disabled:opacity-60">
        <BulkHostPicker hosts={hosts} hostTags={entry.hostTags} kind={entry.kind} settings={settings} errors={errors} />
        <fieldset className="min-w-0 border-t border-slate-200 pt-3">
          <legend className="text-sm font-semibold text-slate-800">Parameters</legend>
          {entry.parameters.length === 0 ? (
            <p className="py-2 text-sm text-slate-500">This {entry.kind} takes no parameters.</p>
          ) : (
            <div className="divide-y divide-slate-100">
              {entry.parameters.map((p) => (
                <ParameterField key={p.name} parameter={p} submitted={failure?.values[p.name]} errors={errors[p.name]} hosts={hosts} />
              ))}
            </div>
          )}
        </fieldset>
        <div className="border-t border-slate-200 pt-3">
          <BulkOptionsFields entry={entry} result={failure ? { intent: 'start', message: null, fields: {}, values: failure.values, settings, preview: null } : undefined} errors={errors} />
        </div>
        <div className="border-t border-slate-200 pt-3">
          <IntentButton intent="run" busyLabel="Creating…" testId="create-schedule">
            Create schedule
          </IntentButton>
        </div>
      </fieldset>
    </Form>
  );
}

export default function NewSchedule({ loaderData, actionData }: Route.ComponentProps) {
  const { entry, target, hosts } = loaderData;
  const failure = actionData as ScheduleFormFailure | undefined;
  const other = `/schedules/new?entry=${entry.kind}:${encodeURIComponent(entry.id)}&target=${target === 'bulk' ? 'run' : 'bulk'}`;
  return (
    <div className="space-y-4">
      <PageHeader
        title={target === 'bulk' ? `Schedule ${entry.name} on many hosts` : `Schedule ${entry.name}`}
        crumbs={[{ label: 'Schedules', to: '/schedules' }, { label: 'New' }]}
        description={
          <>
            {target === 'bulk'
              ? 'Each firing starts a bulk execution over the hosts the selector finds then, with these options. '
              : 'Each firing runs it on one host. '}
            Its parameters are fixed for every firing and checked as a run&apos;s are. A schedule holds a secret only as a Vault reference ({'vault:<mount>/<path>#<key>'}): give one in a secret field, or leave it empty.{' '}
            <Link to={other} className="text-blue-700 hover:underline" data-testid="switch-target">
              {target === 'bulk' ? 'One host instead' : 'Many hosts instead'}
            </Link>
          </>
        }
      />
      {target === 'bulk' ? (
        <BulkScheduleForm entry={entry} hosts={hosts} failure={failure} />
      ) : (
        <RunForm entry={entry} hosts={hosts} failure={failure} hidden={{}} notice={<SpecFields failure={failure} />} submitLabel="Create schedule" />
      )}
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
