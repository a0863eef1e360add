import { Link } from 'react-router';
import type { Route } from './+types/script';
import { EntryFacts } from '../components/entry-facts.tsx';
import { NotRunnableBadge } from '../components/entry-badges.tsx';
import { RouteError } from '../components/route-error.tsx';
import { RunForm } from '../components/run-form.tsx';
import { OlderVersionNotice } from '../components/older-version-notice.tsx';
import { ButtonLink } from '../components/ui/button.tsx';
import { Notice } from '../components/ui/notice.tsx';
import { PageHeader } from '../components/ui/page-header.tsx';
import { Section } from '../components/ui/panel.tsx';
import { VersionHistory } from '../components/version-history.tsx';
import type { ScriptDetail, ScriptVersionView } from '@drydock/core/api-schemas';
import { shortVersion } from '../lib/format.ts';
import { bulkNewHref } from '../lib/links.ts';
import { useMayRun } from '../lib/me.ts';
import { loadScriptPage, runScript } from './script.server.ts';

export const meta: Route.MetaFunction = ({ loaderData }) => [{ title: `${loaderData?.script.name ?? 'Script'} · Drydock` }];

export async function loader({ request, params }: Route.LoaderArgs) {
  return loadScriptPage(request, params.id);
}

export async function action({ request, params }: Route.ActionArgs) {
  return runScript(request, params.id);
}

function OlderVersion({ script, versions }: { script: ScriptDetail; versions: ScriptVersionView[] | null }) {
  const committed = versions?.find((v) => v.version === script.version)?.committedAt;
  return <OlderVersionNotice version={script.version} committedAt={committed} current={{ to: `/scripts/${encodeURIComponent(script.id)}`, label: 'Back to the current version' }} />;
}

export default function ScriptPage({ loaderData, actionData }: Route.ComponentProps) {
  const { script, versions, versionsProblem, hosts } = loaderData;
  const older = !script.current;
  const mayRun = useMayRun();
  return (
    <div className="space-y-6">
      <PageHeader
        crumbs={[{ label: 'Catalog', to: '/' }, { label: script.category }]}
        title={script.name}
        badges={script.runnable ? null : <NotRunnableBadge reason={script.notRunnableReason} />}
        description={script.description || undefined}
        actions={
          mayRun ? (
            <ButtonLink to={bulkNewHref({ kind: 'script', id: script.id }, older ? script.version : undefined)} testId="run-on-many">
              Run on many hosts
            </ButtonLink>
          ) : null
        }
      />

      <div className="grid gap-5 lg:grid-cols-[1fr_20rem]">
        <RunForm
          key={script.version}
          entry={script}
          hosts={hosts}
          failure={actionData}
          hidden={older ? { scriptVersion: script.version } : {}}
          notice={older ? <OlderVersion script={script} versions={versions} /> : null}
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

      <Section title="Version history">
        {versions ? (
          <VersionHistory scriptId={script.id} versions={versions} viewing={script.version} />
        ) : (
          <Notice tone="warning">The version history could not be read: {versionsProblem}</Notice>
        )}
      </Section>

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
