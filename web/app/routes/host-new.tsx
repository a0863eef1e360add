import { Link } from 'react-router';
import type { Route } from './+types/host-new';
import { HostForm } from '../components/host-form.tsx';
import { RouteError } from '../components/route-error.tsx';
import { FormPage } from '../components/ui/page-header.tsx';
import { createHost, loadEnvironments, loadHostCredentials, loadJumpHosts } from '../lib/hosts.server.ts';
import type { AgentlessTransport } from '../lib/host-form.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Add a host · Drydock' }];

export async function loader({ request }: Route.LoaderArgs) {
  const [credentials, jumpHosts, environments] = await Promise.all([loadHostCredentials(request), loadJumpHosts(request), loadEnvironments(request)]);
  // `?transport=winrm` (or docker) opens the form on WinRM, so a link (or a page without JS) can start there.
  const asked = new URL(request.url).searchParams.get('transport');
  const transport: AgentlessTransport = asked === 'winrm' || asked === 'docker' ? asked : 'ssh';
  return { credentials, jumpHosts, transport, environments: environments.map((e) => e.name) };
}

export async function action({ request }: Route.ActionArgs) {
  return createHost(request, await request.formData());
}

export default function NewHostPage({ loaderData, actionData }: Route.ComponentProps) {
  return (
    <FormPage
      crumbs={[{ label: 'Hosts', to: '/hosts' }, { label: 'new host' }]}
      title="Add an SSH or WinRM host"
      description={
        <>
          Nothing is installed on it: Drydock's central worker logs in over SSH, writes each script to a private temporary directory there, runs it and removes it. The host needs the interpreters your scripts use. A Windows host is reached over
          WinRM on HTTPS instead and runs PowerShell scripts and command templates. To run scripts from the host itself instead,{' '}
          <Link to="/hosts/install" className="text-blue-700 hover:underline">
            install an agent
          </Link>
          .
        </>
      }
    >
      <HostForm
        mode="new"
        environments={loaderData.environments}
        host={null}
        submitted={actionData?.values}
        credentials={loaderData.credentials}
        jumpHosts={loaderData.jumpHosts}
        defaultTransport={loaderData.transport}
        errors={actionData?.fields ?? {}}
        message={actionData?.message ?? null}
      />
    </FormPage>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
