import { NewTeamBodySchema, TeamPatchSchema, type TeamView } from '@drydock/core/api-schemas';
import { Form, data } from 'react-router';
import type { Route } from './+types/admin-teams';
import { RouteError } from '../components/route-error.tsx';
import { ActionForm, IntentButton } from '../components/ui/button.tsx';
import { Badge } from '../components/ui/badge.tsx';
import { Field } from '../components/ui/field.tsx';
import { useCheckedForm } from '../components/ui/form.ts';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel, Section } from '../components/ui/panel.tsx';
import { DataTable, type Column } from '../components/ui/table.tsx';
import { answer, api, result } from '../lib/api.server.ts';
import { hasFieldErrors, parseErrors, topLevelField, type FieldErrors } from '../lib/form-errors.ts';
import { formatDateTime } from '../lib/format.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Teams · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const { teams } = await answer(api(request).teams.$get());
  return { teams };
}

const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();

function teamBody(form: FormData) {
  const description = text(form, 'description');
  return { id: text(form, 'id'), name: text(form, 'name'), ...(description ? { description } : {}) };
}

function checkTeam(form: FormData): FieldErrors {
  return parseErrors(NewTeamBodySchema.safeParse(teamBody(form)), { field: topLevelField });
}

interface Outcome {
  intent: string;
  ok: boolean;
  message: string;
  /** The team just created: the page offers to switch to it. */
  created?: Pick<TeamView, 'id' | 'name'>;
  fields?: FieldErrors;
}

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const intent = text(form, '_intent');
  const v1 = api(request);
  if (intent === 'rename') {
    const teamId = text(form, 'teamId');
    const patch = TeamPatchSchema.safeParse({ name: text(form, 'name'), description: text(form, 'description') });
    if (!patch.success) return data<Outcome>({ intent, ok: false, message: patch.error.issues.map((i) => i.message).join('; ') }, { status: 400 });
    const changed = await result(v1.teams[':teamId'].$patch({ param: { teamId }, json: patch.data }));
    if (!changed.ok) return data<Outcome>({ intent, ok: false, message: changed.error.message }, { status: changed.status });
    return data<Outcome>({ intent, ok: true, message: `Team ${changed.body.id} is now called “${changed.body.name}”.` });
  }
  const fields = checkTeam(form);
  if (hasFieldErrors(fields)) return data<Outcome>({ intent: 'create', ok: false, message: 'Some fields need attention.', fields }, { status: 400 });
  const created = await result(v1.teams.$post({ json: NewTeamBodySchema.parse(teamBody(form)) }));
  if (!created.ok) return data<Outcome>({ intent: 'create', ok: false, message: created.error.message, fields: created.error.fields ?? {} }, { status: created.status });
  return data<Outcome>({
    intent: 'create',
    ok: true,
    message: `Team “${created.body.name}” created; you are its admin. Switch to it to add members and hosts.`,
    created: { id: created.body.id, name: created.body.name },
  });
}

/** An admin renames a team and rewrites its description in place; others see them only. */
function TeamEdit({ team }: { team: TeamView }) {
  if (team.role !== 'admin') return <span className="text-xs text-slate-500">{team.description || '—'}</span>;
  return (
    <ActionForm hidden={{ teamId: team.id }} className="flex flex-wrap items-center gap-1">
      <input name="name" defaultValue={team.name} key={team.name} aria-label={`Name of team ${team.id}`} className="w-40 rounded border border-slate-300 px-1.5 py-0.5 text-xs" data-testid="team-name-input" />
      <input
        name="description"
        defaultValue={team.description}
        key={team.description}
        aria-label={`Description of team ${team.id}`}
        placeholder="What the team looks after"
        className="w-64 rounded border border-slate-300 px-1.5 py-0.5 text-xs"
        data-testid="team-description-input"
      />
      <IntentButton intent="rename" match={{ teamId: team.id }} variant="secondary" size="xs" busyLabel="Saving…" testId="team-save">
        Save
      </IntentButton>
    </ActionForm>
  );
}

/** Posts to the header's team switcher route: the session moves there and this page loads again in that team. */
function SwitchButton({ teamId, label = 'Switch to it' }: { teamId: string; label?: string }) {
  return (
    <Form method="post" action="/team" className="inline">
      <input type="hidden" name="teamId" value={teamId} />
      <input type="hidden" name="returnTo" value="/admin/teams" />
      <button type="submit" className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-50" data-testid="team-switch">
        {label}
      </button>
    </Form>
  );
}

const COLUMNS: Column<TeamView>[] = [
  {
    key: 'name',
    header: 'Team',
    testId: 'team-name',
    cell: (t) => (
      <span className="flex items-center gap-2">
        {t.name}
        {t.current ? <Badge tone="info">current</Badge> : null}
      </span>
    ),
  },
  { key: 'id', header: 'Id', mono: true, cell: (t) => t.id },
  { key: 'role', header: 'Your role', testId: 'team-role', cell: (t) => t.role },
  { key: 'created', header: 'Created (UTC)', mono: true, nowrap: true, cell: (t) => formatDateTime(t.createdAt) },
  { key: 'edit', header: 'Name and description', cell: (t) => <TeamEdit team={t} /> },
  { key: 'switch', header: 'Switch', hidden: true, align: 'right', cell: (t) => (t.current ? null : <SwitchButton teamId={t.id} label="Switch" />) },
];

function NewTeam({ errors: serverErrors }: { errors: FieldErrors }) {
  const { errors, onSubmit, onChange } = useCheckedForm({ check: checkTeam, serverErrors, intents: ['create'] });
  return (
    <Form method="post" noValidate onSubmit={onSubmit} onChange={onChange} className="grid gap-3 sm:grid-cols-3" data-testid="team-form">
      <Field name="id" id="team-id" label="Id" required description="Lower-case letters, digits and -; it never changes." messages={errors.id}>
        {(props) => <input {...props} type="text" placeholder="payments" spellCheck={false} className={`${props.className} font-mono`} />}
      </Field>
      <Field name="name" id="team-name" label="Name" required messages={errors.name}>
        {(props) => <input {...props} type="text" placeholder="Payments" />}
      </Field>
      <Field name="description" id="team-description" label="Description" optional messages={errors.description}>
        {(props) => <input {...props} type="text" placeholder="What the team looks after" />}
      </Field>
      <div className="sm:col-span-3">
        <IntentButton intent="create" busyLabel="Creating…" testId="team-create">
          Create team
        </IntentButton>
      </div>
    </Form>
  );
}

export default function TeamsPage({ loaderData, actionData }: Route.ComponentProps) {
  const outcome = actionData as Outcome | undefined;
  return (
    <div className="max-w-6xl space-y-5">
      <PageHeader title="Teams" note="Your teams and your role in each. An admin of a team may create another and becomes its admin; hosts, runs and members belong to one team." />
      {outcome ? (
        <Notice tone={outcome.ok ? 'success' : 'error'} as="div" testId="team-message">
          <p>{outcome.message}</p>
          {outcome.created ? (
            <div className="mt-2">
              <SwitchButton teamId={outcome.created.id} />
            </div>
          ) : null}
        </Notice>
      ) : null}
      <Section title="Your teams">
        <DataTable
          rows={loaderData.teams}
          columns={COLUMNS}
          rowKey={(t) => t.id}
          row={(t) => ({ 'data-testid': 'team-row', 'data-team': t.id })}
          testId="team-list"
          label="Teams"
          empty="You belong to no team."
        />
      </Section>
      <Panel title="Create a team">
        <NewTeam errors={outcome?.intent === 'create' && !outcome.ok ? (outcome.fields ?? {}) : {}} />
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
