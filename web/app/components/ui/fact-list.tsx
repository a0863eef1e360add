import { createContext, useContext, type ReactNode } from 'react';

type Layout = 'grid' | 'rows';

const LayoutContext = createContext<Layout>('grid');

const GRID_COLUMNS = { 4: 'grid-cols-2 sm:grid-cols-4', 6: 'grid-cols-2 sm:grid-cols-3 lg:grid-cols-6' };
const TERM_WIDTH = { narrow: 'grid-cols-[6.5rem_1fr]', wide: 'grid-cols-[10rem_1fr]' };

interface FactListProps {
  /** `grid`: facts side by side, each term above its value (a run's or host's summary); `rows`: term beside value, one fact a line. */
  layout?: Layout;
  columns?: 4 | 6;
  termWidth?: 'narrow' | 'wide';
  /** A box of its own; off when the list sits inside a panel. */
  framed?: boolean;
  testId?: string;
  children: ReactNode;
}

/** Facts about one thing, as a description list. */
export function FactList({ layout = 'grid', columns = 6, termWidth = 'narrow', framed = layout === 'grid', testId, children }: FactListProps) {
  const frame = framed ? 'rounded border border-slate-200 bg-white px-4 py-3' : '';
  const look = layout === 'grid' ? `grid gap-x-6 gap-y-3 ${GRID_COLUMNS[columns]}` : `grid gap-x-3 gap-y-1.5 text-sm ${TERM_WIDTH[termWidth]}`;
  return (
    <LayoutContext.Provider value={layout}>
      <dl className={`${look} ${frame}`} data-testid={testId}>
        {children}
      </dl>
    </LayoutContext.Provider>
  );
}

/** One fact; `wrap` lets a long value take more lines instead of being cut short. */
export function Fact({ term, children, testId, wrap = false }: { term: string; children: ReactNode; testId?: string; wrap?: boolean }) {
  const layout = useContext(LayoutContext);
  if (layout === 'rows') {
    return (
      <div className="contents">
        <dt className="text-slate-500">{term}</dt>
        <dd className="min-w-0" data-testid={testId}>
          {children}
        </dd>
      </div>
    );
  }
  return (
    <div className="min-w-0">
      <dt className="text-xs text-slate-500">{term}</dt>
      <dd className={`text-sm ${wrap ? '' : 'truncate'}`} data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

/** The mark of a fact that has no value. */
export const noValue = <span className="text-slate-400">—</span>;
