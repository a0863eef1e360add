import { Link } from 'react-router';
import type { Route } from './+types/action-new';
import { ActionEditor } from '../components/action-editor.tsx';
import { RouteError } from '../components/route-error.tsx';
import { BLANK_ACTION } from '../lib/action-draft.ts';
import { saveAction } from './action-editor.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'New action · Drydock' }];

export async function action({ request }: Route.ActionArgs) {
  return saveAction(request);
}

export default function NewActionPage({ actionData }: Route.ComponentProps) {
  return (
    <div className="max-w-5xl">
      <p className="text-xs text-slate-500">
        <Link to="/actions" className="hover:underline">
          Actions
        </Link>{' '}
        / new
      </p>
      <h1 className="mb-4 text-lg font-semibold">New action</h1>
      <ActionEditor mode="new" draft={actionData?.manifest ?? BLANK_ACTION} serverErrors={actionData?.fields ?? {}} message={actionData?.message ?? null} cancelHref="/actions" />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
