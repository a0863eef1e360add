import { Form, Link, useNavigation } from 'react-router';
import type { Route } from './+types/action';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { NotRunnableBadge, KindBadge } from '../components/entry-badges.tsx';
import { EntryFacts } from '../components/entry-facts.tsx';
import { RouteError } from '../components/route-error.tsx';
import { RunForm } from '../components/run-form.tsx';
import type { ActionValidation, ActionView } from '../lib/api-views.ts';
import { formatDateTime } from '../lib/format.ts';
import { bulkNewHref } from '../lib/links.ts';
import { actOnAction, loadActionPage } from './action.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `${loaderData?.action.name ?? 'Action'} · Drydock` }];

export async function loader({ request, params }: Route.LoaderArgs) {
  return loadActionPage(request, params.id);
}

export async function action({ request, params }: Route.ActionArgs) {
  return actOnAction(request, params.id);
}

function ValidationResult({ validation, action }: { validation: ActionValidation; action: ActionView }) {
  if (validation.valid) {
    const hosts = action.hostTags.length > 0 ? ' A registered host carries all of its host tags.' : '';
    const caveat = action.notRunnableReason ? ` This Drydock still cannot run it: ${action.notRunnableReason}.` : '';
    return (
      <p role="status" data-testid="validation-result" data-valid="true" className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
        The manifest is valid.{hosts}
        {caveat}
      </p>
    );
  }
  return (
    <div role="alert" data-testid="validation-result" data-valid="false" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
      <p className="font-semibold">
        {validation.problems.length} {validation.problems.length === 1 ? 'problem' : 'problems'} to fix before this action can run
      </p>
      <ul className="mt-1 space-y-0.5 text-xs">
        {validation.problems.map((p, i) => (
          <li key={`${p.path}:${i}`} data-testid="validation-problem">
            {p.path ? <span className="font-mono font-semibold">{p.path}: </span> : null}
            {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export default function ActionPage({ loaderData, actionData }: Route.ComponentProps) {
  const { action, hosts, validation } = loaderData;
  const navigation = useNavigation();
  const validating = navigation.state === 'loading' && navigation.location.search.includes('validate');
  const href = `/actions/${encodeURIComponent(action.id)}`;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <p className="text-xs text-slate-500">
            <Link to="/actions" className="hover:underline">
              Actions
            </Link>{' '}
            / {action.category}
          </p>
          <h1 className="flex items-center gap-2 text-lg font-semibold">
            {action.name}
            <KindBadge kind="action" />
            {action.runnable ? null : <NotRunnableBadge reason={action.notRunnableReason} />}
          </h1>
          {action.description ? <p className="mt-1 max-w-3xl text-sm text-slate-600">{action.description}</p> : null}
        </div>
        <div className="flex items-start gap-2">
          <Link to={bulkNewHref({ kind: 'action', id: action.id })} data-testid="run-on-many" className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100">
            Run on many hosts
          </Link>
          <Form method="get" action={href}>
            <button
              type="submit"
              name="validate"
              value="1"
              data-testid="validate-action"
              className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100"
            >
              {validating ? 'Validating…' : 'Validate'}
            </button>
          </Form>
          <Link to={`${href}/edit`} data-testid="edit-action" className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100">
            Edit
          </Link>
          <ConfirmDelete what={`the action ${action.name}`} consequence="It leaves the catalog at once. Past runs stay in the history." />
        </div>
      </div>

      {actionData?.intent === 'delete' ? (
        <p role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {actionData.message}
        </p>
      ) : null}
      {validation ? <ValidationResult validation={validation} action={action} /> : null}

      <section className="rounded border border-slate-200 bg-white px-4 py-3">
        <h2 className="mb-1 text-xs font-medium text-slate-500">Command template</h2>
        <pre className="font-mono text-sm break-all whitespace-pre-wrap" data-testid="command-template">
          {action.commandTemplate}
        </pre>
      </section>

      <div className="grid gap-5 lg:grid-cols-[1fr_20rem]">
        <RunForm entry={action} hosts={hosts} failure={actionData?.intent === 'run' ? actionData : undefined} hidden={{}} submitLabel="Run action" />
        <EntryFacts
          entry={action}
          extra={[
            ['Created by', action.createdBy],
            ['Updated', <span className="font-mono text-xs">{formatDateTime(action.updatedAt)} UTC</span>],
          ]}
          footer={
            <Link to={`/runs?script=${encodeURIComponent(action.id)}`} className="text-blue-700 hover:underline">
              Past runs of this action →
            </Link>
          }
        />
      </div>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
