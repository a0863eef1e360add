import { Link } from 'react-router';
import type { Route } from './+types/script';
import { EntryFacts } from '../components/entry-facts.tsx';
import { NotRunnableBadge } from '../components/entry-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { RunForm } from '../components/run-form.tsx';
import { VersionHistory } from '../components/version-history.tsx';
import type { ScriptDetail, ScriptVersionView } from '../lib/api-views.ts';
import { formatDateTime, shortVersion } from '../lib/format.ts';
import { bulkNewHref } from '../lib/links.ts';
import { loadScriptPage, runScript } from './script.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `${loaderData?.script.name ?? 'Script'} · Drydock` }];

export async function loader({ request, params }: Route.LoaderArgs) {
  return loadScriptPage(request, params.id);
}

export async function action({ request, params }: Route.ActionArgs) {
  return runScript(request, params.id);
}

function OlderVersionNotice({ script, versions }: { script: ScriptDetail; versions: ScriptVersionView[] | null }) {
  const committed = versions?.find((v) => v.version === script.version)?.committedAt;
  return (
    <div role="status" data-testid="version-banner" className="mb-3 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
      You are about to run version{' '}
      <abbr title={script.version} className="font-mono font-semibold no-underline">
        {shortVersion(script.version)}
      </abbr>
      {committed ? ` from ${formatDateTime(committed)} UTC` : ''}, not the current one.{' '}
      <Link to={`/scripts/${encodeURIComponent(script.id)}`} className="underline">
        Back to the current version
      </Link>
    </div>
  );
}

export default function ScriptPage({ loaderData, actionData }: Route.ComponentProps) {
  const { script, versions, versionsProblem, hosts } = loaderData;
  const older = !script.current;
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <p className="text-xs text-slate-500">
            <Link to="/" className="hover:underline">
              Catalog
            </Link>{' '}
            / {script.category}
          </p>
          <h1 className="flex items-center gap-2 text-lg font-semibold">
            {script.name}
            {script.runnable ? null : <NotRunnableBadge reason={script.notRunnableReason} />}
          </h1>
          {script.description ? <p className="mt-1 max-w-3xl text-sm text-slate-600">{script.description}</p> : null}
        </div>
        <Link
          to={bulkNewHref({ kind: 'script', id: script.id }, older ? script.version : undefined)}
          data-testid="run-on-many"
          className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100"
        >
          Run on many hosts
        </Link>
      </div>

      <div className="grid gap-5 lg:grid-cols-[1fr_20rem]">
        <RunForm
          key={script.version}
          entry={script}
          hosts={hosts}
          failure={actionData}
          hidden={older ? { scriptVersion: script.version } : {}}
          notice={older ? <OlderVersionNotice script={script} versions={versions} /> : null}
          submitLabel={older ? `Run version ${shortVersion(script.version)}` : 'Run script'}
        />
        <EntryFacts
          entry={script}
          extra={[['State', older ? <span className="font-medium text-amber-800">older version</span> : 'current version', 'entry-state']]}
          footer={
            <Link to={`/runs?script=${encodeURIComponent(script.id)}`} className="text-blue-700 hover:underline">
              Past runs of this script →
            </Link>
          }
        />
      </div>

      <section>
        <h2 className="mb-2 text-sm font-semibold">Version history</h2>
        {versions ? (
          <VersionHistory scriptId={script.id} versions={versions} viewing={script.version} />
        ) : (
          <p role="status" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
            The version history could not be read: {versionsProblem}
          </p>
        )}
      </section>

      {script.scriptContent !== null ? (
        <details className="rounded border border-slate-200 bg-white" data-testid="script-source">
          <summary className="cursor-pointer px-4 py-2 text-sm font-semibold">
            Script source <span className="font-normal text-slate-500">at {shortVersion(script.version)}</span>
          </summary>
          <pre className="max-h-[32rem] overflow-auto border-t border-slate-200 bg-slate-950 px-4 py-3 font-mono text-xs leading-5 text-slate-100">{script.scriptContent}</pre>
        </details>
      ) : null}
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  return <RouteError error={error} />;
}
