import { Link } from 'react-router';
import type { Route } from './+types/action-edit';
import { ActionEditor } from '../components/action-editor.tsx';
import { RouteError } from '../components/route-error.tsx';
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
    <div className="max-w-5xl">
      <p className="text-xs text-slate-500">
        <Link to="/actions" className="hover:underline">
          Actions
        </Link>{' '}
        /{' '}
        <Link to={href} className="hover:underline">
          {action.name}
        </Link>{' '}
        / edit
      </p>
      <h1 className="mb-1 text-lg font-semibold">Edit {action.name}</h1>
      <p className="mb-4 text-xs text-slate-500">Saving makes revision {action.revision + 1}; runs already made keep the revision they ran.</p>
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
