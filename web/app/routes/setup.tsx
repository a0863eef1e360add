import { Form, data, redirect, useNavigation } from 'react-router';
import type { Route } from './+types/setup';
import { RouteError } from '../components/route-error.tsx';
import { Button } from '../components/ui/button.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel } from '../components/ui/panel.tsx';
import { linkPost } from '../lib/session.server.ts';

// Two pages a one-time link opens: /setup (the first admin, from the link the API printed) and /reset-password
// (a member's invitation or reset link from an admin). Each sets a password and signs the person in.

export const meta: Route.MetaFunction = ({ location }) => [{ title: `${location.pathname === '/setup' ? 'Set up' : 'Set your password'} · Drydock` }];

export function loader({ request }: Route.LoaderArgs) {
  const url = new URL(request.url);
  return { token: url.searchParams.get('token') ?? '', firstAdmin: url.pathname === '/setup' };
}

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const text = (name: string) => String(form.get(name) ?? '');
  // A script-driven submission posts to `/setup.data`.
  const firstAdmin = new URL(request.url).pathname.replace(/\.data$/, '') === '/setup';
  const outcome = firstAdmin
    ? await linkPost(request, 'setup', { token: text('token'), email: text('email').trim(), name: text('name').trim(), password: text('password') })
    : await linkPost(request, 'reset', { token: text('token'), password: text('password') });
  if (outcome.ok) return redirect('/', { headers: outcome.headers });
  return data({ message: outcome.message, fields: outcome.fields }, { status: outcome.status });
}

function Input({ label, name, type = 'text', autoComplete, errors }: { label: string; name: string; type?: string; autoComplete: string; errors: string[] | undefined }) {
  return (
    <label className="block text-sm font-medium text-slate-800">
      {label}
      <input name={name} type={type} autoComplete={autoComplete} required aria-invalid={errors ? true : undefined} className="mt-1 block w-full rounded border border-slate-300 px-2.5 py-1.5 text-sm" />
      {errors ? (
        <span data-field-error={name} className="mt-1 block text-xs font-medium text-red-700">
          {errors.join(' ')}
        </span>
      ) : null}
    </label>
  );
}

export default function Setup({ loaderData, actionData }: Route.ComponentProps) {
  const busy = useNavigation().state === 'submitting';
  const fields = actionData?.fields ?? {};
  return (
    <div className="mx-auto max-w-sm">
      <PageHeader title={loaderData.firstAdmin ? 'Set up the first admin' : 'Set your password'} />
      <Panel>
        <Form method="post" className="space-y-3" data-testid="password-form">
          {actionData?.message ? <Notice tone="error">{actionData.message}</Notice> : null}
          <input type="hidden" name="token" value={loaderData.token} />
          {loaderData.firstAdmin ? (
            <>
              <Input label="Email" name="email" type="email" autoComplete="username" errors={fields.email} />
              <Input label="Name" name="name" autoComplete="name" errors={fields.name} />
            </>
          ) : null}
          <Input label="Password (at least 12 characters)" name="password" type="password" autoComplete="new-password" errors={fields.password} />
          <Button type="submit" variant="primary" disabled={busy}>
            {loaderData.firstAdmin ? 'Create the admin and sign in' : 'Set the password and sign in'}
          </Button>
        </Form>
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
