import type { ReactNode } from 'react';
import { Link } from 'react-router';

export interface PageLink {
  to: string;
  label: string;
  testId?: string;
}

/** Below a list: how much is shown, and the links to the pages around it (cursor pages: first and next). */
export function Pagination({ summary, links }: { summary: ReactNode; links: (PageLink | null)[] }) {
  return (
    <nav className="mt-3 flex items-center justify-between text-sm" aria-label="Pages">
      <span className="text-slate-500">{summary}</span>
      <span className="flex gap-4">
        {links
          .filter((l): l is PageLink => l !== null)
          .map((l) => (
            <Link key={l.to + l.label} to={l.to} className="text-blue-700 hover:underline" data-testid={l.testId}>
              {l.label}
            </Link>
          ))}
      </span>
    </nav>
  );
}
