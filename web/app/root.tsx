import './lib/zod-jitless.ts';
import type { ReactNode } from 'react';
import { Link, Links, Meta, NavLink, Outlet, Scripts, ScrollRestoration, useLocation, useRouteLoaderData, type ShouldRevalidateFunctionArgs } from 'react-router';
import type { Route } from './+types/root';
import { RouteError } from './components/route-error.tsx';
import { callApi } from './lib/api.server.ts';
import stylesheet from './app.css?url';

interface Me {
  id: string;
  name: string;
  email: string;
  role: string;
}

const ICON = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0f172a"/><path d="M3 10h10l-1.5 3h-7z" fill="#60a5fa"/><path d="M7 3h2v6H7z" fill="#e2e8f0"/></svg>')}`;

export const links: Route.LinksFunction = () => [
  { rel: 'stylesheet', href: stylesheet },
  { rel: 'icon', href: ICON },
];

export async function loader({ request }: Route.LoaderArgs) {
  const me = await callApi<Me>(request, '/api/v1/me');
  return { me: me.ok ? me.body : null };
}

// Who is signed in does not change between navigations; refetch it only after a form submission.
export function shouldRevalidate({ formMethod, defaultShouldRevalidate }: ShouldRevalidateFunctionArgs) {
  return formMethod !== undefined && formMethod !== 'GET' ? defaultShouldRevalidate : false;
}

function navClass({ isActive }: { isActive: boolean }) {
  return `rounded px-2.5 py-1 text-sm ${isActive ? 'bg-slate-700 text-white' : 'text-slate-300 hover:bg-slate-800 hover:text-white'}`;
}

function TopNav() {
  const rootData = useRouteLoaderData<typeof loader>('root');
  const me = rootData?.me;
  const { pathname } = useLocation();
  const inCatalog = pathname === '/' || pathname.startsWith('/scripts/');
  const inRepositories = pathname.startsWith('/repositories') || pathname.startsWith('/credentials');
  return (
    <header className="border-b border-slate-800 bg-slate-900">
      <nav className="mx-auto flex h-11 max-w-7xl items-center gap-4 px-4">
        <Link to="/" className="font-semibold tracking-tight text-white">
          Drydock
        </Link>
        <div className="flex items-center gap-1">
          <NavLink to="/" className={() => navClass({ isActive: inCatalog })}>
            Catalog
          </NavLink>
          <NavLink to="/actions" className={navClass}>
            Actions
          </NavLink>
          <NavLink to="/runs" className={navClass}>
            Runs
          </NavLink>
          <NavLink to="/bulk" className={navClass}>
            Bulk runs
          </NavLink>
          <NavLink to="/hosts" className={navClass}>
            Hosts
          </NavLink>
          <NavLink to="/locks" className={navClass}>
            Locks
          </NavLink>
          <NavLink to="/repositories" className={() => navClass({ isActive: inRepositories })}>
            Repositories
          </NavLink>
        </div>
        <div className="ml-auto text-xs text-slate-400" data-testid="signed-in-user">
          {me ? (
            <span title={me.email}>
              <span className="text-slate-200">{me.name}</span> · {me.role}
            </span>
          ) : (
            <span>not signed in</span>
          )}
        </div>
      </nav>
    </header>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <TopNav />
        <main className="mx-auto max-w-7xl px-4 py-5">{children}</main>
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export const meta: Route.MetaFunction = () => [{ title: 'Drydock' }];

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
