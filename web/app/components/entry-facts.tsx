import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { ScriptView } from '../lib/api-views.ts';
import { formatSeconds, shortVersion } from '../lib/format.ts';

export type Fact = [term: string, value: ReactNode, testId?: string];

function Chips({ items, to }: { items: string[]; to?: (item: string) => string }) {
  if (items.length === 0) return <>—</>;
  return (
    <span className="flex flex-wrap gap-1">
      {items.map((t) =>
        to ? (
          <Link key={t} to={to(t)} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs hover:bg-slate-200">
            {t}
          </Link>
        ) : (
          <span key={t} className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs">
            {t}
          </span>
        ),
      )}
    </span>
  );
}

function quoted(items: string[]): string {
  return items.map((s) => `“${s}”`).join(', ');
}

/** How the run is judged: exit codes, required and forbidden output, a time limit. */
export function SuccessCriteria({ criteria }: { criteria: ScriptView['successCriteria'] }) {
  return (
    <ul className="space-y-0.5 text-xs" data-testid="success-criteria">
      <li>
        exit code <span className="font-mono">{criteria.exit_codes.join(', ')}</span>
      </li>
      {criteria.output_contains.length > 0 ? <li>output contains {quoted(criteria.output_contains)}</li> : null}
      {criteria.output_not_contains.length > 0 ? <li>output lacks {quoted(criteria.output_not_contains)}</li> : null}
      {criteria.max_execution_time !== undefined ? <li>finishes within {formatSeconds(criteria.max_execution_time)}</li> : null}
    </ul>
  );
}

/** The facts panel beside a run form: where the entry comes from, how it runs, and how success is judged. */
export function EntryFacts({ entry, extra = [], footer }: { entry: ScriptView; extra?: Fact[]; footer?: ReactNode }) {
  const facts: Fact[] = [
    ['Id', <span className="font-mono">{entry.id}</span>],
    [
      entry.kind === 'action' ? 'Revision' : 'Version',
      <abbr title={entry.version} className="font-mono no-underline">
        {shortVersion(entry.version)}
      </abbr>,
      'entry-version',
    ],
    ...extra,
  ];
  if (entry.repository) {
    facts.push([
      'Repository',
      <Link to={`/repositories/${encodeURIComponent(entry.repository.id)}`} className="text-blue-700 hover:underline">
        {entry.repository.name}
      </Link>,
      'entry-repository',
    ]);
  }
  if (entry.file) facts.push(['File', <span className="font-mono text-xs break-all">{entry.file}</span>, 'entry-file']);
  if (entry.interpreter) facts.push(['Interpreter', <span className="font-mono">{entry.interpreter}</span>]);
  // An action's page shows its command in full above the form.
  if (entry.commandTemplate && entry.kind === 'script') facts.push(['Command', <code className="font-mono text-xs break-all">{entry.commandTemplate}</code>, 'entry-command']);
  facts.push(
    ['Runner', <span className="font-mono">{entry.runner}</span>, 'entry-runner'],
    ['Category', entry.category],
    ['Timeout', formatSeconds(entry.timeout)],
    ['Retries', String(entry.retries)],
    ['Host lock', entry.requiresLock ? 'one run per host at a time' : 'no'],
    ['Success', <SuccessCriteria criteria={entry.successCriteria} />],
    ['Host tags', <Chips items={entry.hostTags} />, 'entry-host-tags'],
    ['Tags', <Chips items={entry.tags} to={(t) => `/?tag=${encodeURIComponent(t)}`} />],
    ['Runs', String(entry.usageCount)],
  );
  return (
    <aside className="self-start rounded border border-slate-200 bg-white p-4 text-sm" data-testid="entry-facts">
      <dl className="grid grid-cols-[6.5rem_1fr] gap-x-3 gap-y-1.5">
        {facts.map(([term, value, testId]) => (
          <div key={term} className="contents">
            <dt className="text-slate-500">{term}</dt>
            <dd className="min-w-0" data-testid={testId}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
      {footer ? <div className="mt-4 border-t border-slate-100 pt-3 text-xs">{footer}</div> : null}
    </aside>
  );
}
