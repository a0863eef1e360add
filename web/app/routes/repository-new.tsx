import type { Route } from './+types/repository-new';
import { RepositoryForm } from '../components/repository-form.tsx';
import { RouteError } from '../components/route-error.tsx';
import { FormPage } from '../components/ui/page-header.tsx';
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
    <FormPage
      crumbs={[{ label: 'Repositories', to: '/repositories' }, { label: 'new' }]}
      title="Add a repository"
      description={
        <>
          Drydock clones the branch, reads every manifest under <code className="font-mono">manifests/</code>, and keeps each script's history so older versions can run
          again.
        </>
      }
    >
      <RepositoryForm
        mode="new"
        repository={null}
        submitted={actionData?.values}
        credentials={loaderData.credentials}
        errors={actionData?.fields ?? {}}
        message={actionData?.message ?? null}
      />
    </FormPage>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
