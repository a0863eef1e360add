import { Form } from 'react-router';
import { data } from 'react-router';
import type { Route } from './+types/blackouts';
import { RouteError } from '../components/route-error.tsx';
import { ActionForm, IntentButton } from '../components/ui/button.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { DataTable, type Column } from '../components/ui/table.tsx';
import { answer, api, result } from '../lib/api.server.ts';
import { timeZones } from '../lib/zoned-time.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Blackout windows · Drydock' }];

const ENVIRONMENTS = ['dev', 'staging', 'uat', 'preprod'] as const;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export async function loader({ request }: Route.LoaderArgs) {
  return answer(api(request).blackouts.$get());
}

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const text = (name: string) => String(form.get(name) ?? '').trim();
  if (text('_intent') === 'delete') {
    const res = await result(api(request).blackouts[':id'].$delete({ param: { id: text('id') } }));
    return res.ok ? { ok: true, message: 'Removed.' } : data({ ok: false, message: res.error.message }, { status: res.status });
  }
  const res = await result(
    api(request).blackouts.$post({
      json: {
        type: 'weekly',
        name: text('name'),
        scope: { environment: text('environment') as (typeof ENVIRONMENTS)[number] },
        timeZone: text('timeZone'),
        from: { day: text('fromDay') as (typeof DAYS)[number], time: text('fromTime') },
        to: { day: text('toDay') as (typeof DAYS)[number], time: text('toTime') },
      },
    }),
  );
  if (res.ok) return { ok: true, message: `Added "${res.body.name}".` };
  const details = Object.entries(res.error.fields ?? {}).map(([k, v]) => `${k}: ${v.join(', ')}`);
  return data({ ok: false, message: [res.error.message, ...details].join(' · ') }, { status: res.status });
}

function describeWindow(w: Record<string, unknown>): string {
  if (w.type === 'once') return `once, ${String(w.start)} to ${String(w.end)}`;
  const from = w.from as { day: string; time: string };
  const to = w.to as { day: string; time: string };
  return `every week, ${from.day} ${from.time} to ${to.day} ${to.time} ${String(w.timeZone)}`;
}

const input = 'rounded border border-slate-300 px-2 py-1 text-sm';

type BlackoutRow = Route.ComponentProps['loaderData']['blackouts'][number];

const BLACKOUT_COLUMNS: readonly Column<BlackoutRow>[] = [
  { key: 'name', header: 'Window', cell: (b) => b.name },
  { key: 'environment', header: 'Environment', cell: (b) => b.environment },
  { key: 'when', header: 'When', cell: (b) => describeWindow(b.window) },
  {
    key: 'now',
    header: 'Now',
    cell: (b) => (b.activeNow ? <span className="font-medium text-amber-800">in force until {b.activeNow.end}</span> : <span className="text-slate-400">not in force</span>),
  },
  {
    key: 'remove',
    header: 'Remove',
    hidden: true,
    align: 'right',
    cell: (b) => (
      <ActionForm hidden={{ id: b.id }}>
        <IntentButton intent="delete" match={{ id: b.id }} variant="danger-outline" size="xs" busyLabel="Removing…">
          Remove
        </IntentButton>
      </ActionForm>
    ),
  },
];

export default function Blackouts({ loaderData, actionData }: Route.ComponentProps) {
  const { blackouts } = loaderData;
  const outcome = actionData as { ok: boolean; message: string } | undefined;
  return (
    <div className="space-y-4">
      <PageHeader
        title="Blackout windows"
        crumbs={[{ label: 'Schedules', to: '/schedules' }, { label: 'Blackout windows' }]}
        description="No automation in an environment while a window is in force: scheduled firings are skipped and recorded with the window's name; a manual run needs an explicit override, audited."
      />
      {outcome ? (
        <Notice tone={outcome.ok ? 'success' : 'error'} as="div" testId="blackout-message">
          {outcome.message}
        </Notice>
      ) : null}
      <Form method="post" className="flex flex-wrap items-end gap-2 rounded border border-slate-200 bg-white px-4 py-3" data-testid="blackout-form">
        <input name="name" required placeholder="weekend freeze" className={input} aria-label="Name" />
        <select name="environment" className={input} aria-label="Environment">
          {ENVIRONMENTS.map((e) => (
            <option key={e}>{e}</option>
          ))}
        </select>
        <span className="text-sm text-slate-600">every week from</span>
        <select name="fromDay" defaultValue="fri" className={input} aria-label="From day">
          {DAYS.map((d) => (
            <option key={d}>{d}</option>
          ))}
        </select>
        <input name="fromTime" defaultValue="18:00" pattern="\d\d:\d\d" className={`${input} w-20`} aria-label="From time" />
        <span className="text-sm text-slate-600">to</span>
        <select name="toDay" defaultValue="mon" className={input} aria-label="To day">
          {DAYS.map((d) => (
            <option key={d}>{d}</option>
          ))}
        </select>
        <input name="toTime" defaultValue="06:00" pattern="\d\d:\d\d" className={`${input} w-20`} aria-label="To time" />
        <select name="timeZone" defaultValue="UTC" className={input} aria-label="Time zone">
          {timeZones().map((z) => (
            <option key={z}>{z}</option>
          ))}
        </select>
        <IntentButton intent="create" busyLabel="Adding…" testId="add-blackout">
          Add window
        </IntentButton>
      </Form>
      <DataTable rows={blackouts} columns={BLACKOUT_COLUMNS} rowKey={(b) => b.id} row={() => ({ 'data-testid': 'blackout-row' })} testId="blackout-list" empty="No blackout window." emptyTestId="no-blackouts" />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
