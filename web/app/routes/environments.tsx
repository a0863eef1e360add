import { EnvironmentPatchSchema, type EnvironmentView, NewEnvironmentBodySchema, type RunView } from '@drydock/core/api-schemas';
import type { BulkView } from '@drydock/core/bulk';
import { Form, Link, data, redirect } from 'react-router';
import type { Route } from './+types/environments';
import { EnvironmentSwatch } from '../components/environment-swatch.tsx';
import { RouteError } from '../components/route-error.tsx';
import { IntentButton } from '../components/ui/button.tsx';
import { Field } from '../components/ui/field.tsx';
import { useCheckedForm } from '../components/ui/form.ts';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel, Section } from '../components/ui/panel.tsx';
import { DataTable, type Column } from '../components/ui/table.tsx';
import { answer, api, result } from '../lib/api.server.ts';
import { hasFieldErrors, parseErrors, topLevelField, type FieldErrors } from '../lib/form-errors.ts';
import { formatDateTime } from '../lib/format.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Environments · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const v1 = api(request);
  const [{ environments }, waiting] = await Promise.all([answer(v1.environments.$get()), answer(v1.approvals.$get())]);
  const url = new URL(request.url);
  const saved = url.searchParams.get('saved');
  return { environments, waiting, done: saved ? `Environment “${saved}” saved.` : null };
}

/** The form's fields as POST /environments takes them; the expiry is typed in minutes. */
function environmentBody(form: FormData): Record<string, unknown> {
  const text = (name: string) => String(form.get(name) ?? '').trim();
  const minutes = Number(text('expiryMinutes') || '1440');
  return {
    name: text('name'),
    colour: text('colour') || '#64748b',
    description: text('description'),
    requiresApproval: form.get('requiresApproval') === 'on',
    approvalExpirySeconds: Number.isFinite(minutes) ? Math.round(minutes * 60) : minutes,
  };
}

function checkEnvironment(form: FormData): FieldErrors {
  const fields = parseErrors(NewEnvironmentBodySchema.safeParse(environmentBody(form)), { field: topLevelField });
  if (fields.approvalExpirySeconds) fields.expiryMinutes = fields.approvalExpirySeconds;
  return fields;
}

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const intent = form.get('_intent');
  const body = environmentBody(form);
  if (intent === 'save') {
    const name = String(body.name);
    const patch = EnvironmentPatchSchema.safeParse({ colour: body.colour, description: body.description, requiresApproval: body.requiresApproval, approvalExpirySeconds: body.approvalExpirySeconds });
    if (!patch.success) return data({ intent: 'save' as const, message: `${name}: ${patch.error.issues.map((i) => i.message).join('; ')}`, fields: {} as FieldErrors }, { status: 400 });
    const saved = await result(api(request).environments[':name'].$patch({ param: { name }, json: patch.data }));
    if (saved.ok) return redirect(`/environments?saved=${encodeURIComponent(name)}`);
    return data({ intent: 'save' as const, message: saved.error.message, fields: saved.error.fields ?? {} }, { status: saved.status });
  }
  const fields = checkEnvironment(form);
  if (hasFieldErrors(fields)) return data({ intent: 'create' as const, message: 'Some fields need attention.', fields }, { status: 400 });
  const created = await result(api(request).environments.$post({ json: NewEnvironmentBodySchema.parse(body) }));
  if (created.ok) return redirect(`/environments?saved=${encodeURIComponent(created.body.name)}`);
  return data({ intent: 'create' as const, message: created.error.message, fields: created.error.fields ?? {} }, { status: created.status });
}

/** One environment's settings, changed in place. */
function EditEnvironment({ env }: { env: EnvironmentView }) {
  return (
    <Form method="post" className="flex flex-wrap items-center gap-2" data-testid="environment-edit">
      <input type="hidden" name="name" value={env.name} />
      <input type="color" name="colour" defaultValue={env.colour} aria-label={`Colour of ${env.name}`} className="h-7 w-10 rounded border border-slate-300" />
      <input type="text" name="description" defaultValue={env.description} aria-label={`Description of ${env.name}`} className="w-48 rounded border border-slate-300 px-2 py-0.5 text-sm" />
      <label className="inline-flex items-center gap-1 text-sm">
        <input type="checkbox" name="requiresApproval" defaultChecked={env.requiresApproval} data-testid="environment-protected" /> needs approval
      </label>
      <label className="inline-flex items-center gap-1 text-sm">
        expires after
        <input type="number" name="expiryMinutes" min={1} defaultValue={Math.round(env.approvalExpirySeconds / 60)} className="w-20 rounded border border-slate-300 px-2 py-0.5 text-sm" /> min
      </label>
      <IntentButton intent="save" size="xs" variant="secondary" busyLabel="Saving…" testId="environment-save">
        Save
      </IntentButton>
    </Form>
  );
}

