import { useEffect, useRef } from 'react';
import { Link } from 'react-router';
import type { Route } from './+types/catalog';
import { KindBadge, NotRunnableBadge } from '../components/entry-badges.tsx';
import { ManifestProblemList } from '../components/manifest-problems.tsx';
import { RouteError } from '../components/route-error.tsx';
import { FilterBar, FilterInput, FilterSelect, useApplyFilters } from '../components/ui/filter-bar.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { DataTable, RowLink, type Column } from '../components/ui/table.tsx';
import { TagList } from '../components/ui/tag-list.tsx';
import type { CatalogProblem, CatalogView, ScriptListQuery, ScriptView } from '@drydock/core/api-schemas';
import { answer, api, result } from '../lib/api.server.ts';
import { shortVersion } from '../lib/format.ts';
import { entryHref } from '../lib/links.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Catalog · Drydock' }];

const FILTERS = ['q', 'tag', 'category'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

export async function loader({ request }: Route.LoaderArgs) {
  const url = new URL(request.url);
  const filters = Object.fromEntries(FILTERS.map((k) => [k, url.searchParams.get(k)?.trim() ?? ''])) as Filters;
  const query: ScriptListQuery = {};
  for (const k of FILTERS) if (filters[k]) query[k] = filters[k];
  const hostId = url.searchParams.get('host')?.trim() || null;
  const client = api(request);
  const [catalog, found] = await Promise.all([
    answer(client.scripts.$get({ query })),
    hostId ? result(client.hosts[':id'].$get({ param: { id: hostId } })) : null,
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
    <section role="alert" data-testid="manifest-problems" className="rounded border border-amber-300 bg-amber-50 px-4 py-3">
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
          <div className="mt-1 pl-3">
            <ManifestProblemList problems={group.problems} itemTestId="manifest-problem" />
          </div>
        </div>
      ))}
    </section>
  );
}

function Filters({ filters, facets, host }: { filters: Filters; facets: CatalogView['facets']; host: CatalogHost }) {
  const apply = useApplyFilters('/');
  const searchRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const input = searchRef.current;
    if (input && document.activeElement !== input) input.value = filters.q;
  }, [filters.q]);
  return (
    <FilterBar action="/" framed={false} filtered={FILTERS.some((k) => filters[k] !== '')} resetTo={withHost('/', host)} submitLabel="Search" resetLabel="Clear" testId="catalog-filters">
      {host ? <input type="hidden" name="host" value={host.id} /> : null}
      <FilterInput
        type="search"
        name="q"
        ref={searchRef}
        defaultValue={filters.q}
        placeholder="Search name, id, description"
        aria-label="Search the catalog"
        onChange={(e) => apply(e.currentTarget.form, true)}
        className="w-64 py-1.5"
      />
      <FilterSelect key={`tag:${filters.tag}`} name="tag" ariaLabel="Tag" value={filters.tag} anyLabel="any tag" options={facets.tags.map((t) => [t, t])} autoApply />
      <FilterSelect key={`category:${filters.category}`} name="category" ariaLabel="Category" value={filters.category} anyLabel="any category" options={facets.categories.map((c) => [c, c])} autoApply />
    </FilterBar>
  );
}

function entryColumns(host: CatalogHost): Column<ScriptView>[] {
  return [
    {
      key: 'name',
      header: 'Name',
      cell: (s) => (
        <>
          <div className="flex flex-wrap items-center gap-1.5">
            <RowLink to={withHost(entryHref(s), host)}>{s.name}</RowLink>
            <KindBadge kind={s.kind} />
            {s.runnable ? null : <NotRunnableBadge reason={s.notRunnableReason} />}
          </div>
          <div className="font-mono text-xs text-slate-500">{s.id}</div>
          {s.runnable ? null : (
            <div className="mt-0.5 text-xs text-slate-600" data-testid="not-runnable-reason">
              {s.notRunnableReason}
            </div>
          )}
        </>
      ),
    },
    { key: 'description', header: 'Description', className: 'max-w-md text-slate-700', cell: (s) => s.description },
    {
      key: 'category',
      header: 'Category',
      nowrap: true,
      cell: (s) => (
        <Link to={withHost(`/?category=${encodeURIComponent(s.category)}`, host)} className="hover:underline">
          {s.category}
        </Link>
      ),
    },
    { key: 'tags', header: 'Tags', cell: (s) => <TagList tags={s.tags} to={(t) => withHost(`/?tag=${encodeURIComponent(t)}`, host)} empty={null} /> },
    {
      key: 'source',
      header: 'Source',
      nowrap: true,
      className: 'text-xs',
      testId: 'entry-source',
      cell: (s) =>
        s.repository ? (
          <Link to={`/repositories/${encodeURIComponent(s.repository.id)}`} className="hover:underline">
            {s.repository.name}
          </Link>
        ) : (
          <span className="text-slate-500">action template</span>
        ),
    },
    { key: 'runs', header: 'Runs', numeric: true, testId: 'usage-count', cell: (s) => s.usageCount },
    {
      key: 'version',
      header: 'Version',
      mono: true,
      nowrap: true,
      cell: (s) => (
        <abbr title={s.version} className="no-underline">
          {shortVersion(s.version)}
        </abbr>
      ),
    },
  ];
}

export default function CatalogPage({ loaderData }: Route.ComponentProps) {
  const { filters, scripts, problems, facets, host, hostMissing } = loaderData;
  const filtered = FILTERS.some((k) => filters[k] !== '');
  const count = `${scripts.length} ${scripts.length === 1 ? 'entry' : 'entries'}`;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <PageHeader
          title="Catalog"
          note={host ? `${count} can run on ${host.name}` : filtered ? `${count} match these filters` : `${count}: scripts from repositories and action templates`}
          noteTestId="catalog-count"
        />
        <Filters filters={filters} facets={facets} host={host} />
      </div>

      {host ? (
        <Notice tone="info" testId="catalog-host" data-host-id={host.id}>
          Choose what to run on <span className="font-medium">{host.name}</span>: the entries below need no host tag it lacks, and their run form starts with it
          selected.{' '}
          <Link to={`/hosts/${encodeURIComponent(host.id)}`} className="underline">
            Back to the host
          </Link>{' '}
          ·{' '}
          <Link to="/" className="underline">
            Any host
          </Link>
        </Notice>
      ) : hostMissing ? (
        <Notice tone="warning" role="alert">
          There is no host <span className="font-mono">{hostMissing}</span>: showing the whole catalog.
        </Notice>
      ) : null}

      {problems.length > 0 ? <ProblemsPanel problems={problems} /> : null}

      <DataTable
        rows={scripts}
        columns={entryColumns(host)}
        rowKey={(s) => `${s.kind}:${s.id}`}
        row={(s) => ({ 'data-testid': 'script-row', 'data-script-id': s.id, 'data-kind': s.kind, 'data-runnable': s.runnable })}
        testId="script-list"
        empty={filtered ? 'Nothing matches these filters.' : host ? `Every entry needs a host tag that ${host.name} lacks.` : 'The catalog is empty: add a repository or create an action.'}
      />
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
