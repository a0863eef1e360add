import { Link } from 'react-router';
import type { Route } from './+types/repository-new';
import { RepositoryForm } from '../components/repository-form.tsx';
import { RouteError } from '../components/route-error.tsx';
import { createRepository, loadCredentials } from '../lib/repositories.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Add repository · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  return { credentials: await loadCredentials(request) };
}

export async function action({ request }: Route.ActionArgs) {
  return createRepository(request, await request.formData());
}

export default function NewRepositoryPage({ loaderData, actionData }: Route.ComponentProps) {
  return (
    <div className="max-w-4xl">
      <p className="text-xs text-slate-500">
        <Link to="/repositories" className="hover:underline">
          Repositories
        </Link>{' '}
        / new
      </p>
      <h1 className="mb-1 text-lg font-semibold">Add a repository</h1>
      <p className="mb-4 text-sm text-slate-600">
        Drydock clones the branch, reads every manifest under <code className="font-mono">manifests/</code>, and keeps each script's history so older versions can run
        again.
      </p>
      <div className="rounded border border-slate-200 bg-white p-4">
        <RepositoryForm
          mode="new"
          repository={null}
          submitted={actionData?.values}
          credentials={loaderData.credentials}
          errors={actionData?.fields ?? {}}
          message={actionData?.message ?? null}
        />
      </div>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
