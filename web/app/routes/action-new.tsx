import type { Route } from './+types/action-new';
import { ActionEditor } from '../components/action-editor.tsx';
import { RouteError } from '../components/route-error.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { BLANK_ACTION } from '../lib/action-draft.ts';
import { saveAction } from './action-editor.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'New action · Drydock' }];

export async function action({ request }: Route.ActionArgs) {
  return saveAction(request);
}

export default function NewActionPage({ actionData }: Route.ComponentProps) {
  return (
    <div className="max-w-5xl space-y-4">
      <PageHeader crumbs={[{ label: 'Actions', to: '/actions' }, { label: 'new' }]} title="New action" />
      <ActionEditor mode="new" draft={actionData?.manifest ?? BLANK_ACTION} serverErrors={actionData?.fields ?? {}} message={actionData?.message ?? null} cancelHref="/actions" />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
