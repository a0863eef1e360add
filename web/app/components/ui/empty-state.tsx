import type { ReactNode } from 'react';

/** What a list says when it has nothing to show: why, and where to go from here. */
export function EmptyState({ children, testId, compact = false }: { children: ReactNode; testId?: string; compact?: boolean }) {
  return (
    <p data-testid={testId} className={`rounded border border-dashed border-slate-300 bg-white px-4 text-center text-sm text-slate-500 ${compact ? 'py-6' : 'py-8'}`}>
      {children}
    </p>
  );
}
