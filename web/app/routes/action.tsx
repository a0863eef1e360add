import { Form, Link, useNavigation } from 'react-router';
import type { Route } from './+types/action';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { NotRunnableBadge, KindBadge } from '../components/entry-badges.tsx';
import { EntryFacts } from '../components/entry-facts.tsx';
import { RouteError } from '../components/route-error.tsx';
import { RunForm } from '../components/run-form.tsx';
import { Button, ButtonLink } from '../components/ui/button.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel } from '../components/ui/panel.tsx';
import type { ActionValidation, ActionView } from '@drydock/core/api-schemas';
import { formatDateTime } from '../lib/format.ts';
import { bulkNewHref } from '../lib/links.ts';
import { useMayRun } from '../lib/me.ts';
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
      <Notice tone="success" testId="validation-result" data-valid="true">
        The manifest is valid.{hosts}
        {caveat}
      </Notice>
    );
  }
  return (
    <Notice tone="warning" as="div" role="alert" testId="validation-result" data-valid="false">
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
    </Notice>
  );
}

export default function ActionPage({ loaderData, actionData }: Route.ComponentProps) {
  const { action, hosts, validation } = loaderData;
  const mayRun = useMayRun();
  const navigation = useNavigation();
  const validating = navigation.state === 'loading' && navigation.location.search.includes('validate');
  const href = `/actions/${encodeURIComponent(action.id)}`;
  return (
    <div className="space-y-4">
      <PageHeader
        crumbs={[{ label: 'Actions', to: '/actions' }, { label: action.category }]}
        title={action.name}
        badges={
          <>
            <KindBadge kind="action" />
            {action.runnable ? null : <NotRunnableBadge reason={action.notRunnableReason} />}
          </>
        }
        description={action.description || undefined}
        actions={
          <>
            {mayRun ? (
              <ButtonLink to={bulkNewHref({ kind: 'action', id: action.id })} testId="run-on-many">
                Run on many hosts
              </ButtonLink>
            ) : null}
            <Form method="get" action={href}>
              <Button type="submit" name="validate" value="1" testId="validate-action">
                {validating ? 'Validating…' : 'Validate'}
              </Button>
            </Form>
            <ButtonLink to={`${href}/edit`} testId="edit-action">
              Edit
            </ButtonLink>
            <ConfirmDelete what={`the action ${action.name}`} consequence="It leaves the catalog at once. Past runs stay in the history." />
          </>
        }
      />

      {actionData?.intent === 'delete' ? <Notice tone="error">{actionData.message}</Notice> : null}
      {validation ? <ValidationResult validation={validation} action={action} /> : null}

      <Panel title="Command template">
        <pre className="font-mono text-sm break-all whitespace-pre-wrap" data-testid="command-template">
          {action.commandTemplate}
        </pre>
      </Panel>

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
