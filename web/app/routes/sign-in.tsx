import { Form, data, redirect, useNavigation } from 'react-router';
import type { Route } from './+types/sign-in';
import { RouteError } from '../components/route-error.tsx';
import { Button, buttonClass } from '../components/ui/button.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Panel } from '../components/ui/panel.tsx';
import { signInPost } from '../lib/session.server.ts';
import { oidcProvider } from './sign-in-oidc.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Sign in · Drydock' }];

/** Where to go after signing in: a path of this site only, never another origin. */
export function returnPath(value: FormDataEntryValue | string | null): string {
  const path = typeof value === 'string' ? value : '';
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') ? path : '/';
}

export function loader({ request }: Route.LoaderArgs) {
  return { returnTo: returnPath(new URL(request.url).searchParams.get('returnTo')), provider: oidcProvider() };
}

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const email = String(form.get('email') ?? '').trim();
  const password = String(form.get('password') ?? '');
  const outcome = await signInPost(request, { email, password });
  if (outcome.ok) return redirect(returnPath(form.get('returnTo')), { headers: outcome.headers });
  return data({ message: outcome.message, email }, { status: outcome.status });
}

export default function SignIn({ loaderData, actionData }: Route.ComponentProps) {
  const busy = useNavigation().state === 'submitting';
  return (
    <div className="mx-auto max-w-sm">
      <PageHeader title="Sign in" />
      <Panel>
        <Form method="post" className="space-y-3" data-testid="sign-in-form">
          {actionData?.message ? <Notice tone="error">{actionData.message}</Notice> : null}
          <input type="hidden" name="returnTo" value={loaderData.returnTo} />
          <label className="block text-sm font-medium text-slate-800">
            Email
            <input name="email" type="email" autoComplete="username" required defaultValue={actionData?.email ?? ''} className="mt-1 block w-full rounded border border-slate-300 px-2.5 py-1.5 text-sm" />
          </label>
          <label className="block text-sm font-medium text-slate-800">
            Password
            <input name="password" type="password" autoComplete="current-password" required className="mt-1 block w-full rounded border border-slate-300 px-2.5 py-1.5 text-sm" />
          </label>
          <Button type="submit" variant="primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </Button>
        </Form>
        {loaderData.provider ? (
          <a href={loaderData.provider.startUrl} className={buttonClass('secondary', 'md', 'mt-3 w-full justify-center')} data-testid="sign-in-oidc">
            Sign in with {loaderData.provider.name}
          </a>
        ) : null}
      </Panel>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
