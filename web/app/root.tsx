import './lib/zod-jitless.ts';
import type { ReactNode } from 'react';
import { Form, Link, Links, Meta, NavLink, Outlet, redirect, Scripts, ScrollRestoration, useLocation, useRouteLoaderData, useSubmit, type ShouldRevalidateFunctionArgs } from 'react-router';
import type { Me } from '@drydock/core/api-schemas';
import type { Route } from './+types/root';
import { RouteError } from './components/route-error.tsx';
import { api, result } from './lib/api.server.ts';
import stylesheet from './app.css?url';

const ICON = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0f172a"/><path d="M3 10h10l-1.5 3h-7z" fill="#60a5fa"/><path d="M7 3h2v6H7z" fill="#e2e8f0"/></svg>')}`;

export const links: Route.LinksFunction = () => [
  { rel: 'stylesheet', href: stylesheet },
  { rel: 'icon', href: ICON },
];

/** The page a request is for: a client-side navigation asks for `<page>.data` (`/_root.data` for `/`). */
function pageOf(url: URL): { pathname: string; search: string } {
  const pathname = url.pathname === '/_root.data' ? '/' : url.pathname.replace(/\.data$/, '');
  const search = new URLSearchParams(url.search);
  search.delete('_routes');
  const query = search.toString();
  return { pathname, search: query ? `?${query}` : '' };
}

/** Pages a person reaches before signing in. */
const OPEN_PAGES = new Set(['/sign-in', '/setup', '/reset-password']);

export async function loader({ request }: Route.LoaderArgs) {
  const me = await result(api(request).me.$get());
  // Not signed in (DRYDOCK_AUTH_MODE=accounts): to the sign-in page, and back here after it.
  if (!me.ok && me.status === 401) {
    const page = pageOf(new URL(request.url));
    if (!OPEN_PAGES.has(page.pathname)) throw redirect(`/sign-in?returnTo=${encodeURIComponent(page.pathname + page.search)}`);
  }
  return { me: me.ok ? me.body : null };
}

// Who is signed in changes only by signing in or out; otherwise refetch it only after a form submission.
export function shouldRevalidate({ formMethod, defaultShouldRevalidate, currentUrl, nextUrl }: ShouldRevalidateFunctionArgs) {
  // Into or out of the sign-in page (signing in, signing out): who it is has changed.
  if (OPEN_PAGES.has(currentUrl.pathname) || OPEN_PAGES.has(nextUrl.pathname)) return true;
  return formMethod !== undefined && formMethod !== 'GET' ? defaultShouldRevalidate : false;
}

function navClass({ isActive }: { isActive: boolean }) {
  return `rounded px-2 py-1 text-sm whitespace-nowrap focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-400 ${isActive ? 'bg-slate-700 text-white' : 'text-slate-300 hover:bg-slate-800 hover:text-white'}`;
}

/** The links beside who is signed in: smaller than the sections, so the header keeps to one line. */
function accountLinkClass({ isActive }: { isActive: boolean }) {
  return `rounded px-1.5 py-0.5 whitespace-nowrap focus-visible:outline-2 focus-visible:outline-blue-400 ${isActive ? 'bg-slate-700 text-white' : 'text-slate-300 hover:bg-slate-800 hover:text-white'}`;
}

/** The pages of one's own access, beside who is signed in; `admin` ones only for a team's admins. */
const ACCOUNT_LINKS: { to: string; label: string; title: string; testId: string; admin?: boolean }[] = [
  { to: '/settings/tokens', label: 'Tokens', title: 'Your API tokens', testId: 'nav-tokens' },
  { to: '/settings/notifications', label: 'Notifications', title: 'Channels, rules, your preferences and the delivery log', testId: 'nav-notifications' },
  { to: '/admin/members', label: 'Members', title: "The team's members and service accounts", testId: 'nav-members', admin: true },
  { to: '/admin/teams', label: 'Teams', title: 'Your teams; create one', testId: 'nav-teams', admin: true },
];

