import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { ScriptView } from '@drydock/core/api-schemas';
import { formatSeconds } from '../lib/format.ts';
import { ShortSha } from './short-sha.tsx';
import { Fact, FactList } from './ui/fact-list.tsx';
import { TagList } from './ui/tag-list.tsx';

export type Fact = [term: string, value: ReactNode, testId?: string];

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
      <ShortSha sha={entry.version} />,
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
    ['Host tags', <TagList tags={entry.hostTags} empty="—" />, 'entry-host-tags'],
    ['Tags', <TagList tags={entry.tags} to={(t) => `/?tag=${encodeURIComponent(t)}`} empty="—" />],
    ['Runs', String(entry.usageCount)],
  );
  return (
    <aside className="self-start rounded border border-slate-200 bg-white p-4 text-sm" data-testid="entry-facts">
      <FactList layout="rows">
        {facts.map(([term, value, testId]) => (
          <Fact key={term} term={term} testId={testId}>
            {value}
          </Fact>
        ))}
      </FactList>
      {footer ? <div className="mt-4 border-t border-slate-100 pt-3 text-xs">{footer}</div> : null}
    </aside>
  );
}
