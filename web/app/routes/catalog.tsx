import { useEffect, useRef, type FormEvent } from 'react';
import { Form, Link, useSubmit } from 'react-router';
import type { Route } from './+types/catalog';
import { KindBadge, NotRunnableBadge } from '../components/entry-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { callApi, getFromApi } from '../lib/api.server.ts';
import type { CatalogProblem, CatalogView, HostView, ScriptView } from '../lib/api-views.ts';
import { hostPath } from '../lib/hosts.server.ts';
import { shortVersion } from '../lib/format.ts';
import { entryHref, filledFields } from '../lib/links.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Catalog · Drydock' }];

const FILTERS = ['q', 'tag', 'category'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

export async function loader({ request }: Route.LoaderArgs) {
  const url = new URL(request.url);
  const filters = Object.fromEntries(FILTERS.map((k) => [k, url.searchParams.get(k)?.trim() ?? ''])) as Filters;
  const query = new URLSearchParams();
  for (const k of FILTERS) if (filters[k]) query.set(k, filters[k]);
  const hostId = url.searchParams.get('host')?.trim() || null;
  const [catalog, found] = await Promise.all([
    getFromApi<CatalogView>(request, `/api/v1/scripts${query.size > 0 ? `?${query}` : ''}`),
    hostId ? callApi<HostView>(request, hostPath(hostId)) : null,
  ]);
  const host = found?.ok ? { id: found.body.id, name: found.body.name, tags: found.body.tags } : null;
  // Opened from a host's "Run a script here": only what that host carries the tags for.
  const scripts = host ? catalog.scripts.filter((s) => s.hostTags.every((t) => host.tags.includes(t))) : catalog.scripts;
  return { filters, ...catalog, scripts, host, hostMissing: hostId !== null && host === null ? hostId : null };
}

type CatalogHost = { id: string; name: string } | null;

/** A catalog link that keeps the host the catalog was opened for. */
function withHost(href: string, host: CatalogHost): string {
  if (!host) return href;
  return `${href}${href.includes('?') ? '&' : '?'}host=${encodeURIComponent(host.id)}`;
}

function ProblemsPanel({ problems }: { problems: CatalogProblem[] }) {
  const byRepository = new Map<string, { name: string; problems: CatalogProblem[] }>();
  for (const p of problems) {
    const group = byRepository.get(p.repository.id) ?? { name: p.repository.name, problems: [] };
    group.problems.push(p);
    byRepository.set(p.repository.id, group);
  }
  return (
    <section role="alert" data-testid="manifest-problems" className="mb-4 rounded border border-amber-300 bg-amber-50 px-4 py-3">
      <h2 className="text-sm font-semibold text-amber-900">
        {problems.length} manifest {problems.length === 1 ? 'problem' : 'problems'} found while loading the catalog
      </h2>
      {[...byRepository].map(([id, group]) => (
        <div key={id} className="mt-2" data-testid="problem-repository" data-repository-id={id}>
          <h3 className="text-xs font-semibold text-amber-900">
            <Link to={`/repositories/${encodeURIComponent(id)}`} className="underline">
              {group.name}
            </Link>{' '}
            <span className="font-normal">({group.problems.length})</span>
          </h3>
          <ul className="mt-1 space-y-1 pl-3 font-mono text-xs text-amber-900">
            {group.problems.map((p, i) => (
              <li key={`${p.file}:${p.line ?? ''}:${i}`} data-testid="manifest-problem">
                <span className="font-semibold">
                  {p.file}
                  {p.line !== undefined ? `:${p.line}` : ''}
                </span>{' '}
                — {p.message}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

const fieldClass = 'rounded border border-slate-300 bg-white px-2.5 py-1.5 text-sm shadow-xs focus:border-slate-500 focus:outline-none';

function Filters({ filters, facets, host }: { filters: Filters; facets: CatalogView['facets']; host: CatalogHost }) {
  const submit = useSubmit();
  const searchRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const input = searchRef.current;
    if (input && document.activeElement !== input) input.value = filters.q;
  }, [filters.q]);
  const filtered = FILTERS.some((k) => filters[k] !== '');
  const apply = (form: HTMLFormElement | null, replace = false) => {
    if (form) void submit(filledFields(form), { method: 'get', action: '/', replace });
  };
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    apply(event.currentTarget);
  }
  return (
    // A plain GET form: without JS, Search puts the same filters in the URL.
    <Form method="get" role="search" onSubmit={onSubmit} className="flex flex-wrap items-center gap-2" data-testid="catalog-filters">
      {host ? <input type="hidden" name="host" value={host.id} /> : null}
      <input
        type="search"
        name="q"
        ref={searchRef}
        defaultValue={filters.q}
        placeholder="Search name, id, description"
        aria-label="Search the catalog"
        onChange={(e) => apply(e.currentTarget.form, true)}
        className={`${fieldClass} w-64`}
      />
      <select
        name="tag"
        key={`tag:${filters.tag}`}
        defaultValue={filters.tag}
        aria-label="Tag"
        onChange={(e) => apply(e.currentTarget.form)}
        className={fieldClass}
      >
        <option value="">any tag</option>
        {facets.tags.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      <select
        name="category"
        key={`category:${filters.category}`}
        defaultValue={filters.category}
        aria-label="Category"
        onChange={(e) => apply(e.currentTarget.form)}
        className={fieldClass}
      >
        <option value="">any category</option>
        {facets.categories.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      <button type="submit" className="rounded bg-slate-800 px-3 py-1.5 text-sm text-white hover:bg-slate-700">
        Search
      </button>
      {filtered ? (
        <Link to={withHost('/', host)} className="text-sm text-slate-600 underline">
          Clear
        </Link>
      ) : null}
    </Form>
  );
}

function EntryRow({ entry: s, host }: { entry: ScriptView; host: CatalogHost }) {
  return (
    <tr data-testid="script-row" data-script-id={s.id} data-kind={s.kind} data-runnable={s.runnable} className="align-top hover:bg-slate-50">
      <td className="px-3 py-2">
        <div className="flex flex-wrap items-center gap-1.5">
          <Link to={withHost(entryHref(s), host)} className="font-medium text-blue-700 hover:underline">
            {s.name}
          </Link>
          <KindBadge kind={s.kind} />
          {s.runnable ? null : <NotRunnableBadge reason={s.notRunnableReason} />}
        </div>
        <div className="font-mono text-xs text-slate-500">{s.id}</div>
        {s.runnable ? null : (
          <div className="mt-0.5 text-xs text-slate-600" data-testid="not-runnable-reason">
            {s.notRunnableReason}
          </div>
        )}
      </td>
      <td className="max-w-md px-3 py-2 text-slate-700">{s.description}</td>
      <td className="px-3 py-2 whitespace-nowrap">
        <Link to={withHost(`/?category=${encodeURIComponent(s.category)}`, host)} className="hover:underline">
          {s.category}
        </Link>
      </td>
      <td className="px-3 py-2">
        <div className="flex flex-wrap gap-1">
          {s.tags.map((t) => (
            <Link key={t} to={withHost(`/?tag=${encodeURIComponent(t)}`, host)} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 hover:bg-slate-200">
              {t}
            </Link>
          ))}
        </div>
      </td>
      <td className="px-3 py-2 text-xs whitespace-nowrap" data-testid="entry-source">
        {s.repository ? (
          <Link to={`/repositories/${encodeURIComponent(s.repository.id)}`} className="hover:underline">
            {s.repository.name}
          </Link>
        ) : (
          <span className="text-slate-500">action template</span>
        )}
      </td>
      <td className="px-3 py-2 text-right tabular-nums" data-testid="usage-count">
        {s.usageCount}
      </td>
      <td className="px-3 py-2 font-mono text-xs whitespace-nowrap" title={s.version}>
        {shortVersion(s.version)}
      </td>
    </tr>
  );
}

export default function CatalogPage({ loaderData }: Route.ComponentProps) {
  const { filters, scripts, problems, facets, host, hostMissing } = loaderData;
  const filtered = FILTERS.some((k) => filters[k] !== '');
  const count = `${scripts.length} ${scripts.length === 1 ? 'entry' : 'entries'}`;
  return (
    <div>
      <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-lg font-semibold">Catalog</h1>
          <p className="text-xs text-slate-500" data-testid="catalog-count">
            {host ? `${count} can run on ${host.name}` : filtered ? `${count} match these filters` : `${count}: scripts from repositories and action templates`}
          </p>
        </div>
        <Filters filters={filters} facets={facets} host={host} />
      </div>

      {host ? (
        <p role="status" data-testid="catalog-host" data-host-id={host.id} className="mb-4 rounded border border-blue-200 bg-blue-50 px-3 py-2 text-sm text-blue-900">
          Choose what to run on <span className="font-medium">{host.name}</span>: the entries below need no host tag it lacks, and their run form starts with it
          selected.{' '}
          <Link to={`/hosts/${encodeURIComponent(host.id)}`} className="underline">
            Back to the host
          </Link>{' '}
          ·{' '}
          <Link to="/" className="underline">
            Any host
          </Link>
        </p>
      ) : hostMissing ? (
        <p role="alert" className="mb-4 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          There is no host <span className="font-mono">{hostMissing}</span>: showing the whole catalog.
        </p>
      ) : null}

      {problems.length > 0 ? <ProblemsPanel problems={problems} /> : null}

      {scripts.length === 0 ? (
        <p className="rounded border border-dashed border-slate-300 bg-white px-4 py-8 text-center text-sm text-slate-500">
          {filtered ? 'Nothing matches these filters.' : host ? `Every entry needs a host tag that ${host.name} lacks.` : 'The catalog is empty: add a repository or create an action.'}
        </p>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left text-sm" data-testid="script-list">
            <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-3 py-2 font-medium">Name</th>
                <th className="px-3 py-2 font-medium">Description</th>
                <th className="px-3 py-2 font-medium">Category</th>
                <th className="px-3 py-2 font-medium">Tags</th>
                <th className="px-3 py-2 font-medium">Source</th>
                <th className="px-3 py-2 text-right font-medium">Runs</th>
                <th className="px-3 py-2 font-medium">Version</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {scripts.map((s) => (
                <EntryRow key={`${s.kind}:${s.id}`} entry={s} host={host} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
