import { Link } from 'react-router';
import type { Route } from './+types/bulk-new';
import { BulkForm } from '../components/bulk-form.tsx';
import { KindBadge } from '../components/entry-badges.tsx';
import { EntryFacts } from '../components/entry-facts.tsx';
import { RouteError } from '../components/route-error.tsx';
import { shortVersion } from '../lib/format.ts';
import { entryHref, scriptVersionHref } from '../lib/links.ts';
import { loadBulkForm, previewOrStart } from './bulk-new.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `${loaderData ? `${loaderData.entry.name} on many hosts` : 'Run on many hosts'} · Drydock` }];

export async function loader({ request }: Route.LoaderArgs) {
  return loadBulkForm(request);
}

export async function action({ request }: Route.ActionArgs) {
  return previewOrStart(request);
}

export default function NewBulkPage({ loaderData, actionData }: Route.ComponentProps) {
  const { entry, hosts, target, olderVersion } = loaderData;
  const single = olderVersion ? scriptVersionHref(entry.id, olderVersion) : entryHref(entry);
  return (
    <div className="space-y-4">
      <div>
        <p className="text-xs text-slate-500">
          <Link to="/bulk" className="hover:underline">
            Bulk runs
          </Link>{' '}
          / new
        </p>
        <h1 className="flex items-center gap-2 text-lg font-semibold">
          Run{' '}
          <Link to={single} className="hover:underline">
            {entry.name}
          </Link>{' '}
          on many hosts
          {entry.kind === 'action' ? <KindBadge kind="action" /> : null}
        </h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-600">
          Choose the hosts, then preview: nothing starts until you confirm. Each host gets an ordinary run with its own log.{' '}
          <Link to={single} className="text-blue-700 hover:underline">
            Run on one host instead
          </Link>
        </p>
      </div>

      <div className="grid gap-5 lg:grid-cols-[1fr_20rem]">
        <BulkForm
          key={entry.version}
          entry={entry}
          hosts={hosts}
          target={target}
          result={actionData}
          notice={
            olderVersion ? (
              <div role="status" data-testid="version-banner" className="mb-3 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
                You are about to run version{' '}
                <abbr title={olderVersion} className="font-mono font-semibold no-underline">
                  {shortVersion(olderVersion)}
                </abbr>
                , not the current one.{' '}
                <Link to={`/bulk/new?scriptId=${encodeURIComponent(entry.id)}`} className="underline">
                  Use the current version
                </Link>
              </div>
            ) : null
          }
        />
        <EntryFacts entry={entry} />
      </div>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