const COLUMNS: Column<EnvironmentView>[] = [
  { key: 'name', header: 'Environment', cell: (e) => <EnvironmentSwatch name={e.name} colour={e.colour} /> },
  { key: 'hosts', header: 'Hosts', numeric: true, cell: (e) => <Link to={`/hosts?environment=${encodeURIComponent(e.name)}`} className="text-blue-700 hover:underline">{e.hosts}</Link> },
  { key: 'settings', header: 'Colour, description, approval', cell: (e) => <EditEnvironment env={e} /> },
];

function AddEnvironment({ errors: serverErrors }: { errors: FieldErrors }) {
  const { errors, onSubmit, onChange } = useCheckedForm({ check: checkEnvironment, serverErrors, intents: ['create'] });
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="grid gap-3 sm:grid-cols-2" data-testid="environment-form">
      <Field name="name" id="env-name" label="Name" messages={errors.name}>
        {(props) => <input {...props} type="text" placeholder="perf" />}
      </Field>
      <Field name="colour" id="env-colour" label="Colour" messages={errors.colour}>
        {(props) => <input {...props} type="color" defaultValue="#64748b" className="h-9 w-16 rounded border border-slate-300" />}
      </Field>
      <Field name="description" id="env-description" label="Description" optional messages={errors.description} className="sm:col-span-2">
        {(props) => <input {...props} type="text" />}
      </Field>
      <Field name="requiresApproval" id="env-protected" label="Runs here need another operator's approval" layout="inline" messages={errors.requiresApproval}>
        {(props) => <input {...props} type="checkbox" />}
      </Field>
      <Field name="expiryMinutes" id="env-expiry" label="A request expires after (minutes)" messages={errors.expiryMinutes}>
        {(props) => <input {...props} type="number" min={1} defaultValue={1440} />}
      </Field>
      <div className="sm:col-span-2">
        <IntentButton intent="create" busyLabel="Creating…" testId="add-environment">
          Create environment
        </IntentButton>
      </div>
    </Form>
  );
}

const WAITING_RUNS: Column<RunView>[] = [
  { key: 'run', header: 'Run', cell: (r) => <Link to={`/runs/${r.id}`} className="text-blue-700 hover:underline">{r.scriptName}</Link> },
  { key: 'host', header: 'Host', mono: true, cell: (r) => r.hostId },
  { key: 'env', header: 'Environment', mono: true, cell: (r) => r.approval?.environment ?? '—' },
  { key: 'by', header: 'Requested by', cell: (r) => r.initiator.name },
  { key: 'expires', header: 'Expires (UTC)', mono: true, nowrap: true, cell: (r) => formatDateTime(r.approval?.expiresAt ?? null) },
];

const WAITING_BULK: Column<BulkView>[] = [
  { key: 'bulk', header: 'Bulk execution', cell: (b) => <Link to={`/bulk/${b.id}`} className="text-blue-700 hover:underline">{b.scriptName} on {b.total} hosts</Link> },
  { key: 'env', header: 'Environment', mono: true, cell: (b) => b.approval?.environment ?? '—' },
  { key: 'by', header: 'Requested by', cell: (b) => b.initiator.name },
  { key: 'expires', header: 'Expires (UTC)', mono: true, nowrap: true, cell: (b) => formatDateTime(b.approval?.expiresAt ?? null) },
];

export default function EnvironmentsPage({ loaderData, actionData }: Route.ComponentProps) {
  const { environments, waiting, done } = loaderData;
  return (
    <div className="max-w-6xl space-y-5">
      <PageHeader title="Environments" note="Your team's environments. A protected one holds every run and bulk execution on its hosts until another operator approves it." />
      {actionData ? (
        <Notice tone="error" testId="environment-message">
          {actionData.message}
        </Notice>
      ) : done ? (
        <Notice tone="success" testId="environment-message">
          {done}
        </Notice>
      ) : null}

      <Section title="Waiting for approval" testId="approval-queue">
        <div className="space-y-3">
          <DataTable rows={waiting.runs} columns={WAITING_RUNS} rowKey={(r) => r.id} row={() => ({ 'data-testid': 'waiting-run' })} empty="No run waits for approval." />
          {waiting.bulk.length > 0 ? <DataTable rows={waiting.bulk} columns={WAITING_BULK} rowKey={(b) => b.id} row={() => ({ 'data-testid': 'waiting-bulk' })} empty="" /> : null}
        </div>
      </Section>

      <DataTable
        rows={environments}
        columns={COLUMNS}
        rowKey={(e) => e.name}
        row={(e) => ({ 'data-testid': 'environment-row', 'data-environment': e.name })}
        testId="environment-list"
        empty="No environments yet."
      />

      <Panel title="Create an environment">
        <AddEnvironment errors={actionData?.intent === 'create' ? actionData.fields : {}} />
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
