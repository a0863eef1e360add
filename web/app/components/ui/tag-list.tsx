import type { ReactNode } from 'react';
import { Link } from 'react-router';

interface TagListProps {
  tags: readonly string[];
  /** Where a tag leads (the list filtered by it); plain chips without. */
  to?: (tag: string) => string;
  empty?: ReactNode;
}

/** Tags as chips; with `to`, each one a link to what else carries it. */
export function TagList({ tags, to, empty = <span className="text-slate-400">—</span> }: TagListProps) {
  if (tags.length === 0) return <>{empty}</>;
  return (
    <span className="flex flex-wrap gap-1">
      {tags.map((t) =>
        to ? (
          <Link key={t} to={to(t)} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 hover:bg-slate-200">
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