/** The sections of the app; `also` marks a section current on pages that live under another path. */
const SECTIONS: { to: string; label: string; also?: (pathname: string) => boolean }[] = [
  { to: '/', label: 'Catalog', also: (p) => p === '/' || p.startsWith('/scripts/') },
  { to: '/actions', label: 'Actions' },
  { to: '/runs', label: 'Runs' },
  { to: '/bulk', label: 'Bulk runs' },
  { to: '/hosts', label: 'Hosts' },
  { to: '/locks', label: 'Locks' },
  { to: '/environments', label: 'Environments' },
  { to: '/schedules', label: 'Schedules' },
  { to: '/repositories', label: 'Repositories', also: (p) => p.startsWith('/repositories') || p.startsWith('/credentials') },
  { to: '/audit', label: 'Audit' },
];

/** The teams of the person signed in: choosing one moves the session there and loads the page again in it. */
function TeamSwitcher({ me }: { me: Me }) {
  const submit = useSubmit();
  const { pathname, search } = useLocation();
  // A token acts in its own team only; one team leaves nothing to switch to.
  if (me.auth !== 'session' || me.teams.length < 2) {
    const team = me.teams.find((t) => t.id === me.teamId);
    return <span data-testid="current-team">{team?.name ?? me.teamId}</span>;
  }
  return (
    <Form method="post" action="/team" className="flex items-center gap-1" onChange={(event) => submit(event.currentTarget)} data-testid="team-switcher">
      <input type="hidden" name="returnTo" value={pathname + search} />
      <label className="sr-only" htmlFor="team-select">
        Team
      </label>
      <select id="team-select" name="teamId" defaultValue={me.teamId} key={me.teamId} className="rounded border border-slate-700 bg-slate-800 px-1.5 py-0.5 text-xs text-slate-100" data-testid="current-team">
        {me.teams.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </select>
      <noscript>
        <button type="submit" className="rounded px-1.5 py-0.5 text-slate-300 hover:bg-slate-800 hover:text-white">
          Switch
        </button>
      </noscript>
    </Form>
  );
}

function TopNav() {
  // Undefined when the root loader did not run or failed (the API is down): then who is signed in is not known.
  const rootData = useRouteLoaderData<typeof loader>('root');
  const { pathname } = useLocation();
  return (
    <header className="border-b border-slate-800 bg-slate-900">
      <nav aria-label="Main" className="mx-auto flex h-11 max-w-7xl items-center gap-3 px-4">
        <Link to="/" className="rounded font-semibold tracking-tight text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-400">
          Drydock
        </Link>
        <div className="flex items-center gap-0.5">
          {SECTIONS.map(({ to, label, also }) => (
            <NavLink key={to} to={to} className={({ isActive }) => navClass({ isActive: also ? also(pathname) : isActive })}>
              {label}
            </NavLink>
          ))}
        </div>
        {rootData?.me ? (
          // The team and the pages of one's own access, beside who is signed in (kept apart: tests read that as text).
          <div className="ml-auto flex shrink-0 items-center gap-1 text-xs text-slate-400">
            <TeamSwitcher me={rootData.me} />
            {ACCOUNT_LINKS.filter((l) => !l.admin || rootData.me?.role === 'admin').map(({ to, label, title, testId }) => (
              <NavLink key={to} to={to} className={accountLinkClass} title={title} data-testid={testId}>
                {label}
              </NavLink>
            ))}
          </div>
        ) : null}
        <div className={`${rootData?.me ? '' : 'ml-auto'} text-xs text-slate-400`} data-testid="signed-in-user">
          {rootData === undefined ? null : rootData.me ? (
            <span className="flex items-center gap-2">
              <span title={rootData.me.email}>
                <span className="text-slate-200">{rootData.me.name}</span> · {rootData.me.role}
              </span>
              {rootData.me.auth === 'session' ? (
                <Form method="post" action="/sign-out" className="flex items-center gap-1">
                  <button type="submit" className="rounded px-1.5 py-0.5 text-slate-300 hover:bg-slate-800 hover:text-white" data-testid="sign-out">
                    Sign out
                  </button>
                  <button type="submit" name="everywhere" value="yes" className="rounded px-1.5 py-0.5 text-slate-400 hover:bg-slate-800 hover:text-white" data-testid="sign-out-everywhere">
                    everywhere
                  </button>
                </Form>
              ) : null}
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
        <footer className="mx-auto max-w-7xl px-4 pb-6 text-xs text-slate-500">
          {/* Served by the API through this origin's proxy: a page load, not a client-side route. */}
          <a href="/api/v1/docs" className="hover:text-slate-700 hover:underline" data-testid="api-reference">
            API reference
          </a>
        </footer>
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
