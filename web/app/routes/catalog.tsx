import type { ScriptView } from '@drydock/core/api-schemas';
import { useEffect, useRef } from 'react';
import { Form, Link, useSubmit } from 'react-router';
import type { Route } from './+types/catalog';
import { RouteError } from '../components/route-error.tsx';
import { getFromApi } from '../lib/api.server.ts';

interface ManifestProblem {
  file: string;
  line?: number;
  message: string;
}

interface Catalog {
  scripts: ScriptView[];
  problems: ManifestProblem[];
}

export const meta: Route.MetaFunction = () => [{ title: 'Catalog · Drydock' }];

function matches(script: ScriptView, q: string): boolean {
  const needle = q.toLowerCase();
  return [script.name, script.id, script.category, ...script.tags].some((field) => field.toLowerCase().includes(needle));
}

export async function loader({ request }: Route.LoaderArgs) {
  const q = new URL(request.url).searchParams.get('q')?.trim() ?? '';
  const { scripts, problems } = await getFromApi<Catalog>(request, '/api/v1/scripts');
  return { q, total: scripts.length, scripts: q ? scripts.filter((s) => matches(s, q)) : scripts, problems };
}

function ProblemsPanel({ problems }: { problems: ManifestProblem[] }) {
  return (
    <section role="alert" data-testid="manifest-problems" className="mb-4 rounded border border-amber-300 bg-amber-50 px-4 py-3">
      <h2 className="text-sm font-semibold text-amber-900">
        {problems.length} manifest {problems.length === 1 ? 'problem' : 'problems'} found while loading the catalog
      </h2>
      <ul className="mt-2 space-y-1 font-mono text-xs text-amber-900">
        {problems.map((p, i) => (
          <li key={`${p.file}:${p.line ?? ''}:${i}`} data-testid="manifest-problem">
            <span className="font-semibold">
              {p.file}
              {p.line !== undefined ? `:${p.line}` : ''}
            </span>{' '}
            — {p.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

export default function CatalogPage({ loaderData }: Route.ComponentProps) {
  const { q, total, scripts, problems } = loaderData;
  const submit = useSubmit();
  const searchRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const input = searchRef.current;
    if (input && document.activeElement !== input) input.value = q;
  }, [q]);
  return (
    <div>
      <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-lg font-semibold">Catalog</h1>
          <p className="text-xs text-slate-500">
            {q ? `${scripts.length} of ${total} scripts match “${q}”` : `${total} scripts`}
          </p>
        </div>
        <Form method="get" role="search" className="flex items-center gap-2">
          <input
            type="search"
            name="q"
            ref={searchRef}
            defaultValue={q}
            placeholder="Filter by name, tag or category"
            aria-label="Filter scripts"
            onChange={(e) => void submit(e.currentTarget.form, { replace: true })}
            className="w-72 rounded border border-slate-300 bg-white px-2.5 py-1.5 text-sm shadow-xs focus:border-slate-500 focus:outline-none"
          />
          <button type="submit" className="rounded bg-slate-800 px-3 py-1.5 text-sm text-white hover:bg-slate-700">
            Search
          </button>
          {q ? (
            <Link to="/" className="text-sm text-slate-600 underline">
              Clear
            </Link>
          ) : null}
        </Form>
      </div>

      {problems.length > 0 ? <ProblemsPanel problems={problems} /> : null}

      {scripts.length === 0 ? (
        <p className="rounded border border-dashed border-slate-300 bg-white px-4 py-8 text-center text-sm text-slate-500">
          {q ? 'No script matches this filter.' : 'The catalog has no valid scripts yet.'}
        </p>
      ) : (
        <div className="overflow-x-auto rounded border border-slate-200 bg-white">
          <table className="w-full text-left text-sm" data-testid="script-list">
            <thead className="border-b border-slate-200 bg-slate-100 text-xs uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-3 py-2 font-medium">Script</th>
                <th className="px-3 py-2 font-medium">Description</th>
                <th className="px-3 py-2 font-medium">Category</th>
                <th className="px-3 py-2 font-medium">Tags</th>
                <th className="px-3 py-2 font-medium">Interpreter</th>
                <th className="px-3 py-2 font-medium">Version</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {scripts.map((s) => (
                <tr key={s.id} data-testid="script-row" data-script-id={s.id} className="align-top hover:bg-slate-50">
                  <td className="px-3 py-2">
                    <Link to={`/scripts/${encodeURIComponent(s.id)}`} className="font-medium text-blue-700 hover:underline">
                      {s.name}
                    </Link>
                    <div className="font-mono text-xs text-slate-500">{s.id}</div>
                  </td>
                  <td className="max-w-md px-3 py-2 text-slate-700">{s.description}</td>
                  <td className="px-3 py-2 whitespace-nowrap">{s.category}</td>
                  <td className="px-3 py-2">
                    <div className="flex flex-wrap gap-1">
                      {s.tags.map((t) => (
                        <Link
                          key={t}
                          to={`/?q=${encodeURIComponent(t)}`}
                          className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 hover:bg-slate-200"
                        >
                          {t}
                        </Link>
                      ))}
                    </div>
                  </td>
                  <td className="px-3 py-2 font-mono text-xs">{s.interpreter}</td>
                  <td className="px-3 py-2 font-mono text-xs whitespace-nowrap" title={s.version}>
                    {s.version.length > 12 ? s.version.slice(0, 12) : s.version}
                  </td>
                </tr>
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
