import type { Route } from './+types/action-edit';
import { ActionEditor } from '../components/action-editor.tsx';
import { RouteError } from '../components/route-error.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { loadAction, saveAction } from './action-editor.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `Edit ${loaderData?.action.name ?? 'action'} · Drydock` }];

export async function loader({ request, params }: Route.LoaderArgs) {
  return { action: await loadAction(request, params.id) };
}

export async function action({ request, params }: Route.ActionArgs) {
  return saveAction(request, params.id);
}

export default function EditActionPage({ loaderData, actionData }: Route.ComponentProps) {
  const { action } = loaderData;
  const href = `/actions/${encodeURIComponent(action.id)}`;
  return (
    <div className="max-w-5xl space-y-4">
      <PageHeader
        crumbs={[{ label: 'Actions', to: '/actions' }, { label: action.name, to: href }, { label: 'edit' }]}
        title={`Edit ${action.name}`}
        note={`Saving makes revision ${action.revision + 1}; runs already made keep the revision they ran.`}
      />
      <ActionEditor
        mode="edit"
        draft={actionData?.manifest ?? { ...action.manifest, id: action.id }}
        serverErrors={actionData?.fields ?? {}}
        message={actionData?.message ?? null}
        cancelHref={href}
      />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
