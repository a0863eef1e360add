import type { CatalogProblem } from '@drydock/core/api-schemas';

type Problem = Pick<CatalogProblem, 'file' | 'line' | 'message'>;

/** Manifest problems as `file:line — message`, one a line, as the catalog and a repository's page list them. */
export function ManifestProblemList({ problems, testId, itemTestId }: { problems: readonly Problem[]; testId?: string; itemTestId: string }) {
  return (
    <ul className="space-y-1 font-mono text-xs text-amber-900" data-testid={testId}>
      {problems.map((p, i) => (
        <li key={`${p.file}:${p.line ?? ''}:${i}`} data-testid={itemTestId}>
          <span className="font-semibold">
            {p.file}
            {p.line !== undefined ? `:${p.line}` : ''}
          </span>{' '}
          — {p.message}
        </li>
      ))}
    </ul>
  );
}
