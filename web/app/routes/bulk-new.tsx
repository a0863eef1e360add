import { Link } from 'react-router';
import type { Route } from './+types/bulk-new';
import { BulkForm } from '../components/bulk-form.tsx';
import { KindBadge } from '../components/entry-badges.tsx';
import { EntryFacts } from '../components/entry-facts.tsx';
import { RouteError } from '../components/route-error.tsx';
import { OlderVersionNotice } from '../components/older-version-notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { entryHref, scriptVersionHref } from '../lib/links.ts';
import { useMayRun } from '../lib/me.ts';
import { Notice } from '../components/ui/notice.tsx';
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
  const mayRun = useMayRun();
  const single = olderVersion ? scriptVersionHref(entry.id, olderVersion) : entryHref(entry);
  return (
    <div className="space-y-4">
      <PageHeader
        crumbs={[{ label: 'Bulk runs', to: '/bulk' }, { label: 'new' }]}
        title={
          <>
            Run{' '}
            <Link to={single} className="hover:underline">
              {entry.name}
            </Link>{' '}
            on many hosts
          </>
        }
        badges={entry.kind === 'action' ? <KindBadge kind="action" /> : null}
        description={
          <>
            Choose the hosts, then preview: nothing starts until you confirm. Each host gets an ordinary run with its own log.{' '}
            <Link to={single} className="text-blue-700 hover:underline">
              Run on one host instead
            </Link>
          </>
        }
      />

      <div className="grid gap-5 lg:grid-cols-[1fr_20rem]">
        {mayRun ? (
          <BulkForm
            key={entry.version}
            entry={entry}
            hosts={hosts}
            target={target}
            result={actionData}
            notice={
              olderVersion ? (
                <OlderVersionNotice version={olderVersion} current={{ to: `/bulk/new?scriptId=${encodeURIComponent(entry.id)}`, label: 'Use the current version' }} />
              ) : null
            }
          />
        ) : (
          <Notice tone="muted" testId="run-not-allowed">
            Your role in this team is viewer: an operator or above can run this {entry.kind} on many hosts.
          </Notice>
        )}
        <EntryFacts entry={entry} />
      </div>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
